/**
 * Heartbeats, as IPython's: the hub publishes a ping every `period` ms on hb_ping (PUB);
 * each engine's heart forwards it to hb_pong (ROUTER), where the heart's routing id —
 * the engine's uuid — says who answered. Pings are raw bytes, not signed messages.
 *
 * Hub side, HeartMonitor: at every tick an engine that has not answered since the
 * previous ping has missed one; after `maxMissed` misses in a row it is declared dead.
 * An engine that dies is therefore noticed within `period × (maxMissed + 1)` ms (2.5 s
 * with the defaults, 500 ms × 5). Counting missed pings rather than elapsed time means
 * a controller whose event loop stalls sends fewer pings and declares no one dead for it.
 *
 * Engine side, Heart: a forwarder SUB(ping) → DEALER(routingId = uuid, to pong). It runs
 * in a worker thread (a ThreadDevice "queue") so an engine busy in a long synchronous
 * task still beats; over inproc (one process, one thread's context) or when asked, it
 * is a Proxy in the engine's own thread instead.
 */
import { Context, Dealer, Proxy, Publisher, Router, Subscriber, ThreadDevice } from "../index.js";
import type { Logger } from "./log.js";

export interface HeartbeatOptions {
  /** Ping period, ms (default 500). */
  period?: number;
  /** Pings an engine may miss in a row before it is declared dead (default 4). */
  maxMissed?: number;
}

export const DEFAULT_HEARTBEAT = { period: 500, maxMissed: 4 } as const;

/** The longest an engine's death may go unnoticed with these settings, ms. */
export function detectionBound(period: number, maxMissed: number): number {
  return period * (maxMissed + 1);
}

interface Tracked {
  /** The last ping round this engine answered. */
  answered: number;
  missed: number;
}

export interface HeartMonitorOptions {
  ping: Publisher;
  pong: Router;
  period: number;
  maxMissed: number;
  /** Called once for an engine whose heart stopped (it is no longer tracked). */
  onFailure: (uuid: string, missed: number) => void;
  log: Logger;
}

/** The hub's side: pings, pongs, and who has stopped answering. */
export class HeartMonitor {
  readonly #o: HeartMonitorOptions;
  readonly #engines = new Map<string, Tracked>();
  #round = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: HeartMonitorOptions) {
    this.#o = options;
  }

  start(): void {
    void this.#readPongs();
    this.#timer = setInterval(() => this.#tick(), this.#o.period);
    this.#timer.unref?.();
  }

  /** Starts watching an engine; it counts as having answered the current round. */
  add(uuid: string): void {
    this.#engines.set(uuid, { answered: this.#round, missed: 0 });
  }

  remove(uuid: string): void {
    this.#engines.delete(uuid);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#engines.clear();
  }

  #tick(): void {
    if (this.#stopped) return;
    for (const [uuid, t] of this.#engines) {
      if (t.answered >= this.#round) {
        t.missed = 0;
        continue;
      }
      t.missed++;
      if (t.missed >= this.#o.maxMissed) {
        this.#engines.delete(uuid);
        this.#o.onFailure(uuid, t.missed);
      }
    }
    this.#round++;
    this.#o.ping.send(String(this.#round)).catch(() => {});
  }

  async #readPongs(): Promise<void> {
    try {
      for await (const frames of this.#o.pong) {
        if (frames.length < 2) continue;
        const t = this.#engines.get(frames[0]!.toString());
        if (!t) continue;
        const round = Number(frames[1]!.toString());
        // A pong names the round it answers; a stale one (answered late) still proves life.
        if (Number.isInteger(round) && round > t.answered) t.answered = Math.min(round, this.#round);
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (!this.#stopped && code !== "EBADF" && code !== "EAGAIN") this.#o.log(`heartbeat pongs stopped: ${(e as Error).message}`);
    }
  }
}

export interface HeartOptions {
  /**
   * "thread": a ThreadDevice, beating while the engine's thread is busy (the default
   * over tcp and ipc); "inline": a Proxy in the engine's thread (the default, and the only
   * choice, over inproc).
   */
  mode?: "thread" | "inline";
  /** The context of the inline heart's sockets (inproc needs the controller's). */
  context?: Context;
  /** How long the thread may take to start (default 10000 ms; a loaded machine running TypeScript sources needs more). */
  startTimeout?: number;
  /** Options of both heart sockets (CURVE client keys when the controller is a CURVE server). */
  socketOptions?: Record<string, string>;
}

/** The engine's side: forwards pings back, with the engine's uuid as routing id. */
export class Heart {
  readonly #stop: () => Promise<void>;
  readonly mode: "thread" | "inline";

  private constructor(mode: "thread" | "inline", stop: () => Promise<void>) {
    this.mode = mode;
    this.#stop = stop;
  }

  static async start(pingEndpoint: string, pongEndpoint: string, uuid: string, options: HeartOptions = {}): Promise<Heart> {
    const inproc = pingEndpoint.startsWith("inproc://");
    const mode = inproc ? "inline" : options.mode ?? "thread";
    if (mode === "thread") {
      const device = new ThreadDevice({
        kind: "queue",
        frontEnd: { type: "SUB", connect: [pingEndpoint], options: { ...options.socketOptions, linger: 0 } },
        backEnd: { type: "DEALER", connect: [pongEndpoint], options: { ...options.socketOptions, routingId: uuid, linger: 0 } },
      }, { startTimeout: options.startTimeout ?? 10_000 });
      await device.start();
      return new Heart(mode, () => device.stop());
    }
    const context = options.context;
    const sub = new Subscriber({ ...options.socketOptions, linger: 0, ...(context ? { context } : {}) });
    const dealer = new Dealer({ ...options.socketOptions, routingId: uuid, linger: 0, ...(context ? { context } : {}) });
    sub.subscribe();
    sub.connect(pingEndpoint);
    dealer.connect(pongEndpoint);
    const proxy = new Proxy(sub, dealer);
    const running = proxy.run().catch(() => {});
    return new Heart(mode, async () => {
      if (proxy.running) proxy.terminate();
      await running;
    });
  }

  /** Stops beating (the hub notices within its detection bound, unless the engine unregistered). */
  stop(): Promise<void> {
    return this.#stop();
  }
}
