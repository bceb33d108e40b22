import type { Socket as NetSocket } from "node:net";
import { WireError } from "../wire/errors.js";
import { encodeGreeting, parseGreeting, GREETING_SIZE, type Greeting } from "../wire/greeting.js";
import { FrameDecoder, FLAG_COMMAND, FLAG_MORE, type FrameSink } from "../wire/frame-decoder.js";
import { FrameBatch } from "../wire/frame-encoder.js";
import { parseCommand, encodeCommandBody, encodeError, encodePing, encodePong, parsePing, getProperty, parseGroupCommand, type Command } from "../wire/commands.js";
import type { Mechanism } from "../mechanism/mechanism.js";
import { parseHandshakeCommand } from "../mechanism/plain.js";
import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import type { MessageTracker } from "../pipe/tracker.js";

export interface EngineOptions {
  maxMessageSize: number;
  handshakeInterval: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  heartbeatTimeToLive: number;
}

/** Why a connection ended. `protocol` and `auth` are the peer's fault and are not retried. */
export type EngineEnd =
  | { kind: "closed" }
  | { kind: "error"; error: Error }
  | { kind: "protocol"; reason: string; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "auth"; status: number };

/** The session side of an engine: who gets the pipe, who hears about the end. */
export interface EngineHost {
  /** Handshake done; returns the pipe to attach to. */
  engineReady(engine: ZmtpEngine, peer: PeerInfo): Pipe;
  /** The connection is gone (called once). */
  engineClosed(engine: ZmtpEngine, end: EngineEnd, handshaked: boolean): void;
}

const SUB_BYTE = 1;
const COALESCE_LIMIT = 256 * 1024;
/**
 * How many bytes a flush may leave in the stream's write buffer before it waits for
 * 'drain', when the batch carried large bodies (passed by reference, not copied). The
 * stream's own mark (16 KiB) would let one large message through per drain, and the
 * kernel send buffer would run dry while the next one is queued. Batches of small
 * messages still stop at the stream's mark, so they stay counted against the HWM.
 */
const WRITE_AHEAD = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Where bytes meet a stream: greeting, then the mechanism's handshake, then frames.
 * It drains its pipe's outbound queue into one batched write per tick and decodes
 * arriving frames into whole messages on the pipe's inbound queue, pausing the stream
 * while that queue is at its mark. It knows nothing of socket types beyond the
 * subscription convention.
 */
export class ZmtpEngine implements FrameSink {
  private greetingBuf: Buffer | null = Buffer.alloc(0);
  private peerGreeting: Greeting | null = null;
  private readonly decoder: FrameDecoder;
  private readonly batch = new FrameBatch();
  private pipe: Pipe | null = null;
  private frames: Buffer[] = [];
  private messageSize = 0;
  private flushScheduled = false;
  private writeBlocked = false;
  private ended = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastReceived = Date.now();
  private peerTtl = 0;
  private readPaused = false;
  private lingerDone: (() => void) | null = null;
  /** Trackers of the messages in the batch being built. */
  private trackers: MessageTracker[] = [];

  constructor(
    private readonly stream: NetSocket,
    private readonly mechanism: Mechanism,
    private readonly opts: EngineOptions,
    private readonly host: EngineHost,
    /** The endpoint string the session reports in events. */
    readonly address: string,
  ) {
    this.decoder = new FrameDecoder(this, opts.maxMessageSize);
    stream.setNoDelay(true);
    stream.on("data", this.onData);
    stream.on("drain", this.onDrain);
    stream.on("error", this.onError);
    stream.on("close", this.onClose);
    if (opts.handshakeInterval > 0) {
      this.handshakeTimer = setTimeout(() => this.fail({ kind: "timeout", message: "handshake timed out" }), opts.handshakeInterval);
      this.handshakeTimer.unref();
    }
    mechanism.onReady = () => {
      if (this.ended) return;
      try {
        this.advanceHandshake();
      } catch (e) {
        this.failWith(e);
      }
    };
    stream.write(encodeGreeting(mechanism.name, mechanism.asServer === true));
  }

