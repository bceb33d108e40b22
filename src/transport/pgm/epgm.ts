/**
 * `epgm://` for PUB/XPUB (sender) and SUB/XSUB (receiver), over node:dgram: PGM packets
 * in UDP, as OpenPGM's UDP encapsulation (which libzmq uses for epgm) sends them.
 *
 * - The endpoint is libzmq's: `epgm://<interface>;<group>:<port>`, the interface as a
 *   name (`eth0`, `lo`) or an IPv4 address. Both UDP ports (multicast and unicast) are
 *   the endpoint's port, as libzmq sets them; upstream packets (NAKs, SPMRs) go unicast
 *   to the source's address on that port.
 * - One receiving UDP socket per port per process, bound to the wildcard address and
 *   joined to the groups, shared by every endpoint on that port (so our own PUB and SUB
 *   in one process coexist). Each endpoint sends from its own socket bound to the
 *   interface address.
 * - Node's dgram (before 22.12) has no SO_REUSEPORT, and OpenPGM binds with
 *   SO_REUSEPORT only: an OpenPGM peer and zmq-ts cannot share a port on one host (in
 *   one network namespace). Across hosts or network namespaces they interoperate.
 * - `pgm://` (PGM directly over IP, protocol 113) needs raw sockets, which Node does not
 *   offer: refused with EPROTONOSUPPORT.
 * - Unlike libzmq, multicast loopback is on, so a receiver on the same host sees us.
 */
import * as dgram from "node:dgram";
import { networkInterfaces } from "node:os";
import { randomBytes } from "node:crypto";
import { zmqError } from "../../errors.js";
import type { Pipe, PeerInfo } from "../../pipe/pipe.js";
import type { Message } from "../../pipe/msg-queue.js";
import type { Event } from "../../monitor/events.js";
import { decodePacket, type PgmPacket } from "./packet.js";
import { PgmSender } from "./sender.js";
import { PgmReceiver } from "./receiver.js";
import { TsduEncoder } from "./framing.js";

export interface PgmEndpoint {
  address: string;
  /** The interface's IPv4 address. */
  iface: string;
  group: string;
  port: number;
}

const PUB = 1, SUB = 2, XPUB = 9, XSUB = 10;

/** True for an address this module handles (epgm://, and pgm:// which it refuses). */
export function isPgmAddress(address: unknown): boolean {
  return typeof address === "string" && (address.startsWith("epgm://") || address.startsWith("pgm://"));
}

/** Parses `epgm://iface;group:port`; `pgm://` is refused (no raw sockets in Node). */
export function parsePgmEndpoint(address: string): PgmEndpoint {
  if (address.startsWith("pgm://")) {
    throw zmqError(
      "EPROTONOSUPPORT",
      "pgm:// needs raw IP sockets (IP protocol 113), which Node does not offer; use epgm:// (PGM over UDP)",
      address,
    );
  }
  const rest = address.slice("epgm://".length);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) throw zmqError("EINVAL", "Invalid argument", address);
  const portText = rest.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) throw zmqError("EINVAL", "Invalid argument", address);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw zmqError("EINVAL", "Invalid argument", address);
  const net = rest.slice(0, colon);
  const semi = net.indexOf(";");
  const ifName = semi >= 0 ? net.slice(0, semi) : "";
  const group = semi >= 0 ? net.slice(semi + 1) : net;
  if (!isIpv4(group) || !isMulticast(group)) throw zmqError("EINVAL", "Invalid argument", address);
  const iface = resolveInterface(ifName);
  if (iface === undefined) throw zmqError("ENODEV", "No such device", address);
  return { address, iface, group, port };
}

function isIpv4(s: string): boolean {
  const p = s.split(".");
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

function isMulticast(s: string): boolean {
  const first = Number(s.split(".")[0]);
  return first >= 224 && first <= 239;
}

function resolveInterface(name: string): string | undefined {
  const all = networkInterfaces();
  if (name === "") {
    for (const list of Object.values(all)) {
      const v4 = list?.find((i) => i.family === "IPv4" && !i.internal);
      if (v4) return v4.address;
    }
    return "127.0.0.1";
  }
  if (isIpv4(name)) return name;
  return all[name]?.find((i) => i.family === "IPv4")?.address;
}

// ---- one receiving socket per port -----------------------------------------------------

type PacketListener = (p: PgmPacket, from: string) => void;

interface PortShare {
  socket: dgram.Socket;
  ready: Promise<void>;
  listeners: Set<PacketListener>;
  memberships: Map<string, number>;
}

const ports = new Map<number, PortShare>();

function sharePort(port: number): PortShare {
  let share = ports.get(port);
  if (share) return share;
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  const listeners = new Set<PacketListener>();
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      socket.unref();
      resolve();
    });
  });
  socket.on("message", (buf, rinfo) => {
    const p = decodePacket(buf);
    if (typeof p === "string") return;
    for (const l of listeners) l(p, rinfo.address);
  });
  share = { socket, ready, listeners, memberships: new Map() };
  ports.set(port, share);
  return share;
}

