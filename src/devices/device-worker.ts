/**
 * The entry of ThreadDevice / ProcessDevice (background.ts): run in a worker thread (it
 * talks over `parentPort`) or in a child process (over the IPC channel). It waits for
 * `start` with the spec, makes the sockets, binds and connects them, runs the device and
 * answers `statistics` until `stop`: then the device terminates, every socket is closed,
 * the channel is let go and the thread / process exits (forcibly after a short grace,
 * should lingering sockets hold it).
 *
 * Imported anywhere else (no parent port, no IPC channel) it does nothing.
 */
import { parentPort, isMainThread } from "node:worker_threads";
import {
  Router, Dealer, Pull, Push, XSubscriber, XPublisher, Publisher, Subscriber, Pair, Proxy, MonitoredQueue,
  type Socket, type DeviceStatistics,
} from "../index.js";
import {
  checkDeviceSpec, toWireError,
  type BackgroundDeviceSpec, type DeviceEndpoints, type FromDevice, type SideSpec, type ToDevice,
} from "./background.js";
import { runtimeName } from "../util/runtime.js";

/** How long a stopping device may linger (sockets flushing what they hold) before it exits anyway. */
const EXIT_GRACE_MS = 1000;

interface Channel {
  send(msg: FromDevice, then?: () => void): void;
  listen(handler: (msg: ToDevice) => void): void;
  /** Lets the thread / process end once nothing else holds it. */
  release(): void;
}

function openChannel(): Channel | null {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    const handlers: ((msg: ToDevice) => void)[] = [];
    return {
      send: (msg, then) => {
        port.postMessage(msg);
        then?.();
      },
      listen: (handler) => {
        handlers.push(handler);
        port.on("message", handler);
      },
      release: () => {
        // off() per handler, not removeAllListeners(): Deno's parentPort does not implement the latter.
        for (const h of handlers.splice(0)) port.off("message", h);
        port.unref();
      },
    };
  }
  if (typeof process.send === "function") {
    return {
      send: (msg, then) => {
        if (!process.connected) {
          then?.();
          return;
        }
        process.send!(msg, undefined, undefined, () => then?.());
      },
      listen: (handler) => process.on("message", (m) => handler(m as ToDevice)),
      release: () => {
        process.removeAllListeners("message");
        // On Deno the send callback runs before the message is written, and disconnecting
        // right after it can lose our last message: there the parent disconnects once it has
        // it (background.ts), and the exit grace timer ends this process otherwise.
        if (runtimeName !== "deno" && process.connected) process.disconnect();
      },
    };
  }
  return null;
}

type AnySocket = Socket & { lastEndpoint: string | null; linger: number };

function makeSocket(side: SideSpec): AnySocket {
  const options: Record<string, unknown> = {};
  // Buffers cross the channel as Uint8Arrays: hand the options Buffers again.
  for (const [k, v] of Object.entries(side.options ?? {})) {
    options[k] = v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
  }
  switch (side.type) {
    case "ROUTER": return new Router(options) as AnySocket;
    case "DEALER": return new Dealer(options) as AnySocket;
    case "PULL": return new Pull(options) as AnySocket;
    case "PUSH": return new Push(options) as AnySocket;
    case "XSUB": return new XSubscriber(options) as AnySocket;
    case "XPUB": return new XPublisher(options) as AnySocket;
    case "PUB": return new Publisher(options) as AnySocket;
    case "PAIR": return new Pair(options) as AnySocket;
    case "SUB": {
      const sub = new Subscriber(options);
      if (side.subscribe === undefined) sub.subscribe();
      else for (const p of side.subscribe) sub.subscribe(typeof p === "string" ? p : Buffer.from(p));
      return sub as unknown as AnySocket;
    }
  }
}

/** Names which side and endpoint failed, keeping the error's code. */
function contextualise(e: unknown, what: string): unknown {
  if (e instanceof Error) e.message = `${what}: ${e.message}`;
  return e;
}

class DeviceHost {
  readonly #channel: Channel;
  readonly #sockets: AnySocket[] = [];
  #device: Proxy | MonitoredQueue | null = null;
  #starting = false;
  #stopRequested = false;
  #ended = false;

