import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { LoadBalancer } from "../routing/load-balancer.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/** PUSH (RFC 30): round-robin to peers; waits (never drops) when all are full or none exist. */
export class PushStrategy implements Strategy {
  private readonly lb = new LoadBalancer();
  constructor(_host: StrategyHost) {}
  attach(pipe: Pipe): void { this.lb.attach(pipe); }
  terminated(pipe: Pipe): void { this.lb.terminated(pipe); }
  readActivated(): void {}
  writeActivated(pipe: Pipe): void { this.lb.activated(pipe); }
  send(msg: Message): boolean { return this.lb.send(msg) !== null; }
  recv(): Message | null { throw zmqError("ENOTSUP"); }
  hasIn(): boolean { return false; }
  hasOut(): boolean { return this.lb.hasOut; }
}