function releasePort(port: number, share: PortShare, listener: PacketListener, membership: string | null): void {
  share.listeners.delete(listener);
  if (membership !== null) {
    const n = (share.memberships.get(membership) ?? 1) - 1;
    if (n <= 0) {
      share.memberships.delete(membership);
      const [group, iface] = membership.split("|");
      try {
        share.socket.dropMembership(group!, iface);
      } catch {}
    } else share.memberships.set(membership, n);
  }
  if (share.listeners.size === 0) {
    ports.delete(port);
    share.socket.close();
  }
}

// ---- the endpoint: a pipe of the socket on one side, PGM on the other ---------------------

/** What the endpoint needs of its Socket. */
export interface PgmOwner {
  readonly type: number;
  option<T>(name: string): T;
  createPipe(endpoint: string): Pipe;
  attachPipe(pipe: Pipe): void;
  pipeHandshaked(pipe: Pipe, peer: PeerInfo): void;
  emit(event: Event): void;
}

export interface PgmStats {
  sender?: PgmSender["stats"];
  receiver?: PgmReceiver["stats"];
}

/** One epgm endpoint of a socket (bind and connect are the same for PGM, as in libzmq). */
export class PgmTransport {
  private pipe: Pipe | null = null;
  private sender: PgmSender | null = null;
  private receiver: PgmReceiver | null = null;
  private encoder: TsduEncoder | null = null;
  private out: dgram.Socket | null = null;
  private share: PortShare | null = null;
  private membership: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closed = false;
  private readonly listener: PacketListener = (p, from) => this.onPacket(p, from);

  /** Resolves once the endpoint's UDP sockets are bound and its pipe is attached. */
  readonly ready: Promise<void>;

  /**
   * Checks the address and the socket type at once (throws EPROTONOSUPPORT for pgm://,
   * EINVAL / ENODEV for a bad endpoint, ENOCOMPATPROTO for a socket type other than
   * PUB, XPUB, SUB, XSUB), then opens the endpoint in the background (`ready`).
   */
  constructor(private readonly owner: PgmOwner, address: string) {
    this.ep = parsePgmEndpoint(address);
    const t = owner.type;
    if (t !== PUB && t !== XPUB && t !== SUB && t !== XSUB) {
      throw zmqError("ENOCOMPATPROTO", "The protocol is not compatible with the socket type", address);
    }
    this.ready = this.start().catch((e: NodeJS.ErrnoException) => {
      this.close();
      throw zmqError(e.code ?? "EINVAL", e.message, address);
    });
    this.ready.catch(() => {});
  }

  readonly ep: PgmEndpoint;

  get stats(): PgmStats {
    return { sender: this.sender?.stats, receiver: this.receiver?.stats };
  }

