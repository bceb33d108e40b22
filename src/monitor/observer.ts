/**
 * `sock.events`: the socket's event stream, read with `receive()` / `for await`, or
 * pushed to listeners after `on()` ("event emitter mode"; the two are exclusive).
 *
 * Behaviour matched from zeromq.js v6:
 *   - closing the socket delivers `{type: "end"}` last; `closed` turns true once that
 *     event has been read (or handed to listeners), so `for await` yields "end" and then
 *     finishes; afterwards `receive()` rejects "Socket is closed" (EBADF);
 *   - after `on()` or `off()`, `receive()` throws "Observer is in event emitter mode. ...";
 *   - listeners are called asynchronously (never from inside the socket's own code);
 *   - the process stays alive while a `receive()` is pending (e.g. a `for await` over
 *     the events) and while in emitter mode, until the end; an observer nobody reads
 *     holds nothing.
 * zmq-ts differs: concurrent `receive()` calls are served in order (zeromq.js throws
 * EBUSY), and `close()` with a pending `receive()` rejects it with EBADF (zeromq.js
 * resolves it with undefined or crashes).
 */

import { EventEmitter } from "node:events";
import { zmqError } from "../errors.js";
import { Deque } from "../pipe/deque.js";
import { holdProcess, releaseProcess } from "../util/keepalive.js";
import type { Event, EventOfType, EventType } from "./events.js";

/** Events kept for a reader that has not asked yet; beyond this the oldest are dropped. */
export const OBSERVER_QUEUE_LIMIT = 1000;

interface Waiter {
  resolve(event: Event): void;
  reject(err: Error): void;
}

const EMITTER_MODE_MESSAGE =
  "Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().";

export class Observer {
  #queue = new Deque<Event>();
  #waiters = new Deque<Waiter>();
  /** No more events: "end" was delivered to a reader or listeners, or close() was called. */
  #closed = false;
  /** "end" was emitted; later events are ignored. */
  #ended = false;
  #emitter: EventEmitter | null = null;
  #drainScheduled = false;
  #holding = false;

  /** Whether the observer was closed: by close(), or because the "end" event has been consumed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal The socket calls this for each event. */
  emit(event: Event): void {
    if (this.#closed || this.#ended) return;
    if (event.type === "end") this.#ended = true;
    if (this.#emitter === null) {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        this.#deliver(event, waiter);
        return;
      }
    }
    if (this.#queue.length >= OBSERVER_QUEUE_LIMIT) this.#queue.shift();
    this.#queue.push(event);
    if (this.#emitter !== null) this.#scheduleDrain();
  }

  /** @internal The socket calls this when it has closed: emits `{type: "end"}`, the last event. */
  end(): void {
    this.emit({ type: "end" });
  }

  /** Closes the observer: no more events are received or emitted. Optional. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#queue.clear();
    this.#rejectWaiters();
    this.#updateHold();
  }

  /**
   * The next event. Resolves immediately when one is queued, otherwise waits.
   * Rejects with EBADF once the observer is closed and drained; throws (synchronously)
   * in event emitter mode.
   */
  receive(): Promise<Event> {
    if (this.#emitter !== null) throw zmqError("EFSM", EMITTER_MODE_MESSAGE);
    const event = this.#queue.shift();
    if (event !== undefined) {
      if (event.type === "end") this.#finish();
      return Promise.resolve(event);
    }
    if (this.#closed) return Promise.reject(zmqError("EBADF", "Socket is closed"));
    return new Promise<Event>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#updateHold();
    });
  }

  /**
   * Calls `listener` for each event of `type`. Switches the observer to event emitter
   * mode for good: `receive()` is no longer possible.
   */
  on<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    this.#emitterMode().on(type, listener as (event: unknown) => void);
    return this;
  }

  /** Removes a listener added with on(). Like on(), it switches to event emitter mode. */
  off<E extends EventType>(type: E, listener: (event: EventOfType<E>) => void): this {
    this.#emitterMode().off(type, listener as (event: unknown) => void);
    return this;
  }

  /** Yields events until the observer closes (the "end" event is yielded, then iteration stops). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Event> {
    const iterator: AsyncIterableIterator<Event> = {
      next: async (): Promise<IteratorResult<Event, undefined>> => {
        if (this.#closed) return { done: true, value: undefined };
        try {
          return { value: await this.receive(), done: false };
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (this.#closed && (code === "EBADF" || code === "EAGAIN")) return { done: true, value: undefined };
          throw err;
        }
      },
      return: async (): Promise<IteratorResult<Event, undefined>> => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // ---- internals -------------------------------------------------------------------

  #deliver(event: Event, waiter: Waiter): void {
    if (event.type === "end") this.#finish();
    else this.#updateHold();
    waiter.resolve(event);
  }

  /** The "end" event has been consumed: the observer is closed. */
  #finish(): void {
    this.#closed = true;
    this.#queue.clear();
    this.#rejectWaiters();
    this.#updateHold();
  }

  #rejectWaiters(): void {
    let waiter: Waiter | undefined;
    while ((waiter = this.#waiters.shift()) !== undefined) waiter.reject(zmqError("EBADF", "Socket is closed"));
  }

  #emitterMode(): EventEmitter {
    if (this.#emitter === null) {
      this.#emitter = new EventEmitter();
      // Readers that were waiting cannot be served any more.
      let waiter: Waiter | undefined;
      while ((waiter = this.#waiters.shift()) !== undefined) waiter.reject(zmqError("EFSM", EMITTER_MODE_MESSAGE));
      this.#updateHold();
      if (this.#queue.length > 0) this.#scheduleDrain();
    }
    return this.#emitter;
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(this.#drain);
  }

  #drain = (): void => {
    this.#drainScheduled = false;
    const emitter = this.#emitter;
    if (emitter === null) return;
    try {
      let event: Event | undefined;
      while (!this.#closed && (event = this.#queue.shift()) !== undefined) {
        if (event.type === "end") this.#finish();
        emitter.emit(event.type, event);
      }
    } finally {
      // A listener threw: deliver the rest later, let the error surface as uncaught.
      if (!this.#closed && this.#queue.length > 0) this.#scheduleDrain();
    }
  };

  /**
   * Keeps the process alive while someone is waiting for events: a pending receive(),
   * or listeners in emitter mode, until the observer closes.
   */
  #updateHold(): void {
    const wanted = !this.#closed && (this.#waiters.length > 0 || this.#emitter !== null);
    if (wanted === this.#holding) return;
    this.#holding = wanted;
    if (wanted) holdProcess();
    else releaseProcess();
  }
}
