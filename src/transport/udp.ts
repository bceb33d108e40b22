import { createSocket, type Socket as DgramSocket, type RemoteInfo } from "node:dgram";
import { lookup } from "node:dns";
import { isIPv4 } from "node:net";
import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { fromSystemError, zmqError } from "../errors.js";
import type { SessionOwner } from "./session-owner.js";
import { dgramAddressFrame, parseDgramAddress, type UdpEndpoint } from "./udp-address.js";
import { decodeGroupDatagram, encodeGroupDatagram } from "./udp-datagram.js";

/** What each socket type does on udp: RADIO sends, DISH receives, DGRAM does both with addresses. */
type Role = "radio" | "dish" | "dgram";

/**
 * Which socket type may use udp, and how, as libzmq 4.3: RADIO connects, DISH and DGRAM
 * bind; anything else is ENOCOMPATPROTO.
 */
function roleOf(socketType: string, bind: boolean, address: string): Role {
  if (bind && socketType === "DISH") return "dish";
  if (bind && socketType === "DGRAM") return "dgram";
  if (!bind && socketType === "RADIO") return "radio";
  throw zmqError("ENOCOMPATPROTO", "The protocol is not compatible with the socket type", address);
}

/**
 * One udp:// endpoint: a node:dgram socket and the one pipe it feeds and drains. There is
 * no connection and no handshake: the pipe is attached as soon as the socket is open.
 * Datagrams that do not parse are dropped; so are messages the peer's libzmq could not
 * take (over 8 KiB) and, as udp goes, whatever arrives while the receive queue is full.
 */
export class UdpTransport {
  /** Resolves with the endpoint as bound (port resolved) once datagrams can flow. */
  readonly ready: Promise<string>;
  private readonly role: Role;
  private sock: DgramSocket | null = null;
  private pipe: Pipe | null = null;
  private target: { host: string; port: number } | null = null;
  private open = false;
  private closed = false;
  private flushScheduled = false;
  private inFlight = 0;
  private onIdle: (() => void) | null = null;
  private address: string;

  constructor(private readonly owner: SessionOwner, private readonly ep: UdpEndpoint, bind: boolean) {
    this.role = roleOf(owner.socketTypeName, bind, ep.address);
    this.address = ep.address;
    if (!bind) {
      // A connect has its pipe at once: sends queue on it while the socket opens.
      this.attach();
      this.ready = this.start(bind);
      this.ready.catch(() => {});
    } else {
      this.ready = this.start(bind).then((address) => {
        this.attach();
        return address;
      });
    }
  }

  private attach(): void {
    const pipe = this.owner.createPipe(this.ep.address);
    pipe.outbound.onReadable = this.scheduleFlush;
    this.pipe = pipe;
    this.owner.attachPipe(pipe);
  }

