import { Worker } from "node:worker_threads";
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DeviceStatistics } from "./relay.js";
import { nativeTypeScript, runtimeName } from "../util/runtime.js";

/**
 * pyzmq's ThreadDevice / ProcessDevice: a device (queue, forwarder, streamer,
 * monitored queue) that runs in a worker thread or a child process of its own, set up
 * from endpoints, started and stopped from the caller. A busy caller (a long synchronous
 * computation on the main thread) then no longer stalls the broker: the device has its
 * own event loop, its own sockets and its own context.
 *
 * The caller and the device share nothing but the messages of a small protocol over
 * the worker's message port / the child's IPC channel (see device-worker.ts); inproc
 * endpoints of the device are therefore only reachable from inside the device.
 */

export type DeviceKind = "queue" | "forwarder" | "streamer" | "monitored-queue";

export type SideType = "ROUTER" | "DEALER" | "PULL" | "PUSH" | "XSUB" | "XPUB" | "PUB" | "SUB" | "PAIR";

/** One socket of the device, made in the device's thread / process. */
export interface SideSpec {
  type: SideType;
  /** Endpoints to bind; `tcp://127.0.0.1:*` binds a free port (start() reports which). */
  bind?: string[];
  /** Endpoints to connect to. */
  connect?: string[];
  /** Socket options, as given to the socket's constructor (`{ sendHighWaterMark: 10, linger: 0 }`). */
  options?: Record<string, unknown>;
  /** SUB only: the prefixes to subscribe to; absent means everything. */
  subscribe?: Array<string | Uint8Array>;
}

export interface BackgroundDeviceSpec {
  /**
   * What runs between the sockets: a Proxy (libzmq's zmq_proxy) for queue / forwarder /
   * streamer (the kinds only name the usual shapes: ROUTER-DEALER, XSUB-XPUB, PULL-PUSH;
   * the socket types are the sides'), a MonitoredQueue for "monitored-queue".
   */
  kind: DeviceKind;
  frontEnd: SideSpec;
  backEnd: SideSpec;
  /**
   * "monitored-queue": the monitor socket (required). Other kinds: optional, the proxy's
   * capture socket (a copy of every message, both directions).
   */
  monitor?: SideSpec;
  /** "monitored-queue": first frame of the monitor's copy of what came in on the front end (default "in"). */
  inPrefix?: string | Uint8Array;
  /** "monitored-queue": first frame of the monitor's copy of what came in on the back end (default "out"). */
  outPrefix?: string | Uint8Array;
}

/** The endpoints the device's sockets bound, resolved (`tcp://127.0.0.1:*` becomes the real port). */
export interface DeviceEndpoints {
  frontEnd: string[];
  backEnd: string[];
  monitor: string[];
}

export interface BackgroundDeviceOptions {
  /** How long start() waits for the device to be up, every bind done (default 10000 ms). */
  startTimeout?: number;
  /** How long statistics() waits for its reply (default 5000 ms). */
  requestTimeout?: number;
  /** How long stop() waits for the thread / process to exit before killing it (default 2000 ms). */
  stopTimeout?: number;
  /**
   * The device entry to run, when the default one (device-worker.js next to this file,
   * or device-worker.ts under tsx) cannot be found, e.g. in a bundle.
   */
  workerEntry?: string | URL;
}

// ---- the protocol (shared with device-worker.ts) ---------------------------------------

