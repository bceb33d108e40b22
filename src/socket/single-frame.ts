import type { Message } from "../pipe/msg-queue.js";
import { carryTracker } from "../pipe/msg-queue.js";
import { zmqError } from "../errors.js";
import type { FairQueue } from "../routing/fair-queue.js";

/**
 * The draft socket types are thread-safe in libzmq and so carry one frame per message:
 * sending more is EINVAL (libzmq refuses ZMQ_SNDMORE on them).
 */
export function singleFrame(msg: Message): Buffer {
  if (msg.length !== 1) throw zmqError("EINVAL", "Invalid argument: draft sockets send single-frame messages");
  return msg[0]!;
}

/** A fresh one-frame array for a pipe: over inproc the sender's array would reach the peer with our annotations. */
export function bare(msg: Message, frame: Buffer): Message {
  return carryTracker(msg, [frame]);
}

/** What a draft socket does with a multipart message from a peer: drops it, as libzmq does. */
export const isSingleFrame = (msg: Message): boolean => msg.length === 1;

/** The next single-frame message from the fair queue, dropping multipart ones on the way. */
export function nextSingleFrame(fq: FairQueue): Message | null {
  for (;;) {
    const got = fq.recv();
    if (!got || isSingleFrame(got.msg)) return got?.msg ?? null;
  }
}
