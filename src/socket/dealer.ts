import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { LoadBalancer } from "../routing/load-balancer.js";
import { FairQueue } from "../routing/fair-queue.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

const PROBE: Message = [Buffer.alloc(0)];

/** DEALER (RFC 28): round-robin out, fair-queue in, no envelopes of its own. */
export class DealerStrategy implements Strategy {
  protected readonly lb = new LoadBalancer();
  protected readonly fq = new FairQueue();
  constructor(protected readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    // probeRouter: an empty message tells a ROUTER peer we exist before we speak.
    if (this.host.option<boolean>("probeRouter")) pipe.write(PROBE);
    this.lb.attach(pipe);
    this.fq.attach(pipe);
  }
  terminated(pipe: Pipe): void {
    this.lb.terminated(pipe);
    this.fq.terminated(pipe);
  }
  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(pipe: Pipe): void { this.lb.activated(pipe); }
  send(msg: Message): boolean { return this.lb.send(msg) !== null; }
  recv(): Message | null { return this.fq.recv()?.msg ?? null; }
  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return this.lb.hasOut; }
}
