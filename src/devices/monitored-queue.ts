import type { Socket } from "../socket/socket-base.js";
import { zmqError } from "../errors.js";
import { toFrame } from "../util/to-frame.js";
import {
  Relay, checkNoArgs, checkRunnable, checkSocketArg, newSideStatistics, snapshot,
  type DeviceStatistics, type RouteSpec,
} from "./relay.js";

const ROUTER = 6;

export type PrefixLike = string | Buffer | Uint8Array;

export interface MonitoredQueueOptions {
  /** First frame of the monitor's copy of a message that came in on the in-socket (default "in"; may be empty). */
  inPrefix?: PrefixLike;
  /** First frame of the monitor's copy of a message that came in on the out-socket (default "out"; may be empty). */
  outPrefix?: PrefixLike;
}

const isPrefix = (v: unknown): v is PrefixLike => typeof v === "string" || v instanceof Uint8Array;

/** Swaps the first two frames (the two routing ids), in a new array. */
function swapIds(msg: Buffer[]): Buffer[] {
  if (msg.length < 2) return msg;
  const out = msg.slice();
  out[0] = msg[1]!;
  out[1] = msg[0]!;
  return out;
}

/**
 * pyzmq's `monitored_queue(in_socket, out_socket, mon_socket, in_prefix=b"in",
 * out_prefix=b"out")` as a device object: a message arriving on the in-socket is sent on
 * the out-socket, one arriving on the out-socket is sent on the in-socket, and each is
 * also sent to the monitor socket with one more frame in front: the prefix of the
 * socket it arrived on (always present, empty if the prefix is empty).
 *
 * When both the in- and out-sockets are ROUTERs (IPython's scheduler shape) the first
 * two frames are swapped before the message is sent on: [senderId, targetId, ...]
 * arrives and [targetId, senderId, ...] leaves, so the target sees who sent it and its
 * reply, addressed back to that sender, travels the same way. The monitor sees the
 * message as sent on (swapped), as pyzmq's does.
 *
 * As pyzmq, the message goes out first and the monitor's copy second. Lifecycle as
 * Proxy: run() resolves on terminate(), which closes the in- and out-sockets (the
 * monitor socket is left to its owner); pause()/resume(); statistics() counts frames and
 * bytes as libzmq's proxy does, the in-socket as `frontEnd`, the out-socket as `backEnd`.
 */
export class MonitoredQueue<I extends Socket = Socket, O extends Socket = Socket, M extends Socket = Socket> {
  readonly #in: I;
  readonly #out: O;
  readonly #mon: M;
  readonly #inPrefix: Buffer;
  readonly #outPrefix: Buffer;
  #relay: Relay | null = null;
  #stats: DeviceStatistics = { frontEnd: newSideStatistics(), backEnd: newSideStatistics() };

  constructor(inSocket: I, outSocket: O, monSocket: M, options?: MonitoredQueueOptions);
  constructor(inSocket: I, outSocket: O, monSocket: M, inPrefix?: PrefixLike, outPrefix?: PrefixLike);
  constructor(...args: unknown[]) {
    const [ins, outs, mon, a, b] = args;
    const kinds: Array<[unknown, string]> = [
      [ins, "In-socket must be a socket object"],
      [outs, "Out-socket must be a socket object"],
      [mon, "Monitor socket must be a socket object"],
    ];
    for (const [v, message] of kinds) {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) throw new TypeError(message);
    }
    if (args.length > 5) throw new TypeError(`Expected at most 5 arguments but received ${args.length}`);
    this.#in = checkSocketArg(ins, kinds[0]![1]) as I;
    this.#out = checkSocketArg(outs, kinds[1]![1]) as O;
    this.#mon = checkSocketArg(mon, kinds[2]![1]) as M;
    let inPrefix: unknown = "in";
    let outPrefix: unknown = "out";
    if (a !== undefined && !isPrefix(a)) {
      // The options form.
      if (a === null || typeof a !== "object" || args.length > 4) throw new TypeError("Options must be an object");
      const opts = a as Record<string, unknown>;
      for (const key of Object.keys(opts)) {
        if (key !== "inPrefix" && key !== "outPrefix") throw new TypeError(`Unknown monitored queue option "${key}"`);
      }
      if (opts.inPrefix !== undefined) inPrefix = opts.inPrefix;
      if (opts.outPrefix !== undefined) outPrefix = opts.outPrefix;
    } else {
      if (a !== undefined) inPrefix = a;
      if (b !== undefined) outPrefix = b;
    }
    if (!isPrefix(inPrefix)) throw new TypeError("In-prefix must be a string or a Buffer");
    if (!isPrefix(outPrefix)) throw new TypeError("Out-prefix must be a string or a Buffer");
    this.#inPrefix = toFrame(inPrefix);
    this.#outPrefix = toFrame(outPrefix);
  }

  get inSocket(): I {
    return this.#in;
  }

  get outSocket(): O {
    return this.#out;
  }

  get monSocket(): M {
    return this.#mon;
  }

  get inPrefix(): Buffer {
    return this.#inPrefix;
  }

  get outPrefix(): Buffer {
    return this.#outPrefix;
  }

  /** True between run() and termination. */
  get running(): boolean {
    return this.#relay !== null;
  }

  /** Starts relaying; resolves once terminated. Throws synchronously if an end is not bound/connected or is closed. */
  run(): Promise<void> {
    checkNoArgs(arguments.length);
    if (this.#relay) throw zmqError("EBUSY", "MonitoredQueue is already running");
    checkRunnable(this.#in, "In-socket must be bound or connected");
    checkRunnable(this.#out, "Out-socket must be bound or connected");
    if (this.#mon.closed) throw zmqError("EINVAL", "Monitor socket is closed");

    const stats: DeviceStatistics = { frontEnd: newSideStatistics(), backEnd: newSideStatistics() };
    this.#stats = stats;
    const ins = this.#in;
    const outs = this.#out;
    const mon = this.#mon;
    const shape = ins.type === ROUTER && outs.type === ROUTER ? swapIds : undefined;
    const inPrefix = this.#inPrefix;
    const outPrefix = this.#outPrefix;
    const routes: RouteSpec[] = [
      {
        from: ins, to: outs, fromStats: stats.frontEnd, toStats: stats.backEnd, shape,
        copy: { sock: mon, build: (m) => [inPrefix, ...m], first: false },
      },
    ];
    if ((ins as Socket) !== (outs as Socket)) {
      routes.push({
        from: outs, to: ins, fromStats: stats.backEnd, toStats: stats.frontEnd, shape,
        copy: { sock: mon, build: (m) => [outPrefix, ...m], first: false },
      });
    }
    const relay = new Relay({
      routes,
      stats,
      sockets: [ins, outs, mon],
      onFinish: () => {
        this.#relay = null;
        ins.close();
        outs.close();
      },
    });
    this.#relay = relay;
    return relay.done;
  }

  pause(): void {
    checkNoArgs(arguments.length);
    this.#running().pause();
  }

  resume(): void {
    checkNoArgs(arguments.length);
    this.#running().resume();
  }

  /** Stops relaying: run() resolves and the in- and out-sockets are closed. */
  terminate(): void {
    checkNoArgs(arguments.length);
    this.#running().finish(null);
  }

  /** Frames and bytes per side (in-socket as frontEnd, out-socket as backEnd) of the current or last run. */
  statistics(): DeviceStatistics {
    return snapshot(this.#stats);
  }

  #running(): Relay {
    if (!this.#relay) throw zmqError("EBADF");
    return this.#relay;
  }
}
