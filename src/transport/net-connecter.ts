import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { ZmtpEngine, type EngineEnd, type EngineHost } from "../engine/zmtp-engine.js";
import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Endpoint } from "./endpoint.js";
import type { SessionOwner } from "./session-owner.js";
import { engineEndEvent } from "./end-events.js";
import { lingerAll, type Closable } from "./net-listener.js";

/** A connection factory for connected streams; STREAM sockets swap in a raw engine. */
export type ConnectHandler = (stream: NetSocket, connecter: NetConnecter) => Closable;

/**
 * A connected tcp or ipc endpoint: dials, redials with back-off, and keeps one pipe
 * for the endpoint's whole life (unless `immediate`), so messages sent before the
 * peer is up, or while it restarts, wait in the pipe and go out on the next
 * connection, as libzmq's connect side does.
 */
export class NetConnecter implements EngineHost {
  pipe: Pipe | null = null;
  /** A routing id the user chose for this peer (ROUTER/STREAM `connect(addr, {routingId})`). */
  routingId: Buffer | null = null;
  private conn: Closable | null = null;
  private stream: NetSocket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private interval: number;
  private stopped = false;
  private handshakes = 0;
  /** Set while a closed socket's queued messages may still go out (linger). */
  private lingering: { done: (() => void) | undefined; timer: NodeJS.Timeout | null } | null = null;

  constructor(
    private readonly owner: SessionOwner,
    readonly endpoint: Endpoint & { protocol: "tcp" | "ipc" },
    private readonly onConnect?: ConnectHandler,
  ) {
    this.interval = owner.option<number>("reconnectInterval");
  }

  start(): void {
    if (!this.owner.option<boolean>("immediate")) {
      this.pipe = this.newPipe();
      this.owner.attachPipe(this.pipe);
    }
    this.dial();
  }

  private newPipe(): Pipe {
    const pipe = this.owner.createPipe(this.endpoint.address);
    pipe.routingId = this.routingId;
    return pipe;
  }

  /** No more dialing: stopped (or the socket closed) and not lingering. */
  private get halted(): boolean {
    return this.lingering === null && (this.stopped || this.owner.closed);
  }

  private dial(): void {
    this.retryTimer = null;
    if (this.halted) return;
    const ep = this.endpoint;
    const stream = ep.protocol === "tcp"
      ? netConnect({ host: ep.host, port: ep.port, noDelay: true })
      : netConnect({ path: ep.path });
    stream.unref();
    this.stream = stream;
    const timeout = this.owner.option<number>("connectTimeout");
    let timer: NodeJS.Timeout | null = null;
    if (timeout > 0) timer = setTimeout(() => stream.destroy(), timeout);
    timer?.unref();
    const onError = () => {
      if (timer) clearTimeout(timer);
      stream.destroy();
      this.stream = null;
      this.scheduleRetry();
    };
    stream.once("error", onError);
    stream.once("close", onError);
    this.owner.emit({ type: "connect:delay", address: ep.address });
    stream.once("connect", () => {
      if (timer) clearTimeout(timer);
      stream.off("error", onError);
      stream.off("close", onError);
      this.stream = null;
      if (this.halted) {
        stream.destroy();
        return;
      }
      this.interval = this.owner.option<number>("reconnectInterval");
      this.owner.emit({ type: "connect", address: ep.address });
      if (this.onConnect) {
        this.conn = this.onConnect(stream, this);
        return;
      }
      const start = () => {
        if (this.halted || stream.destroyed) {
          stream.destroy();
          return;
        }
        this.conn = new ZmtpEngine(stream, this.owner.createMechanism(false), this.owner.engineOptions(), this, ep.address);
      };
      const wait = this.owner.mechanismReady();
      if (wait) wait.then(start, () => stream.destroy());
      else start();
    });
  }