  constructor(channel: Channel) {
    this.#channel = channel;
    channel.listen((msg) => this.#onMessage(msg));
    // The parent went away (a child whose parent died): stop, as asked.
    if (isMainThread) process.on("disconnect", () => this.#end(null));
  }

  #onMessage(msg: ToDevice): void {
    if (this.#ended || msg === null || typeof msg !== "object") return;
    switch (msg.t) {
      case "start":
        void this.#start(msg.spec);
        return;
      case "statistics": {
        const device = this.#device;
        if (!device) {
          this.#channel.send({ t: "statistics", id: msg.id, error: { name: "Error", message: "the device is not running" } });
          return;
        }
        let statistics: DeviceStatistics;
        try {
          statistics = device.statistics();
        } catch (e) {
          this.#channel.send({ t: "statistics", id: msg.id, error: toWireError(e) });
          return;
        }
        this.#channel.send({ t: "statistics", id: msg.id, statistics });
        return;
      }
      case "stop":
        this.#stopRequested = true;
        // A start in progress finishes (or fails) first, then sees the request.
        if (!this.#starting) this.#end(null);
        return;
    }
  }

  async #start(spec: BackgroundDeviceSpec): Promise<void> {
    if (this.#starting || this.#device || this.#stopRequested) return;
    this.#starting = true;
    let endpoints: DeviceEndpoints;
    try {
      checkDeviceSpec(spec);
      endpoints = await this.#open(spec);
    } catch (e) {
      this.#starting = false;
      this.#end(e, "start-failed");
      return;
    }
    this.#starting = false;
    if (this.#stopRequested) {
      this.#end(null);
      return;
    }
    this.#channel.send({ t: "started", endpoints });
  }

  async #open(spec: BackgroundDeviceSpec): Promise<DeviceEndpoints> {
    const sides: Array<[keyof DeviceEndpoints, SideSpec | undefined]> = [
      ["frontEnd", spec.frontEnd], ["backEnd", spec.backEnd], ["monitor", spec.monitor],
    ];
    const made: Partial<Record<keyof DeviceEndpoints, AnySocket>> = {};
    const endpoints: DeviceEndpoints = { frontEnd: [], backEnd: [], monitor: [] };
    for (const [name, side] of sides) {
      if (!side) continue;
      let sock: AnySocket;
      try {
        sock = makeSocket(side);
      } catch (e) {
        throw contextualise(e, `${name} (${side.type})`);
      }
      this.#sockets.push(sock);
      made[name] = sock;
      for (const ep of side.bind ?? []) {
        try {
          await sock.bind(ep);
        } catch (e) {
          throw contextualise(e, `${name} could not bind ${JSON.stringify(ep)}`);
        }
        endpoints[name].push(sock.lastEndpoint ?? ep);
        if (this.#stopRequested) return endpoints;
      }
      for (const ep of side.connect ?? []) {
        try {
          sock.connect(ep);
        } catch (e) {
          throw contextualise(e, `${name} could not connect to ${JSON.stringify(ep)}`);
        }
      }
    }
    const front = made.frontEnd!;
    const back = made.backEnd!;
    let device: Proxy | MonitoredQueue;
    if (spec.kind === "monitored-queue") {
      const prefixes: { inPrefix?: string | Buffer; outPrefix?: string | Buffer } = {};
      if (spec.inPrefix !== undefined) prefixes.inPrefix = typeof spec.inPrefix === "string" ? spec.inPrefix : Buffer.from(spec.inPrefix);
      if (spec.outPrefix !== undefined) prefixes.outPrefix = typeof spec.outPrefix === "string" ? spec.outPrefix : Buffer.from(spec.outPrefix);
      device = new MonitoredQueue(front, back, made.monitor!, prefixes);
    } else {
      device = made.monitor ? new Proxy(front, back, { capture: made.monitor }) : new Proxy(front, back);
    }
    const done = device.run();
    this.#device = device;
    done.then(
      () => {
        // Terminated by us, or one of its sockets was closed under it.
        if (!this.#ended) this.#end(new Error("the device terminated on its own"), "failed");
      },
      (e: unknown) => this.#end(e, "failed"),
    );
    return endpoints;
  }

  /** Terminates the device, closes every socket, tells the parent, lets the thread / process go. */
  #end(error: unknown, kind: "start-failed" | "failed" | null = null): void {
    if (this.#ended) return;
    this.#ended = true;
    const device = this.#device;
    this.#device = null;
    if (device?.running) {
      try {
        device.terminate();
      } catch {
        // Already ending.
      }
    }
    for (const s of this.#sockets) {
      if (s.closed) continue;
      // A failed start leaves nothing worth flushing.
      if (kind === "start-failed") s.linger = 0;
      try {
        s.close();
      } catch {
        // Closing is best effort here.
      }
    }
    const message: FromDevice = kind === null ? { t: "stopped" } : { t: kind, error: toWireError(error) };
    this.#channel.send(message, () => {
      this.#channel.release();
      // Lingering sockets may hold the loop; the parent also kills after its own timeout.
      setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
    });
  }
}

const channel = openChannel();
if (channel) new DeviceHost(channel);