  get handshaked(): boolean {
    return this.pipe !== null;
  }

  get peerZmtpMinor(): number {
    return this.peerGreeting?.minor ?? 0;
  }

  // ---- inbound ---------------------------------------------------------------

  private onData = (chunk: Buffer): void => {
    if (this.ended) return;
    this.lastReceived = Date.now();
    try {
      if (this.greetingBuf) {
        chunk = this.readGreeting(chunk);
        if (chunk.length === 0) return;
      }
      this.decoder.push(chunk);
    } catch (e) {
      this.failWith(e);
    }
  };

  private failWith(e: unknown): void {
    if (e instanceof WireError) this.fail({ kind: "protocol", reason: e.reason, message: e.message }, e.reason);
    else this.fail({ kind: "error", error: e as Error });
  }

  /** Accumulates the 64-byte greeting; returns what follows it. */
  private readGreeting(chunk: Buffer): Buffer {
    const buf = this.greetingBuf!.length === 0 ? chunk : Buffer.concat([this.greetingBuf!, chunk]);
    const result = parseGreeting(buf.subarray(0, GREETING_SIZE));
    if (result.state === "need-more") {
      this.greetingBuf = Buffer.from(buf);
      return EMPTY;
    }
    this.greetingBuf = null;
    this.peerGreeting = result.greeting;
    if (result.greeting.mechanism !== this.mechanism.name) {
      throw new WireError("ERR_ZMTP_MECHANISM_MISMATCH", `peer uses ${result.greeting.mechanism}, we use ${this.mechanism.name}`);
    }
    this.sendHandshakeCommands();
    return buf.subarray(result.consumed);
  }