  private async start(): Promise<void> {
    const { ep } = this;
    const isSender = this.owner.type === PUB || this.owner.type === XPUB;
    this.share = sharePort(ep.port);
    this.share.listeners.add(this.listener);
    await this.share.ready;
    if (this.closed) return;
    if (!isSender) {
      const key = `${ep.group}|${ep.iface}`;
      const n = this.share.memberships.get(key) ?? 0;
      if (n === 0) this.share.socket.addMembership(ep.group, ep.iface);
      this.share.memberships.set(key, n + 1);
      this.membership = key;
    }
    const out = dgram.createSocket({ type: "udp4" });
    this.out = out;
    await new Promise<void>((resolve, reject) => {
      out.once("error", reject);
      out.bind({ address: ep.iface, port: 0 }, () => {
        out.off("error", reject);
        out.on("error", () => {});
        resolve();
      });
    });
    out.unref();
    out.setMulticastInterface(ep.iface);
    out.setMulticastTTL(Math.min(255, Math.max(0, this.owner.option<number>("multicastHops"))));
    out.setMulticastLoopback(true);
    if (this.closed) return;

    const pipe = this.owner.createPipe(ep.address);
    this.pipe = pipe;
    const now = Date.now();
    if (isSender) {
      const rate = this.owner.option<number>("rate");
      const recovery = this.owner.option<number>("recoveryInterval");
      const maxTpdu = this.owner.option<number>("multicastMaxTransportDataUnit");
      // libzmq's window: recovery interval x rate, in TPDUs.
      const windowSqns = Math.max(1, Math.floor((recovery * (rate / 8)) / maxTpdu));
      // OpenPGM's MSS: the TPDU less IPv4 (20), UDP (8), PGM (16), ODATA (8) and room for OPT_LENGTH + OPT_FRAGMENT (20).
      const maxTsdu = Math.max(16, maxTpdu - 72);
      this.encoder = new TsduEncoder(maxTsdu);
      this.sender = new PgmSender(
        {
          gsi: randomBytes(6), sport: 1 + randomBytes(2).readUInt16BE(0) % 65535, port: ep.port, group: ep.group,
          nla: ep.iface, windowSqns, rateBytes: (rate * 1000) / 8,
        },
        { multicast: (buf) => this.multicast(buf) },
        now,
      );
      pipe.outbound.onReadable = () => this.pump();
      this.owner.attachPipe(pipe);
      this.owner.pipeHandshaked(pipe, { socketType: "SUB", metadata: new Map(), zmtpMinor: 1 });
      // PGM carries no subscriptions: the sender sends everything (libzmq does the same).
      pipe.inbound.forcePush([Buffer.from([1])] as Message);
      this.schedule(this.sender.tick(now));
      this.pump();
    } else {
      this.receiver = new PgmReceiver(
        {
          port: ep.port, group: ep.group, recoveryInterval: this.owner.option<number>("recoveryInterval"),
          maxMessageSize: this.owner.option<number>("maxMessageSize"),
        },
        {
          unicast: (buf, to) => this.out?.send(buf, ep.port, to),
          deliver: (msg) => {
            pipe.inbound.forcePush(msg);
            return !pipe.inbound.full;
          },
          loss: (r) => this.owner.emit({ type: "pgm:loss", address: ep.address, source: r.source, lost: r.lost }),
        },
      );
      // Subscriptions are applied locally by the SUB; PGM has no upstream for them.
      pipe.outbound.onReadable = () => pipe.outbound.clear();
      pipe.inbound.onWritable = () => this.receiver?.resume();
      this.owner.attachPipe(pipe);
      this.owner.pipeHandshaked(pipe, { socketType: "PUB", metadata: new Map(), zmtpMinor: 1 });
      pipe.outbound.clear();
    }
  }

  private multicast(buf: Buffer): void {
    this.out?.send(buf, this.ep.port, this.ep.group);
  }

  private onPacket(p: PgmPacket, from: string): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.sender) {
      this.sender.onPacket(p, now);
      if (this.sender.pendingRepairs > 0) this.schedule(now + 1);
    }
    if (this.receiver) {
      this.receiver.onPacket(p, from, now);
      const next = this.receiver.tick(now);
      if (next !== null) this.schedule(next);
    }
  }

  /** Sends what the pipe holds, as fast as the rate allows. */
  private pump(): void {
    const sender = this.sender, encoder = this.encoder, pipe = this.pipe;
    if (!sender || !encoder || !pipe || this.closed) return;
    const now = Date.now();
    for (;;) {
      if (!sender.canSend(1500, now)) {
        this.schedule(now + Math.max(1, sender.waitFor(1500)));
        return;
      }
      const tsdu = encoder.encode(() => pipe.outbound.shift());
      if (tsdu === null) break;
      sender.sendData(tsdu, now);
    }
    this.schedule(sender.nextSpmAt); // the heartbeat SPMs after data
  }

  private schedule(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = Date.now();
    if (this.sender) {
      this.pump();
      this.schedule(this.sender.tick(now));
    }
    if (this.receiver) {
      const next = this.receiver.tick(now);
      if (next !== null) this.schedule(next);
    }
  }

  /**
   * Closes the endpoint. A sender first sends what its pipe holds (within `linger`
   * ms, paced by the rate), then SPMs with OPT_FIN.
   */
  close(linger = 0, done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    const finish = () => {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.sender?.finish();
      if (this.share) releasePort(this.ep.port, this.share, this.listener, this.membership);
      this.share = null;
      const out = this.out;
      this.out = null;
      // Let the FIN SPMs leave before the socket closes.
      if (out) setImmediate(() => out.close());
      this.pipe?.terminate();
      done?.();
    };
    const pipe = this.pipe;
    if (!this.sender || !pipe || linger === 0 || (pipe.outbound.length === 0 && this.encoder?.idle !== false)) {
      finish();
      return;
    }
    const deadline = linger < 0 ? Infinity : Date.now() + linger;
    const wait = () => {
      if (this.closed) return;
      this.pump();
      if ((pipe.outbound.length === 0 && this.encoder!.idle) || Date.now() >= deadline) finish();
      else setTimeout(wait, 5);
    };
    wait();
  }
}
