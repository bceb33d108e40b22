import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { LoadBalancer } from "../routing/load-balancer.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";
import { bare, isSingleFrame, singleFrame } from "./single-frame.js";

/** GATHER: a PULL of single-frame messages (multipart ones from a peer are dropped). */
export class GatherStrategy implements Strategy {
  private readonly fq = new FairQueue();
  constructor(_host: StrategyHost) {}
  attach(pipe: Pipe): void { this.fq.attach(pipe); }
  terminated(pipe: Pipe): void { this.fq.terminated(pipe); }
  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(): void {}
  send(): boolean { throw zmqError("ENOTSUP"); }
  recv(): Message | null {
    for (;;) {
      const got = this.fq.recv();
      if (!got || isSingleFrame(got.msg)) return got?.msg ?? null;
    }
  }
  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return false; }
}

/** SCATTER: a PUSH of single-frame messages. */
export class ScatterStrategy implements Strategy {
  private readonly lb = new LoadBalancer();
  constructor(_host: StrategyHost) {}
  attach(pipe: Pipe): void { this.lb.attach(pipe); }
  terminated(pipe: Pipe): void { this.lb.terminated(pipe); }
  readActivated(): void {}
  writeActivated(pipe: Pipe): void { this.lb.activated(pipe); }
  send(msg: Message): boolean { return this.lb.send(bare(msg, singleFrame(msg))) !== null; }
  recv(): Message | null { throw zmqError("ENOTSUP"); }
  hasIn(): boolean { return false; }
  hasOut(): boolean { return this.lb.hasOut; }
}