  private async start(bind: boolean): Promise<string> {
    const ep = this.ep;
    const sock = createSocket({ type: "udp4", reuseAddr: bind });
    this.sock = sock;
    sock.on("message", this.onMessage);
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once("error", reject);
        // A multicast receiver listens on the group's port on every address and joins the group.
        const host = !bind ? undefined : ep.multicast ? "0.0.0.0" : ep.host;
        sock.bind({ port: bind ? ep.port : 0, address: host }, () => {
          sock.off("error", reject);
          resolve();
        });
      });
      sock.on("error", () => {}); // e.g. ICMP unreachable on a later send: udp gives no guarantees
      if (bind && ep.multicast) sock.addMembership(ep.host, ep.iface && ep.iface !== "0.0.0.0" ? ep.iface : undefined);
      if (ep.multicast && this.role !== "dish") {
        if (ep.iface && ep.iface !== "0.0.0.0") sock.setMulticastInterface(ep.iface);
        sock.setMulticastTTL(this.owner.option<number>("multicastHops"));
        sock.setMulticastLoopback(this.owner.option<boolean>("multicastLoop") !== false);
      }
      if (!bind) this.target = { host: await resolveHost(ep.host), port: ep.port };
    } catch (e) {
      this.closeSocket();
      // Node's own errors (they name a syscall) become ours; ours pass through.
      const error = (e as NodeJS.ErrnoException).syscall ? fromSystemError(e as NodeJS.ErrnoException, ep.address) : (e as Error);
      if (bind) this.owner.emit({ type: "bind:error", address: ep.address, error } as never);
      throw error;
    }
    sock.unref();
    if (this.closed) {
      this.closeSocket();
      throw zmqError("ETERM", undefined, ep.address);
    }
    this.open = true;
    if (bind) {
      const { port } = sock.address();
      this.address = `udp://${ep.iface ? `${ep.iface === "0.0.0.0" ? "*" : ep.iface};` : ""}${ep.host === "0.0.0.0" ? "*" : ep.host}:${port}`;
      this.owner.emit({ type: "bind", address: this.address });
    }
    this.scheduleFlush();
    return this.address;
  }

  // ---- inbound -------------------------------------------------------------------

  private onMessage = (data: Buffer, from: RemoteInfo): void => {
    const pipe = this.pipe;
    if (!pipe || this.closed) return;
    let msg: Message | null;
    if (this.role === "dgram") msg = from.family === "IPv4" ? [dgramAddressFrame(from.address, from.port), data] : null;
    else if (this.role === "dish") msg = decodeGroupDatagram(data);
    else msg = null; // a RADIO's socket only sends
    if (msg) pipe.inbound.push(msg);
  };

  // ---- outbound ------------------------------------------------------------------

  private scheduleFlush = (): void => {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  };

  private flush = (): void => {
    this.flushScheduled = false;
    const pipe = this.pipe;
    if (!pipe || !this.open || !this.sock) return;
    let msg: Message | undefined;
    while ((msg = pipe.outbound.shift()) !== undefined) this.sendOne(this.sock, msg);
  };

  private sendOne(sock: DgramSocket, msg: Message): void {
    let datagram: Buffer | null = null;
    let to = this.target;
    if (this.role === "radio") {
      datagram = encodeGroupDatagram(msg);
    } else if (this.role === "dgram" && msg.length === 2) {
      to = parseDgramAddress(msg[0]!);
      datagram = msg[1]!;
    } // a DISH's JOIN/LEAVE have no meaning on udp: the dish filters what it receives
    if (!datagram || !to || datagram.length > MAX_DATAGRAM) {
      msg.tracker?.release();
      return;
    }
    this.inFlight++;
    sock.send(datagram, to.port, to.host, () => {
      msg.tracker?.release();
      if (--this.inFlight === 0 && this.onIdle) this.onIdle();
    });
  }

  // ---- closing -------------------------------------------------------------------

  /** Sends what is queued (within `lingerMs`, -1 forever), then closes; `done` is called once. */
  close(lingerMs: number, done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    if (lingerMs !== 0) this.flush();
    this.closed = true;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      this.onIdle = null;
      this.closeSocket();
      this.pipe?.terminate();
      if (this.open) this.owner.emit({ type: "close", address: this.address });
      done?.();
    };
    let timer: NodeJS.Timeout | null = null;
    if (this.inFlight === 0 || lingerMs === 0) {
      finish();
      return;
    }
    this.onIdle = finish;
    if (lingerMs > 0) timer = setTimeout(finish, Math.min(lingerMs, 2 ** 31 - 1));
  }

  private closeSocket(): void {
    const sock = this.sock;
    this.sock = null;
    this.open = false;
    if (!sock) return;
    try {
      sock.close();
    } catch {
      /* already closed */
    }
  }
}

/** libzmq's receive buffer: a datagram longer than this would reach a libzmq peer cut short. */
const MAX_DATAGRAM = 8192;

function resolveHost(host: string): Promise<string> {
  if (isIPv4(host)) return Promise.resolve(host);
  return new Promise((resolve, reject) => {
    lookup(host, { family: 4 }, (err, address) => (err ? reject(zmqError("EINVAL", "Invalid argument", host)) : resolve(address)));
  });
}
