import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { Ring } from "./ring.js";

/**
 * Fair queuing over inbound pipes (libzmq's fq_t; PULL, DEALER, ROUTER, SUB inbound).
 *
 * The rotation holds the pipes that may have something to read; a pipe found empty is
 * parked until `activated()` (its inbound queue's empty -> non-empty notification,
 * which is always delivered). One whole message is taken per pipe in turn; every pipe
 * with messages is served once per round (see ring.ts).
 *
 * A terminated pipe may still hold messages the peer sent before it went away; they are
 * never lost: the pipe stays (and counts in `size`) until it has been drained, then
 * leaves by itself.
 */
export class FairQueue {
  private readonly ring = new Ring<Pipe>();
  /** Pipes whose termination was reported while they still held messages. */
  private readonly ending = new Set<Pipe>();

  get size(): number {
    return this.ring.size;
  }

  attach(pipe: Pipe): void {
    if (this.ring.add(pipe)) this.ring.activate(pipe);
  }

  terminated(pipe: Pipe): void {
    if (!this.ring.has(pipe)) return;
    if (pipe.readable) {
      // Keep it until its messages are read; make sure it is in the rotation.
      this.ending.add(pipe);
      this.ring.activate(pipe);
      return;
    }
    this.remove(pipe);
  }

  /** The pipe has messages now; no-op if unknown or already in the rotation. */
  activated(pipe: Pipe): void {
    this.ring.activate(pipe);
  }

  /** Takes the next whole message, one per pipe in turn; null when there is none. */
  recv(): { msg: Message; pipe: Pipe } | null {
    for (let pipe = this.ring.current; pipe !== undefined; pipe = this.ring.current) {
      const msg = pipe.read();
      if (msg !== undefined) {
        this.ring.advance();
        if (!pipe.readable && this.ending.has(pipe)) this.remove(pipe);
        return { msg, pipe };
      }
      this.parkOrRemove(pipe);
    }
    return null;
  }

  /** True if some pipe has a message to read now. Parks the empty pipes it passes. */
  get hasIn(): boolean {
    for (let pipe = this.ring.current; pipe !== undefined; pipe = this.ring.current) {
      if (pipe.readable) return true;
      this.parkOrRemove(pipe);
    }
    return false;
  }

  private parkOrRemove(pipe: Pipe): void {
    if (this.ending.has(pipe)) this.remove(pipe);
    else this.ring.park(pipe);
  }

  private remove(pipe: Pipe): void {
    this.ending.delete(pipe);
    this.ring.delete(pipe);
  }
}
