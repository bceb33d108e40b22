import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/** PULL (RFC 30): fair-queues whole messages from all peers. */
export class PullStrategy implements Strategy {
  protected readonly fq = new FairQueue();
  constructor(_host: StrategyHost) {}
  attach(pipe: Pipe): void { this.fq.attach(pipe); }
  terminated(pipe: Pipe): void { this.fq.terminated(pipe); }
  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(): void {}
  send(): boolean { throw zmqError("ENOTSUP"); }
  recv(): Message | null { return this.fq.recv()?.msg ?? null; }
  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return false; }
}
