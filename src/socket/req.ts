import type { Pipe } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { zmqError } from "../errors.js";
import { DealerStrategy } from "./dealer.js";
import type { StrategyHost } from "./strategy-types.js";

const EMPTY = Buffer.alloc(0);

/**
 * REQ (RFC 28): a DEALER that alternates send and receive, puts the empty delimiter
 * in front of each request, and accepts a reply only from the peer it asked, with
 * the delimiter (and with `correlate`, the request id) it expects. Stray or malformed
 * replies are dropped, as libzmq does.
 */
export class ReqStrategy extends DealerStrategy {
  private awaitingReply = false;
  private replyPipe: Pipe | null = null;
  private requestId = (Math.random() * 0xffffffff) >>> 0;

  constructor(host: StrategyHost) {
    super(host);
  }

  override send(msg: Message): boolean {
    if (this.awaitingReply && !this.host.option<boolean>("relaxed")) {
      throw zmqError("EFSM");
    }
    let envelope: Message;
    if (this.host.option<boolean>("correlate")) {
      this.requestId = (this.requestId + 1) >>> 0;
      const id = Buffer.allocUnsafe(4);
      id.writeUInt32BE(this.requestId);
      envelope = [id, EMPTY, ...msg];
    } else {
      envelope = [EMPTY, ...msg];
    }
    const pipe = this.lb.send(carryTracker(msg, envelope));
    if (!pipe) return false;
    this.replyPipe = pipe;
    this.awaitingReply = true;
    return true;
  }

  override recv(): Message | null {
    if (!this.awaitingReply) throw zmqError("EFSM");
    for (;;) {
      const got = this.fq.recv();
      if (!got) return null;
      if (got.pipe !== this.replyPipe) continue;
      const body = this.unwrap(got.msg);
      if (!body) continue;
      this.awaitingReply = false;
      this.replyPipe = null;
      return body;
    }
  }

  /** The reply without its envelope, or null if the envelope is not the one expected. */
  private unwrap(msg: Message): Message | null {
    let at = 0;
    if (this.host.option<boolean>("correlate")) {
      const id = msg[0];
      if (!id || id.length !== 4 || id.readUInt32BE(0) !== this.requestId) return null;
      at = 1;
    }
    if (msg.length <= at || msg[at]!.length !== 0) return null;
    return msg.slice(at + 1);
  }

  override terminated(pipe: Pipe): void {
    super.terminated(pipe);
    // The peer we asked is gone: with `relaxed` a new request may go elsewhere.
    if (pipe === this.replyPipe && this.host.option<boolean>("relaxed")) this.replyPipe = null;
  }

  override hasIn(): boolean {
    return this.awaitingReply && this.fq.hasIn;
  }

  override hasOut(): boolean {
    return (!this.awaitingReply || this.host.option<boolean>("relaxed")) && this.lb.hasOut;
  }
}
