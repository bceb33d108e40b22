import type { Socket } from "../socket/socket-base.js";
import { zmqError } from "../errors.js";
import {
  Relay, checkNoArgs, checkRunnable, checkSocketArg, newSideStatistics, snapshot,
  type DeviceStatistics, type RouteSpec,
} from "./relay.js";

export type { DeviceStatistics, SideStatistics } from "./relay.js";

/** libzmq's extras over zeromq.js's Proxy (zmq_proxy's capture, zmq_proxy_steerable's control). */
export interface ProxyOptions {
  /** Gets a copy of every message, in both directions, before it is forwarded (zmq_proxy's capture). */
  capture?: Socket;
  /**
   * Steers the proxy with libzmq's commands: PAUSE, RESUME, TERMINATE, STATISTICS (8 frames
   * of uint64 little-endian). A REP control socket gets an empty reply to every other command.
   */
  control?: Socket;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * zeromq.js's Proxy, over our sockets: messages read on the front end are sent on the
 * back end and the reverse, as libzmq's zmq_proxy does. run() starts it and resolves
 * once it has terminated; on termination the front and back ends are closed, as
 * zeromq.js does (the capture and control sockets are left to their owner).
 *
 * Messages move in batches through the sockets' synchronous edge; a full destination
 * stops the direction that feeds it (at most one message is held), so back-pressure
 * reaches the sender through the high-water marks.
 *
 * Statistics count frames and bytes as libzmq 4.3.5 does: each part of a multipart
 * message is one message (a ROUTER front end's routing-id frame included).
 */
export class Proxy<F extends Socket = Socket, B extends Socket = Socket> {
  readonly #frontEnd: F;
  readonly #backEnd: B;
  readonly #capture: Socket | null;
  readonly #control: Socket | null;
  #relay: Relay | null = null;
  #stats: DeviceStatistics = { frontEnd: newSideStatistics(), backEnd: newSideStatistics() };

  constructor(frontEnd: F, backEnd: B, options?: ProxyOptions);
  constructor(...args: unknown[]) {
    const [front, back, options] = args;
    if (front === null || (typeof front !== "object" && typeof front !== "function")) {
      throw new TypeError("Front-end must be a socket object");
    }
    if (back === null || (typeof back !== "object" && typeof back !== "function")) {
      throw new TypeError("Back-end must be a socket object");
    }
    // zeromq.js takes exactly two; a third is only ours when it is an options object.
    if (args.length > 3 || (args.length === 3 && options !== undefined && !isPlainObject(options))) {
      throw new TypeError(`Expected 2 arguments but received ${args.length}`);
    }
    this.#frontEnd = checkSocketArg(front, "Front-end must be a socket object") as F;
    this.#backEnd = checkSocketArg(back, "Back-end must be a socket object") as B;
    const opts = (options ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(opts)) {
      if (key !== "capture" && key !== "control") throw new TypeError(`Unknown proxy option "${key}"`);
    }
    this.#capture = opts.capture === undefined ? null : checkSocketArg(opts.capture, "Capture must be a socket object");
    this.#control = opts.control === undefined ? null : checkSocketArg(opts.control, "Control must be a socket object");
  }

  /** The original front-end socket. */
  get frontEnd(): F {
    return this.#frontEnd;
  }

  /** The original back-end socket. */
  get backEnd(): B {
    return this.#backEnd;
  }

  /** The capture socket given to the constructor, or null. */
  get capture(): Socket | null {
    return this.#capture;
  }

  /** The control socket given to the constructor, or null. */
  get control(): Socket | null {
    return this.#control;
  }

  /** True between run() and termination. */
  get running(): boolean {
    return this.#relay !== null;
  }

  /**
   * Starts proxying and resolves once the proxy has terminated (terminate(), a TERMINATE
   * command, or one of its sockets closed); rejects if a send fails (e.g. EHOSTUNREACH
   * from a ROUTER with `mandatory`), as zmq_proxy returns -1. Throws synchronously, as
   * zeromq.js does, when an end is not bound/connected or is closed.
   */
  run(): Promise<void> {
    checkNoArgs(arguments.length);
    if (this.#relay) throw zmqError("EBUSY", "Proxy is already running");
    checkRunnable(this.#frontEnd, "Front-end socket must be bound or connected");
    checkRunnable(this.#backEnd, "Back-end socket must be bound or connected");
    if (this.#capture?.closed) throw zmqError("EINVAL", "Capture socket is closed");
    if (this.#control?.closed) throw zmqError("EINVAL", "Control socket is closed");

    const stats: DeviceStatistics = { frontEnd: newSideStatistics(), backEnd: newSideStatistics() };
    this.#stats = stats;
    const front = this.#frontEnd;
    const back = this.#backEnd;
    const capture = this.#capture;
    // libzmq sends the capture copy first, then the message itself.
    const copy = capture ? { sock: capture, build: (m: Buffer[]) => m.slice(), first: true } : undefined;
    const routes: RouteSpec[] = [
      { from: front, to: back, fromStats: stats.frontEnd, toStats: stats.backEnd, copy },
    ];
    // The same socket at both ends (libzmq allows it): one direction only.
    if ((front as Socket) !== (back as Socket)) {
      routes.push({ from: back, to: front, fromStats: stats.backEnd, toStats: stats.frontEnd, copy });
    }
    const sockets: Socket[] = [front, back];
    if (capture) sockets.push(capture);
    if (this.#control) sockets.push(this.#control);
    const relay = new Relay({
      routes,
      control: this.#control ?? undefined,
      stats,
      sockets,
      onFinish: () => {
        this.#relay = null;
        // zeromq.js closes both ends once zmq_proxy_steerable returns.
        front.close();
        back.close();
      },
    });
    this.#relay = relay;
    return relay.done;
  }

  /** Suspends forwarding; messages wait in the sockets' queues. */
  pause(): void {
    checkNoArgs(arguments.length);
    this.#running().pause();
  }

  /** Resumes forwarding after pause(). */
  resume(): void {
    checkNoArgs(arguments.length);
    this.#running().resume();
  }

  /** Stops the proxy: run() resolves and both ends are closed. */
  terminate(): void {
    checkNoArgs(arguments.length);
    this.#running().finish(null);
  }

  /** libzmq's eight counters (zmq_proxy_steerable STATISTICS) of the current or last run. */
  statistics(): DeviceStatistics {
    return snapshot(this.#stats);
  }

  #running(): Relay {
    // zeromq.js: commands go through a control socket that only exists while running.
    if (!this.#relay) throw zmqError("EBADF");
    return this.#relay;
  }
}
