import { Socket } from "../socket/socket-base.js";
import { zmqError, isZmqError } from "../errors.js";
import { holdProcess, releaseProcess } from "../util/keepalive.js";

/**
 * The engine under every device (Proxy, MonitoredQueue, the classic queue / forwarder /
 * streamer). It moves whole messages between sockets through their synchronous edge
 * (`_receiveNow` / `_sendNow`), in batches, woken by the sockets' `_activity` signal:
 * never one promise per message.
 *
 * Back-pressure: a message one of its destinations cannot take yet is held (with the
 * copy still owed to a capture or monitor socket) and its route reads nothing more until
 * that destination reports "writable". So a device never holds more than one message per
 * direction; everything else waits in the sockets' own queues, bounded by their
 * high-water marks, and finally in the peers' TCP windows.
 */

/** libzmq's per-socket counters (zmq_proxy_steerable STATISTICS). */
export interface SideStatistics {
  /** Frames received by this socket (libzmq >= 4.3.5 counts each part of a multipart message). */
  messagesIn: number;
  /** Bytes received by this socket (sum of frame sizes). */
  bytesIn: number;
  /** Frames sent through this socket. */
  messagesOut: number;
  /** Bytes sent through this socket. */
  bytesOut: number;
}

export interface DeviceStatistics {
  frontEnd: SideStatistics;
  backEnd: SideStatistics;
}

export const newSideStatistics = (): SideStatistics => ({ messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 });

/** One step still owed for a message: hand `msg` to `sock`, then count it on `stats` (if any). */
interface Step {
  sock: Socket;
  msg: Buffer[];
  stats: SideStatistics | null;
  bytes: number;
}

/** One direction of traffic: messages read on `from` go to `to` (and a copy to `copy.sock`). */
export interface RouteSpec {
  from: Socket;
  to: Socket;
  fromStats: SideStatistics;
  toStats: SideStatistics;
  /** Rewrites a message before it is sent on (MonitoredQueue's ROUTER-ROUTER id swap). Must not mutate its argument. */
  shape?: ((msg: Buffer[]) => Buffer[]) | undefined;
  /** Where a copy of every message goes, and whether it goes before (libzmq's capture) or after (pyzmq's monitor) the message itself. */
  copy?: { sock: Socket; build: (msg: Buffer[]) => Buffer[]; first: boolean } | undefined;
}

interface Route extends RouteSpec {
  /** Steps of the message that did not fit, in order; empty when the route flows. */
  held: Step[];
  /** `from` cannot receive (PUSH, PUB): this direction never carries anything. */
  mute: boolean;
}

/** What a control socket speaks (libzmq's zmq_proxy_steerable). */
const PAUSE = Buffer.from("PAUSE");
const RESUME = Buffer.from("RESUME");
const TERMINATE = Buffer.from("TERMINATE");
const STATISTICS = Buffer.from("STATISTICS");
const REP = 4;

/** Messages one route moves before the others get their turn (libzmq's proxy_burst_size is 1000). */
const BURST = 256;
/** Messages one pump moves before it yields the event loop to timers and I/O. */
const TURN_LIMIT = 4096;
/** How often a running device checks its sockets without being told (closed under it, missed notifications). */
const CHECK_MS = 100;

type Listener = (kind: "readable" | "writable") => void;

/**
 * A socket has one `_activity` slot. Several devices (or something else) may want to
 * hear a socket, e.g. one PUB used as the monitor of two queues: a dispatcher installed
 * in the slot calls each of them, the previous occupant included.
 */
const listeners = new WeakMap<Socket, { set: Set<Listener>; dispatcher: Listener; previous: Listener | null }>();

function listen(sock: Socket, fn: Listener): void {
  let entry = listeners.get(sock);
  if (!entry || sock._activity !== entry.dispatcher) {
    const set = new Set<Listener>();
    const previous = sock._activity;
    const dispatcher: Listener = (kind) => {
      if (previous) previous(kind);
      for (const l of set) l(kind);
    };
    entry = { set, dispatcher, previous };
    listeners.set(sock, entry);
    sock._activity = dispatcher;
  }
  entry.set.add(fn);
}

function unlisten(sock: Socket, fn: Listener): void {
  const entry = listeners.get(sock);
  if (!entry) return;
  entry.set.delete(fn);
  if (entry.set.size === 0 && sock._activity === entry.dispatcher) {
    sock._activity = entry.previous;
    listeners.delete(sock);
  }
}

const frameBytes = (msg: Buffer[]): number => {
  let n = 0;
  for (let i = 0; i < msg.length; i++) n += msg[i]!.length;
  return n;
};

