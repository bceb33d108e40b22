import { Deque } from "./deque.js";
import type { MessageTracker } from "./tracker.js";

/** A message: its frames in order. Sent and delivered whole, never in part. */
export type Message = Buffer[] & {
  /**
   * Set on a one-frame message whose first byte is 1 (subscribe) or 0 (cancel) when it
   * was produced by a SUB/XSUB as a subscription. The engine turns it into a ZMTP 3.1
   * SUBSCRIBE/CANCEL command for peers that understand them.
   */
  subscription?: boolean;
  /**
   * A one-frame message holding a group: a DISH's JOIN or LEAVE (RFC 48). The engine
   * sends it as that ZMTP command; a JOIN/LEAVE command from a DISH peer arrives so marked.
   */
  groupCommand?: "JOIN" | "LEAVE";
  /** Set by send(msg, {track: true}): released by whoever takes the message off our hands. */
  tracker?: MessageTracker;
};

/** Strategies that rewrap a message (envelopes, routing ids) keep its tracker on the new array. */
export function carryTracker(from: Message, to: Message): Message {
  if (from.tracker) to.tracker = from.tracker;
  return to;
}

/**
 * One direction of one peer's traffic, bounded by a high-water mark counted in
 * messages (0 = no bound). Exactly one producer and one consumer use it; each hands
 * in one callback: the consumer learns when the queue turns non-empty, the producer
 * when a full queue has room again. Notifications are edge-triggered, as libzmq's
 * activate_read / activate_write.
 */
export class MsgQueue {
  private readonly items = new Deque<Message>();
  private wasFull = false;
  /** Set when the producer has gone; the consumer may still drain what is queued. */
  ended = false;
  /** Called when the queue goes from empty to non-empty. */
  onReadable: (() => void) | null = null;
  /** Called when a queue that refused a push (or reached its mark) has room again. */
  onWritable: (() => void) | null = null;
  /**
   * Called when a push finds the queue full, before it is refused: a consumer that can
   * take messages right now (an engine whose stream is not blocked) drains the queue
   * here. libzmq's I/O thread drains a pipe while the application fills it; ours runs
   * only when the application's loop yields, so without this a PUB looping over sends
   * would drop at its mark while the network sat idle.
   */
  onFull: (() => void) | null = null;
  /**
   * Wake the producer of a full queue only once it is down to half its mark instead of
   * at the first free slot (libzmq's low-water mark). For an engine's inbound queue:
   * otherwise, while the application reads slower than the wire delivers, every message
   * read would resume the stream and the decoder for exactly one more message.
   */
  lowWater = false;

  /**
   * @param capacity the high-water mark in messages, 0 for none
   * @param conflate keep only the newest message (libzmq's ZMQ_CONFLATE): a push replaces what is queued
   */
  constructor(public capacity: number, public conflate = false) {}

  get length(): number {
    return this.items.length;
  }

  /** Changes the mark (libzmq applies a new HWM to live pipes too); wakes the producer if that made room. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    if (this.wasFull && !this.full) {
      this.wasFull = false;
      if (this.onWritable) this.onWritable();
    }
  }

  get full(): boolean {
    return this.capacity > 0 && this.items.length >= this.capacity;
  }

  /** Queues the message unless the mark is reached; false means "not taken". */
  push(msg: Message): boolean {
    if (this.ended) return false;
    if (this.conflate) {
      this.forcePush(msg);
      return true;
    }
    if (this.full) {
      if (this.onFull) this.onFull();
      if (this.full) {
        this.wasFull = true;
        return false;
      }
    }
    this.forcePush(msg);
    return true;
  }

  /**
   * Queues past the mark. For an engine that has already decoded a message off the
   * wire: it must not be dropped, so it is queued and the engine stops reading.
   */
  forcePush(msg: Message): void {
    if (msg.tracker) msg.tracker.hold();
    if (this.conflate && this.items.length > 0) this.dropAll();
    const empty = this.items.length === 0;
    this.items.push(msg);
    if (this.full) this.wasFull = true;
    if (empty && this.onReadable) this.onReadable();
  }

  shift(): Message | undefined {
    const msg = this.items.shift();
    if (msg !== undefined && this.wasFull && this.hasRoomAgain()) {
      this.wasFull = false;
      if (this.onWritable) this.onWritable();
    }
    return msg;
  }

  private hasRoomAgain(): boolean {
    if (this.capacity <= 0) return true;
    return this.lowWater ? this.items.length <= this.capacity >> 1 : this.items.length < this.capacity;
  }

  peek(): Message | undefined {
    return this.items.peek();
  }

  private dropAll(): void {
    let msg: Message | undefined;
    while ((msg = this.items.shift()) !== undefined) if (msg.tracker) msg.tracker.release();
  }

  /** Returns a message the consumer took but could not use, to the front. */
  unshift(msg: Message): void {
    this.items.unshift(msg);
  }

  /** Drops everything queued (a dead connection's outbound messages). */
  clear(): void {
    this.dropAll();
    if (this.wasFull) {
      this.wasFull = false;
      if (this.onWritable) this.onWritable();
    }
  }
}