  onFrame(body: Buffer, more: boolean): void {
    if (!this.pipe) throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "message frame before the handshake completed");
    if (this.decrypting) {
      // CURVE: every frame arrives boxed in a MESSAGE; its real flags are inside.
      const plain = this.mechanism.decodeMessage!(body);
      if (plain.command) {
        this.processTrafficCommand(parseCommand(plain.body));
        return;
      }
      body = plain.body;
      more = plain.more;
    }
    this.messageSize += body.length;
    if (this.opts.maxMessageSize >= 0 && this.messageSize > this.opts.maxMessageSize) {
      throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", `message exceeds maxMessageSize (${this.opts.maxMessageSize})`);
    }
    this.frames.push(body);
    if (more) return;
    const msg = this.frames;
    this.frames = [];
    this.messageSize = 0;
    this.deliver(msg);
  }

  private deliver(msg: Message): void {
    const inbound = this.pipe!.inbound;
    inbound.forcePush(msg);
    if (inbound.full && !this.readPaused) {
      this.readPaused = true;
      this.decoder.pause();
      this.stream.pause();
    }
  }

  private onInboundWritable = (): void => {
    if (!this.readPaused || this.ended) return;
    this.readPaused = false;
    this.stream.resume();
    try {
      this.decoder.resume();
    } catch (e) {
      if (e instanceof WireError) this.fail({ kind: "protocol", reason: e.reason, message: e.message }, e.reason);
      else this.fail({ kind: "error", error: e as Error });
    }
  };

  onCommand(body: Buffer): void {
    if (!this.pipe) {
      this.mechanism.processCommand(parseHandshakeCommand(body));
      this.advanceHandshake();
      return;
    }
    if (this.decrypting) {
      this.onFrame(body, false);
      return;
    }
    this.processTrafficCommand(parseCommand(body));
  }

  /** Sends what the mechanism has to say, then acts on where the handshake stands. */
  private advanceHandshake(): void {
    if (this.pipe) return;
    const m = this.mechanism;
    this.sendHandshakeCommands();
    if (m.status === "ready") {
      this.handshakeDone();
      return;
    }
    if (m.status !== "error") return;
    if (m.failure) {
      this.fail({ kind: "protocol", reason: m.failure.reason, message: m.failure.message });
    } else if (m.zapStatus !== undefined && m.zapStatus !== null) {
      this.fail({ kind: "auth", status: m.zapStatus });
    } else {
      const why = m.peerError ?? "handshake failed";
      this.fail({ kind: "protocol", reason: "ERR_ZMTP_PEER_ERROR", message: `peer sent ERROR: ${why}` });
    }
  }

  /** True once a CURVE handshake is done: traffic is boxed both ways. */
  private get decrypting(): boolean {
    return this.pipe !== null && this.mechanism.decodeMessage !== undefined;
  }

  private processTrafficCommand(cmd: Command): void {
    switch (cmd.name) {
      case "PING": {
        const ping = parsePing(cmd.data);
        this.peerTtl = ping.ttl * 100;
        this.writeCommand(encodePong(ping.context), "PONG", ping.context);
        this.ensureHeartbeatTimer();
        return;
      }
      case "PONG":
        return;
      case "SUBSCRIBE":
      case "CANCEL": {
        const msg: Message = [Buffer.concat([cmd.name === "SUBSCRIBE" ? ONE : ZERO, cmd.data])];
        this.deliver(msg);
        return;
      }
      case "JOIN":
      case "LEAVE": {
        // Only a DISH speaks them (RFC 48); from anyone else they are ignored as unknown.
        if (this.pipe?.peer?.socketType !== "DISH") return;
        const msg: Message = [Buffer.from(parseGroupCommand(cmd.name, cmd.data))];
        msg.groupCommand = cmd.name;
        this.deliver(msg);
        return;
      }
      case "ERROR":
        this.fail({ kind: "protocol", reason: "ERR_ZMTP_PEER_ERROR", message: "peer sent ERROR" });
        return;
      case "READY":
      case "HELLO":
      case "INITIATE":
      case "WELCOME":
        throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} after the handshake`);
      default:
        return; // unknown commands are ignored, for peers newer than us
    }
  }

  /** A traffic command: as it is, or boxed for CURVE (`data` = what follows the name). */
  private writeCommand(frame: Buffer, name: string, data: Buffer): void {
    if (this.mechanism.encodeFrame) this.stream.write(this.mechanism.encodeFrame(FLAG_COMMAND, encodeCommandBody(name, data)));
    else this.stream.write(frame);
  }

  private sendHandshakeCommands(): void {
    let cmd: Buffer | null;
    while ((cmd = this.mechanism.nextCommand()) !== null) this.stream.write(cmd);
  }

  private handshakeDone(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    const metadata = this.mechanism.peerMetadata;
    const type = getProperty(metadata, "Socket-Type");
    const peer: PeerInfo = {
      socketType: type ? type.toString("latin1").toUpperCase() : "",
      metadata,
      zmtpMinor: this.peerZmtpMinor,
    };
    if (this.stream.remoteAddress) peer.address = this.stream.remoteAddress;
    const pipe = this.host.engineReady(this, peer);
    this.pipe = pipe;
    pipe.outbound.onReadable = this.scheduleFlush;
    pipe.outbound.onFull = this.flushNow;
    pipe.inbound.onWritable = this.onInboundWritable;
    pipe.inbound.lowWater = true;
    this.ensureHeartbeatTimer();
    if (pipe.outbound.length > 0) this.scheduleFlush();
  }

  // ---- outbound --------------------------------------------------------------

  private scheduleFlush = (): void => {
    if (this.flushScheduled || this.ended) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  };

  /**
   * The outbound queue is full: move what the stream will take now rather than next
   * tick. Not from inside a flush: taking a message off the queue there can wake the
   * sender, whose next push may find the queue full again, and a nested flush would put
   * later messages on the wire ahead of the one the outer flush holds.
   */
  private flushNow = (): void => {
    if (!this.writeBlocked && !this.ended && !this.flushing) this.flush();
  };
  private flushing = false;

  private onDrain = (): void => {
    this.writeBlocked = false;
    this.flush();
  };

  /** Moves queued messages to the stream: small frames batched into one write, large ones passed as they are. */
  private flush = (): void => {
    this.flushScheduled = false;
    const pipe = this.pipe;
    if (!pipe || this.ended || this.writeBlocked || this.flushing) return;
    this.flushing = true;
    try {
      this.flushQueue(pipe);
    } finally {
      this.flushing = false;
    }
  };

  private flushQueue(pipe: Pipe): void {
    const out = pipe.outbound;
    const minor = this.peerZmtpMinor;
    const boxed = this.mechanism.encodeFrame ? this.mechanism : null;
    let msg: Message | undefined;
    this.stream.cork();
    while ((msg = out.shift()) !== undefined) {
      if (boxed) {
        this.writeBoxed(boxed, msg, minor);
        if (msg.tracker) this.trackers.push(msg.tracker);
        if (this.writeBlocked) break;
        continue;
      } else if (msg.groupCommand !== undefined) {
        this.batch.append(encodeCommandBody(msg.groupCommand, msg[0]!), FLAG_COMMAND);
      } else if (msg.subscription === true && minor >= 1 && msg.length === 1 && msg[0]!.length > 0) {
        const frame = msg[0]!;
        const topic = frame.subarray(1);
        this.batch.append(encodeCommandBody(frame[0] === SUB_BYTE ? "SUBSCRIBE" : "CANCEL", topic), FLAG_COMMAND);
      } else {
        this.batch.appendMessage(msg);
      }
      if (msg.tracker) this.trackers.push(msg.tracker);
      if (this.batch.byteLength >= COALESCE_LIMIT) {
        if (!this.writeBatch()) break;
      }
    }
    if (this.batch.byteLength > 0) this.writeBatch();
    if (this.trackers.length > 0) {
      // Boxed (CURVE) writes: an empty write's callback says the earlier ones are done.
      const done = this.trackers;
      this.trackers = [];
      this.stream.write(EMPTY, () => {
        for (const t of done) t.release();
      });
    }
    this.stream.uncork();
    if (this.lingerDone && out.length === 0 && !this.writeBlocked) this.finishLinger();
  }

  /** CURVE: each frame goes in its own MESSAGE box (commands too). */
  private writeBoxed(m: Mechanism, msg: Message, minor: number): void {
    if (msg.groupCommand !== undefined) {
      this.stream.write(m.encodeFrame!(FLAG_COMMAND, encodeCommandBody(msg.groupCommand, msg[0]!)));
      return;
    }
    if (msg.subscription === true && minor >= 1 && msg.length === 1 && msg[0]!.length > 0) {
      const frame = msg[0]!;
      const body = encodeCommandBody(frame[0] === SUB_BYTE ? "SUBSCRIBE" : "CANCEL", frame.subarray(1));
      this.stream.write(m.encodeFrame!(FLAG_COMMAND, body));
      return;
    }
    const last = msg.length - 1;
    for (let i = 0; i <= last; i++) {
      const written = this.stream.write(m.encodeFrame!(i < last ? FLAG_MORE : 0, msg[i]!));
      if (!written) this.writeBlocked = true;
    }
  }

  private writeBatch(): boolean {
    let ok = true;
    const large = this.batch.largeBodies > 0;
    const chunks = this.batch.take();
    const retired = this.batch.takeRetired();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) ok = this.stream.write(chunks[i]!);
    if (last >= 0 && (this.trackers.length > 0 || retired !== null)) {
      // Writes complete in order: once the last chunk's write is done, the kernel has every
      // byte handed out so far, so the sender may reuse its buffers and we our scratches.
      const done = this.trackers;
      if (done.length > 0) this.trackers = [];
      const batch = this.batch;
      ok = this.stream.write(chunks[last]!, (err?: Error | null) => {
        for (const t of done) t.release();
        if (retired !== null && !err) batch.recycle(retired);
      });
    } else if (last >= 0) {
      ok = this.stream.write(chunks[last]!);
    }
    if (!ok && (!large || this.stream.writableLength >= WRITE_AHEAD)) {
      this.writeBlocked = true;
      return false;
    }
    return true;
  }

  // ---- heartbeats ------------------------------------------------------------

  private ensureHeartbeatTimer(): void {
    if (this.heartbeatTimer || this.ended || !this.pipe) return;
    const ivl = this.opts.heartbeatInterval;
    const period = ivl > 0 ? ivl : this.peerTtl > 0 ? Math.min(this.peerTtl, 1000) : 0;
    if (period <= 0) return;
    this.heartbeatTimer = setInterval(this.heartbeat, Math.min(period, 2 ** 31 - 1));
    this.heartbeatTimer.unref();
  }

  private heartbeat = (): void => {
    const silent = Date.now() - this.lastReceived;
    const timeout = this.opts.heartbeatTimeout > 0 ? this.opts.heartbeatTimeout : this.opts.heartbeatInterval;
    if ((this.opts.heartbeatInterval > 0 && silent > timeout + this.opts.heartbeatInterval) || (this.peerTtl > 0 && silent > this.peerTtl)) {
      this.fail({ kind: "timeout", message: "heartbeat timed out" });
      return;
    }
    if (this.opts.heartbeatInterval > 0) {
      const ttl = Math.max(0, Math.min(0xffff, Math.floor(this.opts.heartbeatTimeToLive / 100)));
      const frame = encodePing(ttl);
      this.writeCommand(frame, "PING", frame.subarray(2 + 5));
    }
  };

  // ---- ending ----------------------------------------------------------------

  /** Sends what is queued, then closes; `done` runs when flushed (or at once if nothing is). */
  linger(done: () => void): void {
    if (this.ended) return done();
    if (!this.pipe || (this.pipe.outbound.length === 0 && !this.writeBlocked)) {
      this.stream.end();
      this.teardown({ kind: "closed" }, false);
      return done();
    }
    this.lingerDone = done;
    this.scheduleFlush();
  }

  private finishLinger(): void {
    const done = this.lingerDone!;
    this.lingerDone = null;
    this.stream.end();
    this.teardown({ kind: "closed" }, false);
    done();
  }

  /** Closes now, dropping anything unsent. */
  /**
   * Closes now. With `flushAccepted` (linger 0), messages send() already accepted are
   * first written out and the stream ends gracefully — zeromq.js delivers them too,
   * since libzmq's I/O thread has usually taken them by then; otherwise unsent ones go.
   */
  close(flushAccepted = false): void {
    if (this.ended) return;
    if (flushAccepted && this.pipe && !this.writeBlocked) {
      this.flush();
      this.stream.end();
      setTimeout(() => this.stream.destroy(), 1000).unref();
    } else {
      this.stream.destroy();
    }
    this.teardown({ kind: "closed" }, false);
  }

  private fail(end: EngineEnd, errorReason?: string): void {
    if (this.ended) return;
    if (errorReason && !this.pipe) {
      // Tell the peer why, as RFC 37 asks, while still in the handshake.
      try {
        this.stream.write(encodeError(errorReason.slice(0, 255)));
      } catch {
        /* the stream may already be gone */
      }
    }
    this.stream.end();
    setTimeout(() => this.stream.destroy(), 100).unref();
    this.teardown(end, true);
  }

  private onError = (err: Error): void => {
    this.teardown({ kind: "error", error: err }, true);
  };

  private onClose = (): void => {
    this.teardown({ kind: "closed" }, true);
  };

  private teardown(end: EngineEnd, notify: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.mechanism.close?.();
    this.stream.off("data", this.onData);
    this.stream.off("drain", this.onDrain);
    this.stream.on("error", () => {}); // late errors on a stream we have given up
    const pipe = this.pipe;
    if (pipe) {
      if (pipe.outbound.onReadable === this.scheduleFlush) pipe.outbound.onReadable = null;
      if (pipe.outbound.onFull === this.flushNow) pipe.outbound.onFull = null;
      if (pipe.inbound.onWritable === this.onInboundWritable) {
        pipe.inbound.onWritable = null;
        pipe.inbound.lowWater = false;
      }
    }
    if (this.lingerDone) {
      const done = this.lingerDone;
      this.lingerDone = null;
      done();
    }
    if (notify) this.host.engineClosed(this, end, pipe !== null);
  }
}

const ONE = Buffer.from([1]);
const ZERO = Buffer.from([0]);
