import type { Dealer, Router, Pull, Push, XPublisher, XSubscriber } from "../socket/classes.js";
import { Proxy, type ProxyOptions } from "./proxy.js";

/**
 * The three classic devices of libzmq 2 (zmq_device: QUEUE, FORWARDER, STREAMER), as
 * running proxies. Each starts the proxy and returns it; `done` is run()'s promise
 * (it settles when the proxy terminates: call proxy.terminate() to stop it, which
 * closes both sockets). Both sockets must already be bound or connected, otherwise
 * this throws as run() does.
 */
export interface RunningProxy<F extends Router | XSubscriber | Pull, B extends Dealer | XPublisher | Push> extends Proxy<F, B> {
  /** run()'s promise: resolves on termination, rejects if forwarding failed. */
  readonly done: Promise<void>;
}

function start<F extends Router | XSubscriber | Pull, B extends Dealer | XPublisher | Push>(
  front: F, back: B, options?: ProxyOptions,
): RunningProxy<F, B> {
  const proxy = options === undefined ? new Proxy(front, back) : new Proxy(front, back, options);
  const done = proxy.run();
  // The caller may never look at `done`; a failure must not become an unhandled rejection.
  done.catch(() => {});
  Object.defineProperty(proxy, "done", { value: done, enumerable: false });
  return proxy as RunningProxy<F, B>;
}

/** Request/reply broker: clients (REQ/DEALER) connect to the ROUTER front end, workers (REP/DEALER) to the DEALER back end. */
export function queue(front: Router, back: Dealer, options?: ProxyOptions): RunningProxy<Router, Dealer> {
  return start(front, back, options);
}

/**
 * Pub/sub forwarder: publishers connect to the XSUB front end, subscribers to the XPUB
 * back end. Subscriptions flow upstream: what the XPUB receives (\x01topic / \x00topic)
 * is sent into the XSUB, which passes it on to the publishers.
 */
export function forwarder(front: XSubscriber, back: XPublisher, options?: ProxyOptions): RunningProxy<XSubscriber, XPublisher> {
  return start(front, back, options);
}

/** Pipeline streamer: PUSH producers connect to the PULL front end, PULL consumers to the PUSH back end. */
export function streamer(front: Pull, back: Push, options?: ProxyOptions): RunningProxy<Pull, Push> {
  return start(front, back, options);
}
