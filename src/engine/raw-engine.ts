import type { Socket as NetSocket } from "node:net";
import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";

/**
 * A connection without ZMTP, for STREAM sockets: each chunk that arrives is one
 * message, each message sent is written as it is, and an empty message closes the
 * connection (as libzmq's raw engine).
 */
export class RawEngine {
  private ended = false;
  private paused = false;
  private flushScheduled = false;

  constructor(
    private readonly stream: NetSocket,
    private readonly pipe: Pipe,
    private readonly onEnd: () => void,
  ) {
    stream.setNoDelay(true);
    pipe.outbound.onReadable = this.scheduleFlush;
    pipe.inbound.onWritable = this.onInboundWritable;
    stream.on("data", this.onData);
    stream.on("drain", this.flush);
    stream.on("error", () => this.end());
    stream.on("close", () => this.end());
    // What was sent before the connection existed goes out now.
    if (pipe.outbound.length > 0) this.scheduleFlush();
  }

  private onData = (chunk: Buffer): void => {
    const inbound = this.pipe.inbound;
    inbound.forcePush([chunk]);
    if (inbound.full && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
  };

  private onInboundWritable = (): void => {
    if (!this.paused || this.ended) return;
    this.paused = false;
    this.stream.resume();
  };

  private scheduleFlush = (): void => {
    if (this.flushScheduled || this.ended) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  };

  private flush = (): void => {
    this.flushScheduled = false;
    if (this.ended) return;
    let msg: Message | undefined;
    while ((msg = this.pipe.outbound.shift()) !== undefined) {
      const data = msg[0];
      if (!data || data.length === 0) {
        this.stream.end();
        this.end();
        return;
      }
      if (!this.stream.write(data)) return;
    }
  };

  linger(done: () => void): void {
    this.flush();
    this.stream.end();
    this.end();
    done();
  }

  close(flushAccepted = false): void {
    if (flushAccepted) {
      this.flush();
      this.stream.end();
      setTimeout(() => this.stream.destroy(), 1000).unref();
    } else {
      this.stream.destroy();
    }
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.pipe.outbound.onReadable = null;
    this.pipe.inbound.onWritable = null;
    this.onEnd();
  }
}
