import type { Pipe, PeerInfo } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { FairQueue } from "../routing/fair-queue.js";
import { Distributor } from "../routing/distributor.js";
import { Trie } from "../routing/trie.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/** A one-frame subscription message: 1 (subscribe) or 0 (cancel), then the topic. */
export function subscriptionMessage(subscribe: boolean, topic: Uint8Array): Message {
  const frame = Buffer.allocUnsafe(topic.length + 1);
  frame[0] = subscribe ? 1 : 0;
  frame.set(topic, 1);
  const msg: Message = [frame];
  msg.subscription = true;
  return msg;
}

/**
 * XSUB (RFC 29): fair-queues messages from publishers, keeps only those matching a
 * subscription prefix, and sends its subscriptions to every publisher — again to one
 * that reconnects, since the publisher forgot them with the connection.
 */
export class XSubStrategy implements Strategy {
  protected readonly fq = new FairQueue();
  protected readonly dist = new Distributor();
  protected readonly subscriptions = new Trie();
  private readonly handshaken = new WeakSet<Pipe>();

  constructor(protected readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    this.fq.attach(pipe);
    this.dist.attach(pipe);
    this.sendSubscriptions(pipe);
  }

  handshake(pipe: Pipe, _peer: PeerInfo): void {
    // The first handshake carries what attach() queued; later ones are reconnects.
    if (this.handshaken.has(pipe)) this.sendSubscriptions(pipe);
    else this.handshaken.add(pipe);
  }

  private sendSubscriptions(pipe: Pipe): void {
    this.subscriptions.forEach((prefix) => {
      pipe.write(subscriptionMessage(true, prefix));
    });
  }

  terminated(pipe: Pipe): void {
    this.fq.terminated(pipe);
    this.dist.terminated(pipe);
  }

  readActivated(pipe: Pipe): void { this.fq.activated(pipe); }
  writeActivated(pipe: Pipe): void { this.dist.activated(pipe); }

  /** XSUB's send: subscription messages update our filter and go upstream; other messages go upstream as they are. */
  send(msg: Message): boolean {
    const first = msg[0];
    if (msg.length === 1 && first && first.length > 0 && (first[0] === 1 || first[0] === 0)) {
      this.changeSubscription(first[0] === 1, first.subarray(1));
      return true;
    }
    this.dist.sendToAll(msg);
    return true;
  }

  protected changeSubscription(subscribe: boolean, topic: Buffer): void {
    if (subscribe) {
      // Sent upstream every time: XPUB decides about duplicates (and verbose XPUBs want them).
      this.subscriptions.add(topic);
      this.dist.sendToAll(subscriptionMessage(true, topic));
    } else if (this.subscriptions.remove(topic)) {
      this.dist.sendToAll(subscriptionMessage(false, topic));
    }
  }

  recv(): Message | null {
    for (;;) {
      const got = this.fq.recv();
      if (!got) return null;
      const first = got.msg[0];
      if (first && this.subscriptions.check(first)) return got.msg;
      if (!first && this.subscriptions.check(EMPTY)) return got.msg;
    }
  }

  hasIn(): boolean { return this.fq.hasIn; }
  hasOut(): boolean { return true; }
}

const EMPTY = new Uint8Array(0);

/** SUB: an XSUB whose subscriptions change through subscribe()/unsubscribe() only. */
export class SubStrategy extends XSubStrategy {
  subscribe(topic: Buffer): void {
    this.changeSubscription(true, topic);
  }
  unsubscribe(topic: Buffer): void {
    this.changeSubscription(false, topic);
  }
  override send(): boolean {
    throw Object.assign(new Error("Operation not supported"), { code: "ENOTSUP", errno: 95 });
  }
  override hasOut(): boolean { return false; }
}
