import type { Message } from "../pipe/msg-queue.js";
import { PairStrategy } from "./pair.js";
import { bare, isSingleFrame, singleFrame } from "./single-frame.js";

/** CHANNEL: a PAIR of single-frame messages (libzmq's thread-safe PAIR). */
export class ChannelStrategy extends PairStrategy {
  override send(msg: Message): boolean {
    return super.send(bare(msg, singleFrame(msg)));
  }

  override recv(): Message | null {
    for (;;) {
      const msg = super.recv();
      if (!msg || isSingleFrame(msg)) return msg;
    }
  }
}
