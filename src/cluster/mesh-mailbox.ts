/**
 * The mesh's mailbox: received values waiting for their recv, and recvs waiting for
 * their value, keyed by (sender, job, tag). Per key it is first in, first out, and a
 * peer's DEALER → our ROUTER keeps its messages in order, so two sends with the same
 * tag are received in the order they were sent (as MPI matches messages).
 *
 * A message may arrive before its recv is called (a faster peer, a task that starts
 * later here): it waits in the box. A recv that gives up (timeout, abort) takes its
 * waiter out, so a value arriving later is kept for the next recv, not lost.
 */

export interface Waiter {
  deliver(value: unknown): void;
}

interface Slot {
  job: string | undefined;
  values: unknown[];
  waiters: Waiter[];
}

export function mailboxKey(from: number, job: string | undefined, tag: string): string {
  // Job ids and tags are free text; the lengths make the key unambiguous.
  const j = job ?? "";
  return `${from}:${j.length}:${j}:${tag}`;
}

export class Mailbox {
  /**
   * Only keys with a value or a waiter have a slot (an empty one is forgotten at once),
   * so there are few, and dropJob can look at all of them instead of keeping an index
   * by job up to date on every message.
   */
  readonly #slots = new Map<string, Slot>();

  #slot(key: string, job: string | undefined): Slot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { job, values: [], waiters: [] };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  #forgetIfEmpty(key: string, slot: Slot): void {
    if (slot.values.length > 0 || slot.waiters.length > 0) return;
    this.#slots.delete(key);
  }

  /** A value arrived: hand it to the first waiter, or keep it. */
  put(key: string, job: string | undefined, value: unknown): void {
    const slot = this.#slot(key, job);
    const waiter = slot.waiters.shift();
    if (waiter) {
      this.#forgetIfEmpty(key, slot);
      waiter.deliver(value);
    } else {
      slot.values.push(value);
    }
  }

  /** Takes a kept value at once, if there is one (`found` false otherwise). */
  take(key: string): { found: boolean; value?: unknown } {
    const slot = this.#slots.get(key);
    if (!slot || slot.values.length === 0) return { found: false };
    const value = slot.values.shift();
    this.#forgetIfEmpty(key, slot);
    return { found: true, value };
  }

  /** Waits for the next value of `key` (call after take() found none). */
  wait(key: string, job: string | undefined, waiter: Waiter): void {
    this.#slot(key, job).waiters.push(waiter);
  }

  /** A waiter that gave up leaves the queue. */
  cancel(key: string, waiter: Waiter): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    const i = slot.waiters.indexOf(waiter);
    if (i >= 0) slot.waiters.splice(i, 1);
    this.#forgetIfEmpty(key, slot);
  }

  /** Drops the kept values of a job (its waiters are failed by their owners first). */
  dropJob(job: string): number {
    let dropped = 0;
    for (const [key, slot] of this.#slots) {
      if (slot.job !== job) continue;
      dropped += slot.values.length;
      slot.values.length = 0;
      if (slot.waiters.length === 0) this.#slots.delete(key);
    }
    return dropped;
  }

  /** How many values are kept (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += slot.values.length;
    return n;
  }

  clear(): void {
    this.#slots.clear();
  }
}
