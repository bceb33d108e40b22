import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { Ring } from "./ring.js";

/**
 * Round-robin over the pipes that can take a message (libzmq's lb_t; PUSH, DEALER and
 * REQ outbound).
 *
 * Pipes in the rotation are those we believe can take a message; a pipe that refuses a
 * write is parked until `activated()` (the pipe's onWritable, which a refused write
 * always arms). The rotation advances by one pipe per message sent, so consecutive
 * messages go to consecutive pipes and a new send carries on where the last one
 * stopped. See ring.ts for why the rotation is a linked ring rather than libzmq's
 * array with swaps (strict fairness).
 */
export class LoadBalancer {
  private readonly ring = new Ring<Pipe>();

  get size(): number {
    return this.ring.size;
  }

  /** The new pipe joins the end of the rotation. */
  attach(pipe: Pipe): void {
    if (this.ring.add(pipe)) this.ring.activate(pipe);
  }

  terminated(pipe: Pipe): void {
    this.ring.delete(pipe);
  }

  /** The pipe has room again; no-op if it is unknown or already in the rotation. */
  activated(pipe: Pipe): void {
    this.ring.activate(pipe);
  }

  /**
   * Hands the whole message to the next pipe that takes it. Pipes that refuse are
   * parked until activated. Returns the pipe used, or null when none took it.
   */
  send(msg: Message): Pipe | null {
    for (let pipe = this.ring.current; pipe !== undefined; pipe = this.ring.current) {
      if (pipe.write(msg)) {
        this.ring.advance();
        return pipe;
      }
      this.ring.park(pipe);
    }
    return null;
  }

  /**
   * True if some pipe in the rotation can take a message now. Does not park pipes
   * (a pipe only leaves the rotation after a refused write, which guarantees that its
   * owner will be told when it has room again).
   */
  get hasOut(): boolean {
    return this.ring.someActive((p) => p.writable);
  }
}
