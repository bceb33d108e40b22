import { randomBytes } from "node:crypto";
import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";
import { bare, isSingleFrame, singleFrame } from "./single-frame.js";

/** A message to or from a SERVER/PEER: the peer is named by a 32-bit routing id beside the frames. */
export type RoutedMessage = Message & { routingId?: number };

/**
 * SERVER (RFC 41): each peer gets a 32-bit routing id when it attaches (counting up
 * from a random start, never 0, as libzmq); received messages carry it, sent messages
 * name it. An unknown id is EHOSTUNREACH; a full peer makes the send wait.
 */
export class ServerStrategy implements Strategy {
  private readonly fq = new FairQueue();
  private readonly byId = new Map<number, Pipe>();
  /** Kept after the pipe ends so that messages it left behind still say who sent them. */
  private readonly ids = new WeakMap<Pipe, number>();
  private nextId = randomBytes(4).readUInt32BE(0);
  /** The id given to the most recently attached pipe (PEER's connectPeer reads it). */
  lastAttachedId = 0;

  constructor(protected readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    let id = this.nextId;
    if (id === 0) id = 1;
    this.nextId = (id + 1) >>> 0;
    this.byId.set(id, pipe);
    this.ids.set(pipe, id);
    this.lastAttachedId = id;
    this.fq.attach(pipe);
  }

  terminated(pipe: Pipe): void {
    const id = this.ids.get(pipe);
    if (id !== undefined && this.byId.get(id) === pipe) this.byId.delete(id);
    this.fq.terminated(pipe);
  }

  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(): void {}

  send(msg: Message): boolean {
    const frame = singleFrame(msg);
    const id = (msg as RoutedMessage).routingId;
    const pipe = id === undefined ? undefined : this.byId.get(id);
    if (!pipe || pipe.terminated) throw zmqError("EHOSTUNREACH");
    return pipe.write(bare(msg, frame));
  }

  recv(): Message | null {
    for (;;) {
      const got = this.fq.recv();
      if (!got) return null;
      if (!isSingleFrame(got.msg)) continue;
      const out: RoutedMessage = [got.msg[0]!];
      out.routingId = this.ids.get(got.pipe);
      return out;
    }
  }

  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return true; }
}
