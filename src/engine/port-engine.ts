import type { MessagePort } from "node:worker_threads";
import { MsgQueue, type Message } from "../pipe/msg-queue.js";
import { Pipe } from "../pipe/pipe.js";
import type { MessageTracker } from "../pipe/tracker.js";

/**
 * The wire of a socket peer over a MessagePort (see transport/port.ts). Three kinds of
 * values cross the port, in order:
 *
 *   { zmtsHello: 1, socketType, identity, window }   once, first, from each side
 *   Uint8Array[][]                                    a batch of whole messages, each an array of frames
 *   { zmtsCredit: n }                                 the receiver took n more messages off its queue
 *
 * Frames cross without copying where the memory allows it: frames on a
 * SharedArrayBuffer are shared (structured clone keeps SAB memory), and with
 * `transfer` a frame that alone owns its ArrayBuffer has that buffer moved to the
 * other thread (the sender's view is detached). Every other frame is copied once,
 * its own bytes only, into a buffer that is then transferred: small frames of a batch
 * share one such buffer, large ones get their own.
 */
export interface PortHello {
  zmtsHello: 1;
  socketType: string;
  identity: Uint8Array | null;
  /** How many messages the sender may have in flight before it waits for credit; 0 = no limit. */
  window: number;
}

export function isPortHello(value: unknown): value is PortHello {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return v.zmtsHello === 1 && typeof v.socketType === "string";
}

/** Most messages in one postMessage. */
const BATCH_MESSAGES = 256;
/** Most bytes copied into one batch's shared buffer before the batch is posted. */
const BATCH_PACKED_BYTES = 1 << 20;
/** A copied frame at least this large gets its own buffer, so that a small received frame never pins a big one. */
const OWN_BUFFER_BYTES = 64 << 10;

function isShared(buf: ArrayBufferLike): boolean {
  return (
    typeof SharedArrayBuffer !== "undefined" &&
    (buf instanceof SharedArrayBuffer || Object.prototype.toString.call(buf) === "[object SharedArrayBuffer]")
  );
}

/** A buffer of `n` bytes that nothing else uses (not Node's pool), so it can be transferred. */
function ownBuffer(n: number): Uint8Array {
  return Buffer.allocUnsafeSlow(n);
}

/** The inbound queue of a port pipe: tells the engine each time the socket takes a message (for credit). */
export class CreditQueue extends MsgQueue {
  onTaken: (() => void) | null = null;
  onReturned: (() => void) | null = null;

  override shift(): Message | undefined {
    const msg = super.shift();
    if (msg !== undefined && this.onTaken) this.onTaken();
    return msg;
  }

  override unshift(msg: Message): void {
    super.unshift(msg);
    if (this.onReturned) this.onReturned();
  }
}

/** A pipe that tells its engine before it ends, so that the port is flushed (linger) and closed. */
export class PortPipe extends Pipe {
  onTerminate: ((dropOutbound: boolean) => void) | null = null;

  override terminate(dropOutbound = true): void {
    if (this.terminated) return;
    const hook = this.onTerminate;
    this.onTerminate = null;
    if (hook) hook(dropOutbound);
    super.terminate(dropOutbound);
  }
}

export interface PortEngineHooks {
  /** The peer's hello: true accepts it and starts the traffic; false ends the engine (the hook reports why). */
  hello(peer: PortHello): boolean;
  /** The port closed under us (the peer closed it, its thread ended, or detach()). Not called for end() we asked for. */
  closed(): void;
}

export interface PortEngineOptions {
  /** Move the ArrayBuffers of frames that alone own them, instead of copying them. */
  transfer: boolean;
  /** What we tell the peer. */
  hello: PortHello;
}

/**
 * Drains the pipe's outbound queue into the port (batched, on nextTick, within the
 * peer's credit) and feeds what arrives into the inbound queue. It never keeps the
 * process alive: the port is unref'd.
 */
export class PortEngine {
  private ready = false;
  private ended = false;
  private flushScheduled = false;
  /** Messages we may still post before the peer grants more. */
  private credit = Infinity;
  /** Messages our socket has taken off the inbound queue, not yet credited to the peer. */
  private consumed = 0;
  private readonly creditEvery: number;

  constructor(
    private readonly port: MessagePort,
    private readonly pipe: PortPipe,
    private readonly inbound: CreditQueue,
    private readonly options: PortEngineOptions,
    private readonly hooks: PortEngineHooks,
  ) {
    const window = options.hello.window;
    // Credit goes back in halves of the window: the peer never waits while we keep reading.
    this.creditEvery = window > 0 ? Math.max(1, Math.ceil(window / 2)) : 0;
    if (window > 0) {
      inbound.onTaken = this.onTaken;
      inbound.onReturned = this.onReturned;
    }
    pipe.outbound.onReadable = this.scheduleFlush;
    port.on("message", this.onMessage);
    port.on("close", this.onClose);
    port.on("messageerror", this.onMessageError);
    // Our hello goes first: everything else we post follows it.
    port.postMessage(options.hello);
    port.unref();
  }

