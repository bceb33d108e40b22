import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { Distributor } from "../routing/distributor.js";
import { zmqError } from "../errors.js";
import { GROUP_MAX_LENGTH } from "../wire/commands.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";
import type { GroupMessage } from "./radio.js";
import { groupKey } from "./groups.js";

function groupCommand(command: "JOIN" | "LEAVE", group: Buffer): Message {
  const msg: Message = [group];
  msg.groupCommand = command;
  return msg;
}

/**
 * DISH (RFC 48): fair-queues [group, body] messages from radios and keeps those of
 * the groups it joined (radios over tcp filter already; over udp everything arrives).
 * Joins go to every radio, again to one that reconnects, since it forgot them.
 */
export class DishStrategy implements Strategy {
  private readonly fq = new FairQueue();
  private readonly dist = new Distributor();
  private readonly joined = new Map<string, Buffer>();
  private readonly handshaken = new WeakSet<Pipe>();

  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void {
    this.fq.attach(pipe);
    this.dist.attach(pipe);
    this.sendJoins(pipe);
  }

  handshake(pipe: Pipe, _peer: PeerInfo): void {
    // The first handshake carries what attach() queued; later ones are reconnects.
    if (this.handshaken.has(pipe)) this.sendJoins(pipe);
    else this.handshaken.add(pipe);
  }

  private sendJoins(pipe: Pipe): void {
    for (const group of this.joined.values()) pipe.write(groupCommand("JOIN", group));
  }

  /** EINVAL for a group over 255 bytes or one already joined, as libzmq. */
  join(group: Buffer): void {
    const key = groupKey(group);
    if (group.length > GROUP_MAX_LENGTH || this.joined.has(key)) throw zmqError("EINVAL");
    this.joined.set(key, group);
    this.dist.sendToAll(groupCommand("JOIN", group));
  }

  /** EINVAL for a group not joined, as libzmq. */
  leave(group: Buffer): void {
    const key = groupKey(group);
    if (group.length > GROUP_MAX_LENGTH || !this.joined.delete(key)) throw zmqError("EINVAL");
    this.dist.sendToAll(groupCommand("LEAVE", group));
  }

  terminated(pipe: Pipe): void {
    this.fq.terminated(pipe);
    this.dist.terminated(pipe);
  }

  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(pipe: Pipe): void { this.dist.activated(pipe); }
  send(): boolean { throw zmqError("ENOTSUP"); }

  recv(): Message | null {
    for (;;) {
      const got = this.fq.recv();
      if (!got) return null;
      // Anything but [group, body] is a radio's protocol error; it is dropped.
      if (got.msg.length !== 2) continue;
      const group = got.msg[0]!;
      if (group.length > GROUP_MAX_LENGTH || !this.joined.has(groupKey(group))) continue;
      const out: GroupMessage = [got.msg[1]!];
      out.group = group;
      return out;
    }
  }

  hasIn(): boolean {
    // A message of a group we left may be queued: hasIn is a hint, as fq's is for SUB.
    return this.fq.hasIn;
  }
  hasOut(): boolean { return false; }
}