export interface RelayOptions {
  routes: RouteSpec[];
  /** libzmq's control socket: PAUSE / RESUME / TERMINATE / STATISTICS. */
  control?: Socket | undefined;
  /** Counters reported by STATISTICS and statistics(). */
  stats: DeviceStatistics;
  /** Every socket the relay uses; it ends when one of them is closed. */
  sockets: Socket[];
  /** Called once when the relay has stopped, before run()'s promise settles. */
  onFinish: () => void;
}

export type RelayState = "running" | "finished";

/** A running device. Created by run(); finished by terminate(), a TERMINATE command, a closed socket, or an error. */
export class Relay {
  private readonly routes: Route[];
  private readonly control: Socket | null;
  private readonly sockets: Socket[];
  private readonly stats: DeviceStatistics;
  private readonly onFinish: () => void;
  private readonly wake: Listener = () => this.schedule();
  private readonly checkTimer: NodeJS.Timeout;
  private resolve!: () => void;
  private reject!: (e: Error) => void;
  /** The reply the control socket could not take yet (it reads no command until it is sent). */
  private controlHeld: Buffer[] | null = null;
  private pumping = false;
  private again = false;
  private microScheduled = false;
  private immediate: NodeJS.Immediate | null = null;
  state: RelayState = "running";
  paused = false;
  readonly done: Promise<void>;

  constructor(options: RelayOptions) {
    this.routes = options.routes.map((r) => ({ ...r, held: [], mute: false }));
    this.control = options.control ?? null;
    this.sockets = [...new Set(options.sockets)];
    this.stats = options.stats;
    this.onFinish = options.onFinish;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // zeromq.js's run() keeps the process alive (a libuv work item) until the proxy ends.
    holdProcess();
    for (const s of this.sockets) listen(s, this.wake);
    // A backstop, level-triggered: ends the relay when a socket was closed under it, and
    // pumps in case a socket changed state without telling `_activity` (a pipe ending:
    // an XPUB then queues the cancellations of the subscriber that left).
    this.checkTimer = setInterval(() => {
      if (this.sockets.some((s) => s.closed)) this.finish(null);
      else this.schedule();
    }, CHECK_MS);
    this.checkTimer.unref();
    // Messages may already be waiting: start with one pump.
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.schedule();
  }

