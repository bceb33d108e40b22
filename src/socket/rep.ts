import type { Pipe } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/**
 * REP (RFC 28): receives a request, keeps its envelope (every frame up to and
 * including the empty delimiter) and the peer it came from, and sends the reply back
 * the same way. Requests without a delimiter are dropped; a reply to a peer that has
 * gone is dropped, as libzmq does.
 */
export class RepStrategy implements Strategy {
  private readonly fq = new FairQueue();
  private replyTo: Pipe | null = null;
  private envelope: Buffer[] = [];
  private sendingReply = false;

  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void { this.fq.attach(pipe); }
  terminated(pipe: Pipe): void { this.fq.terminated(pipe); }
  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(): void {}

  recv(): Message | null {
    if (this.sendingReply) throw zmqError("EFSM");
    for (;;) {
      const got = this.fq.recv();
      if (!got) return null;
      const msg = got.msg;
      let delimiter = -1;
      for (let i = 0; i < msg.length; i++) {
        if (msg[i]!.length === 0) {
          delimiter = i;
          break;
        }
      }
      if (delimiter < 0) continue; // malformed request: no envelope
      this.envelope = msg.slice(0, delimiter + 1);
      this.replyTo = got.pipe;
      this.sendingReply = true;
      return msg.slice(delimiter + 1);
    }
  }

  send(msg: Message): boolean {
    if (!this.sendingReply) throw zmqError("EFSM");
    const pipe = this.replyTo;
    const reply: Message = carryTracker(msg, this.envelope.concat(msg));
    this.sendingReply = false;
    this.replyTo = null;
    this.envelope = [];
    if (pipe && !pipe.terminated) pipe.write(reply); // at the mark the reply is dropped, as ROUTER does
    return true;
  }

  hasIn(): boolean { return !this.sendingReply && this.fq.hasIn; }
  hasOut(): boolean { return this.sendingReply; }
}