  get handshaked(): boolean {
    return this.ready;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private onMessage = (data: unknown): void => {
    if (this.ended) return;
    if (Array.isArray(data)) {
      if (this.ready) this.deliver(data as Uint8Array[][]);
      return;
    }
    if (data === null || typeof data !== "object") return;
    const credit = (data as { zmtsCredit?: unknown }).zmtsCredit;
    if (typeof credit === "number") {
      const starved = this.credit <= 0;
      this.credit += credit;
      if (starved && this.pipe.outbound.length > 0) this.scheduleFlush();
      return;
    }
    if (isPortHello(data) && !this.ready) {
      const window = typeof data.window === "number" && data.window > 0 ? data.window : 0;
      this.credit = window > 0 ? window : Infinity;
      if (!this.hooks.hello(data)) {
        this.end(false);
        return;
      }
      if (this.ended) return;
      this.ready = true;
      if (this.pipe.outbound.length > 0) this.scheduleFlush();
    }
  };

  private deliver(batch: Uint8Array[][]): void {
    const inbound = this.inbound;
    for (const frames of batch) {
      if (this.ended) return;
      const msg: Message = new Array<Buffer>(frames.length);
      for (let i = 0; i < frames.length; i++) {
        const u8 = frames[i]!;
        msg[i] = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
      }
      // A port cannot be paused; the peer's credit keeps this within about twice the mark.
      inbound.forcePush(msg);
    }
  }

  private onTaken = (): void => {
    if (this.ended) return;
    if (++this.consumed >= this.creditEvery) {
      const n = this.consumed;
      this.consumed = 0;
      this.port.postMessage({ zmtsCredit: n });
    }
  };

  private onReturned = (): void => {
    if (this.consumed > 0) this.consumed--;
  };

  private onClose = (): void => {
    if (this.ended) return;
    this.ended = true;
    this.detachHandlers();
    this.hooks.closed();
  };

  /** A message that could not be deserialized here: the stream of messages has a hole, so the connection ends. */
  private onMessageError = (): void => {
    if (this.ended) return;
    this.end(false);
    this.hooks.closed();
  };

  private scheduleFlush = (): void => {
    if (this.flushScheduled || this.ended || !this.ready) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  };

  private flush = (): void => {
    this.flushScheduled = false;
    if (this.ended || !this.ready) return;
    this.drain(false);
  };

  /** Posts queued messages in batches; `all` ignores the peer's credit (a closing socket's linger). */
  private drain(all: boolean): void {
    const out = this.pipe.outbound;
    const transfer = this.options.transfer;
    while (out.length > 0 && (all || this.credit > 0)) {
      const batch: Uint8Array[][] = [];
      const transferList = new Set<ArrayBuffer>();
      const copies: { frames: Uint8Array[]; index: number; src: Buffer; at: number }[] = [];
      let packed = 0;
      const trackers: MessageTracker[] = [];
      let msg: Message | undefined;
      while (
        batch.length < BATCH_MESSAGES && packed < BATCH_PACKED_BYTES && (all || this.credit > 0) &&
        (msg = out.shift()) !== undefined
      ) {
        if (!all) this.credit--;
        if (msg.tracker) trackers.push(msg.tracker);
        const frames = new Array<Uint8Array>(msg.length);
        for (let i = 0; i < msg.length; i++) {
          const f = msg[i]!;
          const buf = f.buffer;
          if (isShared(buf)) {
            // Structured clone shares SharedArrayBuffer memory: no copy.
            frames[i] = f;
          } else if (transfer && f.byteLength > 0 && f.byteOffset === 0 && f.byteLength === buf.byteLength) {
            // The frame alone owns its buffer: move it (the sender's view is detached).
            transferList.add(buf as ArrayBuffer);
            frames[i] = f;
          } else if (f.byteLength >= OWN_BUFFER_BYTES) {
            const copy = ownBuffer(f.byteLength);
            copy.set(f);
            transferList.add(copy.buffer as ArrayBuffer);
            frames[i] = copy;
          } else {
            copies.push({ frames, index: i, src: f, at: packed });
            packed += f.byteLength;
          }
        }
        batch.push(frames);
      }
      if (batch.length === 0) break;
      if (copies.length > 0) {
        const pack = packed > 0 ? ownBuffer(packed) : new Uint8Array(0);
        for (const c of copies) {
          const view = new Uint8Array(pack.buffer, pack.byteOffset + c.at, c.src.byteLength);
          view.set(c.src);
          c.frames[c.index] = view;
        }
        if (packed > 0) transferList.add(pack.buffer as ArrayBuffer);
      }
      this.port.postMessage(batch, [...transferList]);
      // The messages are out of our hands (and, transferred, out of the sender's).
      for (const t of trackers) t.release();
    }
  }

  /**
   * The pipe is ending. A socket that closes with linger posts what it still holds
   * (the port delivers it even after close); otherwise that is dropped. The port closes,
   * so the peer's pipe ends too.
   */
  pipeTerminating(flush: boolean): void {
    if (this.ended) return;
    if (flush) this.drain(true);
    this.end(false);
  }

  /** Ends the engine and closes the port. */
  end(terminatePipe: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.detachHandlers();
    this.port.close();
    if (terminatePipe) this.pipe.terminate();
  }

  private detachHandlers(): void {
    this.pipe.outbound.onReadable = null;
    this.inbound.onTaken = null;
    this.inbound.onReturned = null;
    this.port.off("message", this.onMessage);
    this.port.off("messageerror", this.onMessageError);
    this.port.off("close", this.onClose);
  }
}
