import { Socket } from "./socket-base.js";
import type { SubStrategy } from "./xsub.js";
import type { XPubStrategy } from "./xpub.js";
import { toFrame } from "../util/to-frame.js";
import { commonOptionNames, classOptionNames, defineOptionAccessors } from "./options.js";

type Options = Record<string, unknown>;

/*
 * The socket classes zeromq.js users know. Each is the generic Socket with its type
 * number (the routing lives in the strategy of that number) plus the few methods
 * of its own. Options are accessor properties defined from the one option table.
 */

export class Pair extends Socket {
  constructor(options?: Options) { super(0, options); }
}

export class Publisher extends Socket {
  constructor(options?: Options) { super(1, options); }
}

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

export class Request extends Socket {
  constructor(options?: Options) { super(3, options); }
}

export class Reply extends Socket {
  constructor(options?: Options) { super(4, options); }
}

export class Dealer extends Socket {
  constructor(options?: Options) { super(5, options); }
}

export class Router extends Socket {
  constructor(options?: Options) { super(6, options); }
}

export class Pull extends Socket {
  constructor(options?: Options) { super(7, options); }
}

export class Push extends Socket {
  constructor(options?: Options) { super(8, options); }
}

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

export class XSubscriber extends Socket {
  constructor(options?: Options) { super(10, options); }
}

export class Stream extends Socket {
  constructor(options?: Options) { super(11, options); }
}

defineOptionAccessors(Socket.prototype, commonOptionNames);
const classes: Record<string, { prototype: object }> = {
  Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream,
};
for (const [name, cls] of Object.entries(classes)) defineOptionAccessors(cls.prototype, classOptionNames[name] ?? []);
