import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import { carryTracker, type Message } from "../pipe/msg-queue.js";
import { Distributor } from "../routing/distributor.js";
import { zmqError } from "../errors.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";
import { singleFrame } from "./single-frame.js";
import { groupKey, isUdpPipe } from "./groups.js";

/** A message to or from RADIO/DISH: one frame, its group beside it. */
export type GroupMessage = Message & { group?: Buffer };

/**
 * RADIO (RFC 48): each message goes to the dishes that joined its group, matched
 * exactly. Dishes tell us their groups with JOIN/LEAVE (commands over tcp/ipc, marked
 * messages over inproc). On the pipe a message is two frames, [group, body]: over
 * ZMTP that is libzmq's wire form (a group frame with MORE, then the body). A udp pipe
 * gets every message: over udp the dish filters. A dish at its mark misses the message.
 */
export class RadioStrategy implements Strategy {
  private readonly dist = new Distributor();
  private readonly groups = new Map<string, Set<Pipe>>();
  private readonly udp = new Set<Pipe>();
  private readonly handshaken = new WeakSet<Pipe>();

  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void {
    this.dist.attach(pipe);
    if (isUdpPipe(pipe.endpoint)) this.udp.add(pipe);
    else this.readActivated(pipe);
  }

  /**
   * A connect-side pipe outlives its connections: after a reconnect the dish at the far
   * end (maybe another one) sends its JOINs afresh, so the old ones are forgotten.
   */
  handshake(pipe: Pipe, _peer: PeerInfo): void {
    if (!this.handshaken.has(pipe)) {
      this.handshaken.add(pipe);
      return;
    }
    this.forget(pipe);
  }

  private forget(pipe: Pipe): void {
    for (const [key, pipes] of this.groups) {
      if (pipes.delete(pipe) && pipes.size === 0) this.groups.delete(key);
    }
  }

  terminated(pipe: Pipe): void {
    this.forget(pipe);
    this.udp.delete(pipe);
    this.dist.terminated(pipe);
  }

  /** JOIN/LEAVE are taken as they arrive; anything else a dish sends is dropped. */
  readActivated(pipe: Pipe): void {
    let msg: Message | undefined;
    while ((msg = pipe.read()) !== undefined) {
      if (msg.groupCommand === undefined || msg.length !== 1) continue;
      const key = groupKey(msg[0]!);
      if (msg.groupCommand === "JOIN") {
        let pipes = this.groups.get(key);
        if (!pipes) this.groups.set(key, (pipes = new Set()));
        pipes.add(pipe);
      } else {
        const pipes = this.groups.get(key);
        if (pipes?.delete(pipe) && pipes.size === 0) this.groups.delete(key);
      }
    }
  }

  writeActivated(pipe: Pipe): void { this.dist.activated(pipe); }

  send(msg: Message): boolean {
    const body = singleFrame(msg);
    const group = (msg as GroupMessage).group;
    if (group === undefined) throw zmqError("EINVAL", "Invalid argument: RADIO messages need a group");
    for (const pipe of this.groups.get(groupKey(group)) ?? []) this.dist.match(pipe);
    for (const pipe of this.udp) this.dist.match(pipe);
    this.dist.sendToMatching(carryTracker(msg, [group, body]));
    return true;
  }

  recv(): Message | null { throw zmqError("ENOTSUP"); }
  hasIn(): boolean { return false; }
  hasOut(): boolean { return true; }
}