/** A serialisable error: what crosses the message port / IPC channel. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  errno?: number;
  address?: string;
  stack?: string;
}

export type ToDevice =
  | { t: "start"; spec: BackgroundDeviceSpec }
  | { t: "statistics"; id: number }
  | { t: "stop" };

export type FromDevice =
  | { t: "started"; endpoints: DeviceEndpoints }
  | { t: "start-failed"; error: WireError }
  | { t: "statistics"; id: number; statistics?: DeviceStatistics; error?: WireError }
  | { t: "failed"; error: WireError }
  | { t: "stopped" };

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; errno?: unknown; address?: unknown };
    const out: WireError = { name: e.name, message: e.message };
    if (typeof x.code === "string") out.code = x.code;
    if (typeof x.errno === "number") out.errno = x.errno;
    if (typeof x.address === "string") out.address = x.address;
    if (typeof e.stack === "string") out.stack = e.stack;
    return out;
  }
  return { name: "Error", message: String(e) };
}

export function fromWireError(w: WireError): Error {
  const e = (w.name === "TypeError" ? new TypeError(w.message) : new Error(w.message)) as Error & Record<string, unknown>;
  if (w.code !== undefined) e.code = w.code;
  if (w.errno !== undefined) e.errno = w.errno;
  if (w.address !== undefined) e.address = w.address;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

// ---- spec validation --------------------------------------------------------------------

const KINDS: ReadonlySet<string> = new Set(["queue", "forwarder", "streamer", "monitored-queue"]);
const TYPES: ReadonlySet<string> = new Set(["ROUTER", "DEALER", "PULL", "PUSH", "XSUB", "XPUB", "PUB", "SUB", "PAIR"]);
const SIDE_KEYS: ReadonlySet<string> = new Set(["type", "bind", "connect", "options", "subscribe"]);
const SPEC_KEYS: ReadonlySet<string> = new Set(["kind", "frontEnd", "backEnd", "monitor", "inPrefix", "outPrefix"]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
const isPrefix = (v: unknown) => typeof v === "string" || v instanceof Uint8Array;

function checkSide(side: unknown, name: string): void {
  if (!isObject(side)) throw new TypeError(`${name} must be an object`);
  for (const key of Object.keys(side)) {
    if (!SIDE_KEYS.has(key)) throw new TypeError(`${name}: unknown field "${key}"`);
  }
  if (typeof side.type !== "string" || !TYPES.has(side.type)) {
    throw new TypeError(`${name}.type must be one of ${[...TYPES].join(", ")}`);
  }
  if (side.bind !== undefined && !isStringArray(side.bind)) throw new TypeError(`${name}.bind must be an array of endpoints`);
  if (side.connect !== undefined && !isStringArray(side.connect)) throw new TypeError(`${name}.connect must be an array of endpoints`);
  if ((side.bind?.length ?? 0) + (side.connect?.length ?? 0) === 0) {
    throw new TypeError(`${name} must bind or connect at least one endpoint`);
  }
  if (side.options !== undefined && !isObject(side.options)) throw new TypeError(`${name}.options must be an object`);
  if (side.subscribe !== undefined) {
    if (side.type !== "SUB") throw new TypeError(`${name}.subscribe is for SUB sockets only`);
    if (!Array.isArray(side.subscribe) || !side.subscribe.every(isPrefix)) {
      throw new TypeError(`${name}.subscribe must be an array of strings or buffers`);
    }
  }
}

/** Throws a TypeError naming what is wrong with the spec. */
export function checkDeviceSpec(spec: unknown): asserts spec is BackgroundDeviceSpec {
  if (!isObject(spec)) throw new TypeError("Device spec must be an object");
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw new TypeError(`Device spec: unknown field "${key}"`);
  }
  if (typeof spec.kind !== "string" || !KINDS.has(spec.kind)) {
    throw new TypeError(`Device kind must be one of ${[...KINDS].join(", ")}`);
  }
  checkSide(spec.frontEnd, "frontEnd");
  checkSide(spec.backEnd, "backEnd");
  if (spec.monitor !== undefined) checkSide(spec.monitor, "monitor");
  if (spec.kind === "monitored-queue") {
    if (spec.monitor === undefined) throw new TypeError("A monitored-queue needs a monitor socket");
  } else if (spec.inPrefix !== undefined || spec.outPrefix !== undefined) {
    throw new TypeError("inPrefix / outPrefix are for a monitored-queue only");
  }
  if (spec.inPrefix !== undefined && !isPrefix(spec.inPrefix)) throw new TypeError("inPrefix must be a string or a buffer");
  if (spec.outPrefix !== undefined && !isPrefix(spec.outPrefix)) throw new TypeError("outPrefix must be a string or a buffer");
}

function checkTimeout(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new TypeError(`${name} must be a positive number of ms`);
  return v;
}

// ---- where the device entry is ---------------------------------------------------------

