import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { PipeArray } from "./pipe-array.js";

/**
 * Sends one message to many pipes (libzmq's dist_t; PUB/XPUB outbound, XSUB
 * subscriptions upstream).
 *
 * The pipe array has three regions:
 *   [0, matching)       pipes selected by match() for the next sendToMatching()
 *   [matching, active)  pipes that can take messages
 *   [active, length)    pipes that refused a write; parked until activated()
 * A parked pipe is never matched, so a slow subscriber misses messages (PUB's silent
 * drop) until it has room again. Messages are always whole, so libzmq's "eligible"
 * region (pipes attached in the middle of a multipart message) is not needed.
 */
export class Distributor {
  private readonly pipes = new PipeArray<Pipe>();
  private matching = 0;
  private active = 0;

  get size(): number {
    return this.pipes.length;
  }

  attach(pipe: Pipe): void {
    if (this.pipes.has(pipe)) return;
    this.pipes.push(pipe);
    this.activated(pipe);
  }

  terminated(pipe: Pipe): void {
    let i = this.pipes.indexOf(pipe);
    if (i < 0) return;
    if (i < this.matching) {
      this.matching--;
      this.pipes.swap(i, this.matching);
      i = this.matching;
    }
    if (i < this.active) {
      this.active--;
      this.pipes.swap(i, this.active);
    }
    this.pipes.erase(pipe);
  }

  /** The pipe has room again; no-op if unknown or already active. */
  activated(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe);
    if (i < 0 || i < this.active) return;
    this.pipes.swap(i, this.active);
    this.active++;
  }

  /** Selects the pipe for the next sendToMatching(). Parked or unknown pipes are ignored. */
  match(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe);
    if (i < 0 || i < this.matching || i >= this.active) return;
    this.pipes.swap(i, this.matching);
    this.matching++;
  }

  unmatch(): void {
    this.matching = 0;
  }

  /**
   * Hands the message to every matching pipe; a pipe that refuses it is parked and
   * misses it. Clears the match set. Every pipe gets the same Message object (the
   * frames are shared, never copied). Returns how many pipes took it.
   */
  sendToMatching(msg: Message): number {
    let sent = 0;
    let i = 0;
    while (i < this.matching) {
      if (this.pipes.at(i).write(msg)) {
        sent++;
        i++;
        continue;
      }
      // Park it: out of the matching region, then out of the active region. The pipe
      // swapped into slot i has not been tried yet, so i stays.
      this.matching--;
      this.pipes.swap(i, this.matching);
      this.active--;
      this.pipes.swap(this.matching, this.active);
    }
    this.matching = 0;
    return sent;
  }

  sendToAll(msg: Message): number {
    this.matching = this.active;
    return this.sendToMatching(msg);
  }

  /** True when every matching pipe can take a message now (XPUB_NODROP). */
  checkHwm(): boolean {
    for (let i = 0; i < this.matching; i++) {
      if (!this.pipes.at(i).writable) return false;
    }
    return true;
  }
}
