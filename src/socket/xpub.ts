import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import { Deque } from "../pipe/deque.js";
import { FairQueue } from "../routing/fair-queue.js";
import { Distributor } from "../routing/distributor.js";
import { MultiTrie } from "../routing/multi-trie.js";
import { zmqError } from "../errors.js";
import { toFrame } from "../util/to-frame.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/**
 * XPUB (RFC 29): fans each message out to the subscribers whose prefixes match its
 * first frame, encoded once and shared. Subscriptions arriving from subscribers are
 * recorded and handed to the application (`\x01topic` / `\x00topic`) by `verbosity`:
 * by default only a topic's first subscription and last cancellation. A subscriber
 * at its mark misses the message (`noDrop` makes the send wait instead).
 */
export class XPubStrategy implements Strategy {
  protected readonly dist = new Distributor();
  private readonly fq = new FairQueue();
  protected readonly subscriptions = new MultiTrie<Pipe>();
  private readonly pending = new Deque<Message>();
  /** manual mode: the pipe of the last subscription handed to the application. */
  private lastPipe: Pipe | null = null;
  protected readonly passesUserMessages: boolean = true;

  constructor(protected readonly host: StrategyHost) {}

  attach(pipe: Pipe): void {
    this.dist.attach(pipe);
    this.fq.attach(pipe);
    const welcome = this.host.option<unknown>("welcomeMessage");
    if (welcome !== null && welcome !== undefined) pipe.write([toFrame(welcome)]);
    this.readActivated(pipe);
  }

  terminated(pipe: Pipe): void {
    this.drain(pipe);
    this.subscriptions.removePipe(pipe, (prefix) => {
      if (!this.host.option<boolean>("manual")) this.pending.push([Buffer.concat([ZERO, prefix])]);
    });
    this.dist.terminated(pipe);
    this.fq.terminated(pipe);
    if (this.lastPipe === pipe) this.lastPipe = null;
  }

  /** Subscriptions are processed as they arrive, not when the application reads. */
  readActivated(pipe: Pipe): void {
    this.drain(pipe);
    if (this.pending.length > 0) this.host.serveReceives();
  }

  private drain(pipe: Pipe): void {
    let msg: Message | undefined;
    while ((msg = pipe.read()) !== undefined) this.process(pipe, msg);
  }

  private process(pipe: Pipe, msg: Message): void {
    const first = msg[0];
    if (msg.length !== 1 || !first || first.length === 0 || (first[0] !== 0 && first[0] !== 1)) {
      if (this.passesUserMessages) this.pending.push(msg);
      return;
    }
    const subscribe = first[0] === 1;
    const topic = first.subarray(1);
    const verbosity = this.host.option<string | null>("verbosity");
    // A fresh array: over inproc `msg` is the subscriber's own, flagged as a subscription.
    const forApp: Message = [first];
    if (this.host.option<boolean>("manual")) {
      this.lastPipe = pipe;
      this.pending.push(forApp);
      return;
    }
    let tell: boolean;
    if (subscribe) {
      const isNew = this.subscriptions.add(topic, pipe);
      tell = isNew || verbosity === "allSubs" || verbosity === "allSubsUnsubs";
    } else {
      const result = this.subscriptions.remove(topic, pipe);
      tell = result === "last" || (result !== "absent" && verbosity === "allSubsUnsubs");
    }
    if (tell && this.passesUserMessages) this.pending.push(forApp);
  }

  /** manual mode: the application confirms a subscription for the last subscriber. */
  manualSubscribe(topic: Buffer, subscribe: boolean): void {
    if (!this.lastPipe) return;
    if (subscribe) this.subscriptions.add(topic, this.lastPipe);
    else this.subscriptions.remove(topic, this.lastPipe);
  }

  writeActivated(pipe: Pipe): void {
    this.dist.activated(pipe);
  }

  send(msg: Message): boolean {
    const first = msg[0] ?? EMPTY;
    this.subscriptions.match(first, (pipe) => this.dist.match(pipe));
    if (this.host.option<boolean>("noDrop") && !this.dist.checkHwm()) {
      this.dist.unmatch();
      return false;
    }
    this.dist.sendToMatching(msg);
    return true;
  }

  recv(): Message | null {
    return this.pending.shift() ?? null;
  }

  hasIn(): boolean { return this.pending.length > 0; }
  hasOut(): boolean { return true; }
}

const ZERO = Buffer.from([0]);
const EMPTY = Buffer.alloc(0);

/** PUB: an XPUB that never hands anything to the application. */
export class PubStrategy extends XPubStrategy {
  protected override readonly passesUserMessages = false;
  override recv(): Message | null {
    throw zmqError("ENOTSUP");
  }
}
