import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { LoadBalancer } from "../routing/load-balancer.js";
import { FairQueue } from "../routing/fair-queue.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";
import { bare, nextSingleFrame, singleFrame } from "./single-frame.js";

/** CLIENT (RFC 41): a DEALER of single-frame messages: round-robin out, fair-queue in. */
export class ClientStrategy implements Strategy {
  private readonly lb = new LoadBalancer();
  private readonly fq = new FairQueue();
  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void {
    this.lb.attach(pipe);
    this.fq.attach(pipe);
  }
  terminated(pipe: Pipe): void {
    this.lb.terminated(pipe);
    this.fq.terminated(pipe);
  }
  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(pipe: Pipe): void { this.lb.activated(pipe); }
  send(msg: Message): boolean { return this.lb.send(bare(msg, singleFrame(msg))) !== null; }
  recv(): Message | null { return nextSingleFrame(this.fq); }
  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return this.lb.hasOut; }
}
