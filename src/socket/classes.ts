import { Socket } from "./socket-base.js";
import type { SubStrategy } from "./xsub.js";
import type { XPubStrategy } from "./xpub.js";
import { toFrame } from "../util/to-frame.js";
import { commonOptionNames, classOptionNames, defineOptionAccessors } from "./options.js";

import type * as O from "./option-types.js";

type Options = Record<string, unknown>;

declare module "./socket-base.js" {
  interface Socket extends O.CommonSocketOptions {}
}

/*
 * The socket classes zeromq.js users know. Each is the generic Socket with its type
 * number (the routing lives in the strategy of that number) plus the few methods
 * of its own. Options are accessor properties defined from the one option table.
 */

export interface Pair extends O.PairOptions {}
export class Pair extends Socket {
  constructor(options?: Options) { super(0, options); }
}

export interface Publisher extends O.PublisherOptions {}
export class Publisher extends Socket {
  constructor(options?: Options) { super(1, options); }
}

export interface Subscriber extends O.SubscriberOptions {}
export class Subscriber extends Socket {
  constructor(options?: Options) { super(2, options); }

  /** Subscribes to each prefix; with none, to everything. */
  subscribe(...prefixes: Array<string | Buffer>): void {
    const strategy = this._strategy as SubStrategy;
    if (prefixes.length === 0) strategy.subscribe(Buffer.alloc(0));
    for (const p of prefixes) strategy.subscribe(toFrame(p));
  }

  /** Cancels each prefix; with none, the subscription to everything. */
  unsubscribe(...prefixes: Array<string | Buffer>): void {
    const strategy = this._strategy as SubStrategy;
    if (prefixes.length === 0) strategy.unsubscribe(Buffer.alloc(0));
    for (const p of prefixes) strategy.unsubscribe(toFrame(p));
  }
}

export interface Request extends O.RequestOptions {}
export class Request extends Socket {
  constructor(options?: Options) { super(3, options); }
}

export interface Reply extends O.ReplyOptions {}
export class Reply extends Socket {
  constructor(options?: Options) { super(4, options); }
}

export interface Dealer extends O.DealerOptions {}
export class Dealer extends Socket {
  constructor(options?: Options) { super(5, options); }
}

export interface Router extends O.RouterOptions {}
export class Router extends Socket {
  constructor(options?: Options) { super(6, options); }
}

export interface Pull extends O.PullOptions {}
export class Pull extends Socket {
  constructor(options?: Options) { super(7, options); }
}

export interface Push extends O.PushOptions {}
export class Push extends Socket {
  constructor(options?: Options) { super(8, options); }
}

export interface XPublisher extends O.XPublisherOptions {}
export class XPublisher extends Socket {
  constructor(options?: Options) { super(9, options); }

  /** manual mode: accept the last received subscription for its subscriber. */
  subscribe(...prefixes: Array<string | Buffer>): void {
    for (const p of prefixes.length ? prefixes : [""]) (this._strategy as XPubStrategy).manualSubscribe(toFrame(p), true);
  }

  unsubscribe(...prefixes: Array<string | Buffer>): void {
    for (const p of prefixes.length ? prefixes : [""]) (this._strategy as XPubStrategy).manualSubscribe(toFrame(p), false);
  }
}

export interface XSubscriber extends O.XSubscriberOptions {}
export class XSubscriber extends Socket {
  constructor(options?: Options) { super(10, options); }
}

export interface Stream extends O.StreamOptions {}
export class Stream extends Socket {
  constructor(options?: Options) { super(11, options); }
}

defineOptionAccessors(Socket.prototype, commonOptionNames);
const classes: Record<string, { prototype: object }> = {
  Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream,
};
for (const [name, cls] of Object.entries(classes)) defineOptionAccessors(cls.prototype, classOptionNames[name] ?? []);
