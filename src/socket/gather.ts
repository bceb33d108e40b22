import type { Message } from "../pipe/msg-queue.js";
import { PullStrategy } from "./pull.js";
import { PushStrategy } from "./push.js";
import { bare, nextSingleFrame, singleFrame } from "./single-frame.js";

/** GATHER: a PULL of single-frame messages (multipart ones from a peer are dropped). */
export class GatherStrategy extends PullStrategy {
  override recv(): Message | null {
    return nextSingleFrame(this.fq);
  }
}

/** SCATTER: a PUSH of single-frame messages. */
export class ScatterStrategy extends PushStrategy {
  override send(msg: Message): boolean {
    return super.send(bare(msg, singleFrame(msg)));
  }
}
