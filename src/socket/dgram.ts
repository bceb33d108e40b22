import type { Pipe } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/**
 * DGRAM: messages are two frames, [address "ip:port", body], both ways, over its one
 * udp endpoint. Anything else is EINVAL, as libzmq. Without an endpoint a message is
 * dropped (there is nowhere to send it).
 */
export class DgramStrategy implements Strategy {
  private pipe: Pipe | null = null;

  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void {
    if (this.pipe) {
      pipe.terminate();
      return;
    }
    this.pipe = pipe;
  }

  terminated(pipe: Pipe): void {
    if (pipe === this.pipe) this.pipe = null;
  }

  readActivated(): void {}
  writeActivated(): void {}

  send(msg: Message): boolean {
    if (msg.length !== 2) throw zmqError("EINVAL", "Invalid argument: DGRAM messages are [address, body]");
    if (!this.pipe) return true;
    return this.pipe.write(carryTracker(msg, [msg[0]!, msg[1]!]));
  }

  recv(): Message | null { return this.pipe?.read() ?? null; }
  hasIn(): boolean { return this.pipe?.readable ?? false; }
  hasOut(): boolean { return this.pipe?.writable ?? false; }
}