/** This module's own file (a path, or a file: URL), without import.meta (the CommonJS build has none). */
function ownFile(): string {
  // CommonJS defines __filename; a worker started from eval'd code has a global
  // "[worker eval]" one, which is not this module's file.
  if (typeof __filename === "string" && isAbsolute(__filename)) return __filename;
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 1;
    // The raw call sites: their file names are the loaded modules' (not source-mapped).
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    const name = sites?.[0]?.getFileName();
    if (!name) throw new Error("cannot locate the device worker entry; give options.workerEntry");
    return name;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

interface Entry {
  /** Absolute path of the entry. */
  path: string;
  /**
   * The entry is TypeScript and the runtime needs a loader for it: load tsx first (Node's
   * workers and children do not inherit `--import tsx`). False on Bun and Deno, which run
   * TypeScript entries as they are.
   */
  ts: boolean;
}

let defaultEntry: Entry | null = null;

function toPath(f: string | URL): string {
  if (f instanceof URL) return fileURLToPath(f);
  return f.startsWith("file:") ? fileURLToPath(f) : f;
}

function resolveEntry(given: string | URL | undefined): Entry {
  if (given !== undefined) {
    const path = toPath(given);
    return { path, ts: /\.[cm]?ts$/.test(path) && !nativeTypeScript };
  }
  if (!defaultEntry) {
    const self = toPath(ownFile());
    const ext = extname(self);
    const ts = /^\.[cm]?ts$/.test(ext) && !nativeTypeScript;
    defaultEntry = { path: join(dirname(self), `device-worker${ext}`), ts };
  }
  return defaultEntry;
}

/** tsx's files, found from the entry (tests run the .ts sources under tsx). */
function tsxFiles(from: string): { loader: string; api: string } {
  try {
    const req = createRequire(from);
    const pkgPath = req.resolve("tsx/package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, unknown> };
    const root = dirname(pkgPath);
    const pick = (e: unknown): string | undefined => {
      if (typeof e === "string") return e;
      if (isObject(e)) return pick(e.import) ?? pick(e.default);
      return undefined;
    };
    const loader = pick(pkg.exports?.["."]);
    const api = pick(pkg.exports?.["./esm/api"]);
    if (!loader || !api) throw new Error("unexpected tsx package layout");
    return { loader: pathToFileURL(join(root, loader)).href, api: pathToFileURL(join(root, api)).href };
  } catch {
    return { loader: "tsx", api: "tsx/esm/api" };
  }
}

// ---- the parent side -------------------------------------------------------------------

/** What the device runs in, seen from the caller. */
interface Link {
  send(msg: ToDevice): void;
  kill(): void;
  ref(): void;
  unref(): void;
}

interface LinkEvents {
  message(msg: FromDevice): void;
  /** The thread / process is gone; `error` if it died of one (or could not start). */
  exit(description: string, error: Error | null): void;
}

type State = "idle" | "starting" | "running" | "stopping" | "stopped";

interface Pending {
  resolve(stats: DeviceStatistics): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

abstract class BackgroundDevice {
  readonly spec: BackgroundDeviceSpec;
  readonly #startTimeout: number;
  readonly #requestTimeout: number;
  readonly #stopTimeout: number;
  readonly #entry: string | URL | undefined;
  #state: State = "idle";
  #link: Link | null = null;
  #refed = true;
  #endpoints: DeviceEndpoints | null = null;
  /** Why the device failed (start-failed, failed, an error of the thread / process). */
  #failure: Error | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #startWaiter: { resolve(v: { endpoints: DeviceEndpoints }): void; reject(e: Error): void; timer: NodeJS.Timeout } | null = null;
  #exited: Promise<void> = Promise.resolve();
  #markExited: () => void = () => {};
  #killTimer: NodeJS.Timeout | null = null;

  constructor(spec: BackgroundDeviceSpec, options: BackgroundDeviceOptions = {}) {
    checkDeviceSpec(spec);
    if (!isObject(options)) throw new TypeError("Options must be an object");
    this.spec = spec;
    this.#startTimeout = checkTimeout(options.startTimeout, "startTimeout", 10_000);
    this.#requestTimeout = checkTimeout(options.requestTimeout, "requestTimeout", 5_000);
    this.#stopTimeout = checkTimeout(options.stopTimeout, "stopTimeout", 2_000);
    if (options.workerEntry !== undefined && typeof options.workerEntry !== "string" && !(options.workerEntry instanceof URL)) {
      throw new TypeError("workerEntry must be a path or a file URL");
    }
    this.#entry = options.workerEntry;
  }

  /** "thread" or "process", for messages. */
  protected abstract get where(): string;
  protected abstract launch(entry: Entry, events: LinkEvents): Link;

  /** True between a successful start() and the end of the device. */
  get running(): boolean {
    return this.#state === "running";
  }

  /** Why the device failed or could not start (its error, a timeout, an unexpected exit), else null. */
  get error(): Error | null {
    return this.#failure;
  }

  /** The resolved endpoints once started, else null. */
  get endpoints(): DeviceEndpoints | null {
    return this.#endpoints;
  }

  /**
   * Starts the device in its thread / process; resolves once its sockets are made and
   * every bind is done, with the endpoints they resolved to. Rejects with the device's
   * error (a bad endpoint, an unknown option...) or after startTimeout, leaving no
   * thread / process behind. A device starts once.
   */
  start(): Promise<{ endpoints: DeviceEndpoints }> {
    if (this.#state !== "idle") return Promise.reject(new Error(`${this.constructor.name} was already started`));
    let entry: Entry;
    try {
      entry = resolveEntry(this.#entry);
    } catch (e) {
      this.#state = "stopped";
      return Promise.reject(e as Error);
    }
    this.#state = "starting";
    this.#exited = new Promise<void>((resolve) => (this.#markExited = resolve));
    const started = new Promise<{ endpoints: DeviceEndpoints }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#failure ??= new Error(`${this.constructor.name}: the device did not start within ${this.#startTimeout} ms`);
        this.#shutDown();
      }, this.#startTimeout);
      this.#startWaiter = { resolve, reject, timer };
    });
    try {
      this.#link = this.launch(entry, {
        message: (msg) => this.#onMessage(msg),
        exit: (description, error) => this.#onExit(description, error),
      });
      if (!this.#refed) this.#link.unref();
      this.#link.send({ t: "start", spec: this.spec });
    } catch (e) {
      // Launching failed, or the spec could not be sent (a value that does not clone).
      this.#failure ??= e as Error;
      if (this.#link) this.#shutDown();
      else this.#onExit("could not be launched", e as Error);
    }
    return started;
  }

  /**
   * Stops the device: it terminates, closes its sockets and its thread / process exits;
   * killed if it has not exited within stopTimeout. Resolves once it is gone; a no-op
   * when it is not running. A pending start() rejects.
   */
  stop(): Promise<void> {
    if (this.#state === "idle") {
      this.#state = "stopped";
      return Promise.resolve();
    }
    if (this.#state === "starting" || this.#state === "running") {
      if (this.#state === "starting") this.#failure ??= new Error(`${this.constructor.name} was stopped before it started`);
      this.#shutDown();
    }
    return this.#exited;
  }

  /** The device's counters (frames and bytes per side, as Proxy.statistics()), asked of the device. */
  statistics(): Promise<DeviceStatistics> {
    const link = this.#link;
    if (this.#state !== "running" || !link) {
      return Promise.reject(this.#failure ?? new Error(`${this.constructor.name} is not running`));
    }
    const id = this.#nextId++;
    return new Promise<DeviceStatistics>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.constructor.name}: no statistics from the device ${this.where} within ${this.#requestTimeout} ms`));
      }, this.#requestTimeout);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        link.send({ t: "statistics", id });
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /** The device thread / process no longer keeps this process alive (pyzmq's daemon devices). */
  unref(): this {
    this.#refed = false;
    this.#link?.unref();
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    this.#refed = true;
    this.#link?.ref();
    return this;
  }

  /** Asks the device to stop, and kills it if it has not exited within stopTimeout. */
  #shutDown(): void {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    this.#state = "stopping";
    const link = this.#link;
    if (!link) return;
    try {
      link.send({ t: "stop" });
    } catch {
      // The channel is gone: the exit follows (or the kill below makes it).
    }
    this.#killTimer = setTimeout(() => {
      try {
        link.kill();
      } catch {
        // Already gone.
      }
    }, this.#stopTimeout);
  }

  #onMessage(msg: FromDevice): void {
    switch (msg.t) {
      case "started": {
        const waiter = this.#startWaiter;
        if (this.#state !== "starting" || !waiter) return;
        this.#startWaiter = null;
        clearTimeout(waiter.timer);
        this.#state = "running";
        this.#endpoints = msg.endpoints;
        waiter.resolve({ endpoints: msg.endpoints });
        return;
      }
      case "start-failed":
      case "failed":
        // The device closes its sockets and exits; start() rejects once it has.
        this.#failure ??= fromWireError(msg.error);
        this.#shutDown();
        return;
      case "statistics": {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.statistics) p.resolve(msg.statistics);
        else p.reject(msg.error ? fromWireError(msg.error) : new Error("no statistics"));
        return;
      }
      case "stopped":
        return;
    }
  }

  #onExit(description: string, error: Error | null): void {
    if (this.#link === null && this.#state === "stopped") return;
    const wasStopping = this.#state === "stopping";
    this.#state = "stopped";
    this.#link = null;
    if (this.#killTimer) clearTimeout(this.#killTimer);
    this.#killTimer = null;
    const why = this.#failure ?? error
      ?? new Error(`${this.constructor.name}: the device ${this.where} ${description}${wasStopping ? "" : " unexpectedly"}`);
    if (!wasStopping || error) this.#failure ??= why;
    const waiter = this.#startWaiter;
    if (waiter) {
      this.#startWaiter = null;
      clearTimeout(waiter.timer);
      waiter.reject(why);
    }
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(why);
    }
    this.#pending.clear();
    this.#markExited();
  }
}

/**
 * pyzmq's ThreadDevice: the device runs in a worker thread of this process, with its own
 * event loop, so a main thread busy with synchronous work does not stall it.
 */
export class ThreadDevice extends BackgroundDevice {
  protected override get where(): string {
    return "thread";
  }

  protected override launch(entry: Entry, events: LinkEvents): Link {
    let worker: Worker;
    if (entry.ts) {
      // Node 20 workers run no --import hooks: register tsx in the worker, then load the entry.
      const { api } = tsxFiles(entry.path);
      const code = `import(${JSON.stringify(api)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry.path).href)}); });`;
      worker = new Worker(code, { eval: true, execArgv: [] });
    } else {
      worker = new Worker(entry.path, { execArgv: [] });
    }
    let error: Error | null = null;
    let gone = false;
    worker.on("message", (msg: FromDevice) => events.message(msg));
    worker.on("error", (e) => {
      error ??= e;
    });
    worker.on("exit", (code) => {
      if (gone) return;
      gone = true;
      events.exit(`exited (code ${code})`, error);
    });
    return {
      send: (msg) => worker.postMessage(msg),
      kill: () => void worker.terminate(),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  }
}

/**
 * pyzmq's ProcessDevice: the device runs in a child process (node with the device entry,
 * over an IPC channel); the child exits when this process does.
 */
export class ProcessDevice extends BackgroundDevice {
  protected override get where(): string {
    return "process";
  }

  protected override launch(entry: Entry, events: LinkEvents): Link {
    const execArgv = entry.ts ? ["--import", tsxFiles(entry.path).loader] : [];
    const child: ChildProcess = fork(entry.path, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let error: Error | null = null;
    let gone = false;
    const exit = (description: string) => {
      if (gone) return;
      gone = true;
      events.exit(description, error);
    };
    child.on("message", (msg) => {
      events.message(msg as FromDevice);
      // On Deno the child leaves the disconnect to us (see device-worker.ts): after its last
      // word (it has closed its sockets), end the channel from this side.
      const t = (msg as FromDevice).t;
      if (runtimeName === "deno" && (t === "start-failed" || t === "failed" || t === "stopped") && child.connected) child.disconnect();
    });
    child.on("error", (e) => {
      error ??= e;
      // A child that could not be spawned emits no exit.
      if (child.pid === undefined) exit("could not be spawned");
    });
    // "close" comes after the IPC channel has delivered everything the child sent.
    child.on("close", (code, signal) => exit(signal ? `was killed (${signal})` : `exited (code ${code})`));
    return {
      send: (msg) => {
        if (!child.connected) throw new Error("the device process is not connected");
        child.send(msg, (e) => {
          if (e) error ??= e;
        });
      },
      kill: () => void child.kill("SIGKILL"),
      ref: () => {
        child.ref();
        (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
      },
      unref: () => {
        child.unref();
        (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
      },
    };
  }
}