  /** Stops the relay; the held message (if any) is dropped, as libzmq drops its msg_t. */
  finish(error: Error | null): void {
    if (this.state === "finished") return;
    this.state = "finished";
    clearInterval(this.checkTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    for (const s of this.sockets) unlisten(s, this.wake);
    for (const r of this.routes) r.held.length = 0;
    this.controlHeld = null;
    releaseProcess();
    try {
      this.onFinish();
    } finally {
      if (error) this.reject(error);
      else this.resolve();
    }
  }

  /** Runs a pump soon: at the end of the current job, so sockets are never re-entered from their own callbacks. */
  private schedule(): void {
    if (this.state !== "running") return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    if (this.microScheduled) return;
    this.microScheduled = true;
    queueMicrotask(() => {
      this.microScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.state !== "running" || this.pumping) return;
    this.pumping = true;
    let moved = 0;
    let idle = 0;
    try {
      for (;;) {
        this.again = false;
        let round = this.control ? this.serveControl() : 0;
        if (this.state !== "running") return;
        if (!this.paused) {
          for (const route of this.routes) round += this.serveRoute(route);
        }
        moved += round;
        // Done when a round moved nothing and nothing woke us meanwhile (twice at most: no spinning).
        if (round === 0 && (!this.again || ++idle > 1)) break;
        if (moved >= TURN_LIMIT) {
          // More may be waiting: let timers and I/O run first, then carry on.
          if (!this.immediate) {
            this.immediate = setImmediate(() => {
              this.immediate = null;
              this.pump();
            });
          }
          break;
        }
      }
    } catch (e) {
      this.finish(e as Error);
    } finally {
      this.pumping = false;
    }
    if (this.state === "running" && this.sockets.some((s) => s.closed)) this.finish(null);
  }

  /** Moves up to BURST messages along one route; returns how many it read (plus 1 if it unblocked). */
  private serveRoute(route: Route): number {
    if (route.mute) return 0;
    let progress = 0;
    if (route.held.length > 0) {
      if (!this.flush(route)) return 0;
      progress = 1;
    }
    const { from } = route;
    for (let n = 0; n < BURST; n++) {
      let msg: Buffer[] | null;
      try {
        msg = from._receiveNow();
      } catch (e) {
        // A socket that cannot receive (PUSH, PUB) leaves this direction silent, as libzmq's poll would.
        if (isZmqError(e, "ENOTSUP")) {
          route.mute = true;
          return progress;
        }
        throw e;
      }
      if (msg === null) break;
      progress++;
      const bytes = frameBytes(msg);
      route.fromStats.messagesIn += msg.length;
      route.fromStats.bytesIn += bytes;
      const out = route.shape ? route.shape(msg) : msg;
      const copy = route.copy;
      if (copy === undefined) {
        if (route.to._sendNow(out)) {
          route.toStats.messagesOut += out.length;
          route.toStats.bytesOut += bytes;
          continue;
        }
        route.held.push({ sock: route.to, msg: out, stats: route.toStats, bytes });
        return progress;
      }
      const main: Step = { sock: route.to, msg: out, stats: route.toStats, bytes };
      const side: Step = { sock: copy.sock, msg: copy.build(out), stats: null, bytes: 0 };
      if (copy.first) route.held.push(side, main);
      else route.held.push(main, side);
      if (!this.flush(route)) return progress;
    }
    return progress;
  }

  /** Sends what the route holds, in order; false if a destination still cannot take its part. */
  private flush(route: Route): boolean {
    const held = route.held;
    while (held.length > 0) {
      const step = held[0]!;
      if (!step.sock._sendNow(step.msg)) return false;
      if (step.stats) {
        step.stats.messagesOut += step.msg.length;
        step.stats.bytesOut += step.bytes;
      }
      held.shift();
    }
    return true;
  }

  /** Reads and obeys control commands; returns how many it handled. */
  private serveControl(): number {
    const control = this.control!;
    let handled = 0;
    if (this.controlHeld) {
      if (!control._sendNow(this.controlHeld)) return 0;
      this.controlHeld = null;
      handled++;
    }
    for (;;) {
      const msg = control._receiveNow();
      if (msg === null) return handled;
      handled++;
      const command = msg[0] ?? Buffer.alloc(0);
      let reply: Buffer[] | null = null;
      let terminate = false;
      if (command.equals(STATISTICS)) {
        reply = statisticsFrames(this.stats);
      } else {
        if (command.equals(PAUSE)) this.paused = true;
        else if (command.equals(RESUME)) this.paused = false;
        else if (command.equals(TERMINATE)) terminate = true;
        // libzmq >= 4.3.5: a REP control socket gets an empty reply to every other command
        // (unknown ones included); other types get none.
        if (control.type === REP) reply = [Buffer.alloc(0)];
      }
      if (reply && !control._sendNow(reply)) {
        if (terminate) {
          this.finish(null);
          return handled;
        }
        this.controlHeld = reply;
        return handled;
      }
      if (terminate) {
        this.finish(null);
        return handled;
      }
    }
  }
}

/** STATISTICS reply: 8 frames of uint64, little-endian (libzmq copies host order; every platform it ships on is little-endian). */
export function statisticsFrames(stats: DeviceStatistics): Buffer[] {
  const values = [
    stats.frontEnd.messagesIn, stats.frontEnd.bytesIn, stats.frontEnd.messagesOut, stats.frontEnd.bytesOut,
    stats.backEnd.messagesIn, stats.backEnd.bytesIn, stats.backEnd.messagesOut, stats.backEnd.bytesOut,
  ];
  return values.map((v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  });
}

/** Decodes a STATISTICS reply (8 uint64 LE frames) into counters. */
export function parseStatistics(frames: Buffer[]): DeviceStatistics {
  if (frames.length !== 8 || frames.some((f) => f.length !== 8)) throw zmqError("EINVAL", "Not a STATISTICS reply");
  const v = frames.map((f) => Number(f.readBigUInt64LE()));
  return {
    frontEnd: { messagesIn: v[0]!, bytesIn: v[1]!, messagesOut: v[2]!, bytesOut: v[3]! },
    backEnd: { messagesIn: v[4]!, bytesIn: v[5]!, messagesOut: v[6]!, bytesOut: v[7]! },
  };
}

export const snapshot = (s: DeviceStatistics): DeviceStatistics => ({ frontEnd: { ...s.frontEnd }, backEnd: { ...s.backEnd } });

/** Argument checks shared by the device constructors (zeromq.js's messages). */
export function checkSocketArg(value: unknown, message: string): Socket {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) throw new TypeError(message);
  if (!(value instanceof Socket)) throw zmqError("EINVAL");
  return value;
}

/** zeromq.js's methods take no arguments and say so. */
export function checkNoArgs(count: number): void {
  if (count > 0) throw new TypeError(`Expected 0 arguments but received ${count}`);
}

export function checkRunnable(sock: Socket, message: string): void {
  if (sock.closed || !sock._hasEndpoints) throw zmqError("EINVAL", message);
}