  engineReady(_engine: ZmtpEngine, peer: PeerInfo): Pipe {
    this.handshakes++;
    if (!this.pipe) {
      this.pipe = this.newPipe();
      this.pipe.peer = peer;
      this.owner.attachPipe(this.pipe);
    }
    this.pipe.peer = peer;
    this.owner.pipeHandshaked(this.pipe, peer);
    this.owner.emit({ type: "handshake", address: this.endpoint.address });
    // Closed while the peer was not up yet: now send what waited, then finish.
    if (this.lingering) process.nextTick(() => this.lingerOn(_engine));
    return this.pipe;
  }

  private lingerOn(engine: ZmtpEngine): void {
    if (this.lingering && this.conn === engine) engine.linger(() => this.finishStop());
  }

  engineClosed(_engine: ZmtpEngine, end: EngineEnd, handshaked: boolean): void {
    this.conn = null;
    const ev = engineEndEvent(end, handshaked, this.endpoint.address);
    if (ev) this.owner.emit(ev);
    if (this.owner.option<boolean>("immediate") && this.pipe) {
      this.pipe.terminate();
      this.pipe = null;
    }
    // A protocol error is the peer's fault and will not mend itself by redialing:
    // libzmq ends the session, and so do we (RFC 37: no retry with the same credentials).
    // ZAP refused us (400, 500): RFC 26/37 say not to retry with the same credentials. 300 is temporary.
    if (end.kind === "protocol" || (end.kind === "auth" && end.status !== 300)) {
      // The pipe goes too, so that nothing more is routed (or lingered) to this peer.
      this.stopped = true;
      if (this.lingering) this.finishStop();
      else {
        this.pipe?.terminate();
        this.pipe = null;
      }
      return;
    }
    this.scheduleRetry();
  }

  /** Called by a custom (raw) connection when it ends. */
  connectionEnded(): void {
    this.conn = null;
    this.owner.emit({ type: "disconnect", address: this.endpoint.address });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.halted || this.retryTimer) return;
    const base = this.owner.option<number>("reconnectInterval");
    if (base < 0) return; // -1: no reconnection, as libzmq
    const max = this.owner.option<number>("reconnectMaxInterval");
    const delay = Math.min(this.interval, 2 ** 31 - 1);
    this.owner.emit({ type: "connect:retry", address: this.endpoint.address, interval: delay } as never);
    this.retryTimer = setTimeout(() => this.dial(), delay);
    this.retryTimer.unref();
    // Exponential back-off up to reconnectMaxInterval, if set (libzmq doubles too).
    if (max > 0) this.interval = Math.min(this.interval * 2, max);
  }

  /**
   * Ends this endpoint. With `lingerMs` other than 0, messages still queued go out
   * first: on the live connection, or on the next one if the peer is not up yet (as
   * libzmq keeps connecting while it lingers), for at most `lingerMs` (-1: no limit).
   */
  stop(lingerMs: number, done?: () => void): void {
    this.stopped = true;
    const queued = this.pipe !== null && this.pipe.outbound.length > 0;
    if (lingerMs === 0 || !queued) {
      this.lingering = { done, timer: null };
      if (this.conn && lingerMs !== 0) {
        const conn = this.conn;
        lingerAll([conn], lingerMs, () => this.finishStop());
      } else {
        this.finishStop(true);
      }
      return;
    }
    const timer = lingerMs > 0 ? setTimeout(() => this.finishStop(), Math.min(lingerMs, 2 ** 31 - 1)) : null;
    this.lingering = { done, timer };
    if (this.conn instanceof ZmtpEngine && this.conn.handshaked) this.lingerOn(this.conn);
  }

  private finishStop(flushAccepted = false): void {
    const lingering = this.lingering;
    this.lingering = null;
    this.stopped = true;
    if (lingering?.timer) clearTimeout(lingering.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stream?.destroy();
    this.stream = null;
    const conn = this.conn;
    this.conn = null;
    conn?.close(flushAccepted);
    const pipe = this.pipe;
    this.pipe = null;
    pipe?.terminate();
    lingering?.done?.();
  }

  get handshakeCount(): number {
    return this.handshakes;
  }
}
