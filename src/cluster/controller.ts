/**
 * The controller: the one process whose endpoints everybody knows (they are in the
 * connection file). It assembles
 *   - the hub (registration ROUTER, notification PUB, heartbeat PUB + ROUTER, the task
 *     database fed by a monitor SUB);
 *   - the direct queue: ROUTER mux_client ⇄ MonitoredQueue ⇄ ROUTER mux_engine, every
 *     message copied to the hub;
 *   - the load-balanced task queue: ROUTER task_client ⇄ TaskScheduler ⇄ ROUTER task_engine;
 *   - iopub: XSUB iopub_engine ⇄ Proxy ⇄ XPUB iopub_client, engines' output to clients.
 *
 *   const controller = await Controller.start({ transport: "tcp" });
 *   controller.writeConnectionFile("cluster.json");   // engines and clients read it
 *   ...
 *   await controller.stop();
 *
 * The scheduler learns of engines joining and leaving from the hub directly (they share
 * this process), not over the notification socket, so it never misses one.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import {
  Context, MonitoredQueue, Proxy, Publisher, Router, Subscriber, XPublisher, XSubscriber, type Socket,
  curveKeyPair,
} from "../index.js";
import {
  CHANNELS, newKey, planEndpoints, writeConnectionFile, type Channel, type ConnectionInfo, type Transport,
  curveServerOptions, type CurveKeys,
} from "./connection.js";
import { ClusterError } from "./errors.js";
import { DEFAULT_HEARTBEAT, detectionBound, type HeartbeatOptions } from "./heart.js";
import { Hub, type EngineInfo, type TaskRecord } from "./hub.js";
import { stderrLogger, type DropCounts, type Logger } from "./log.js";
import { schemeFor, type Scheme, type SchemeName } from "./schemes.js";
import { Session } from "./session.js";
import { TaskScheduler } from "./task-scheduler.js";

export interface ControllerOptions {
  /** tcp (default), ipc, or inproc (controller, engines and clients in this one process). */
  transport?: Transport;
  /** tcp: the interface to bind (default 127.0.0.1). Engines bind their peer endpoints on it too. */
  ip?: string;
  /** ipc: the directory of the socket files (default: a fresh one under the OS temp dir, removed at stop); inproc: the name prefix. */
  location?: string;
  /** The HMAC key (default: 32 random bytes, hex). */
  key?: string;
  /** Heartbeat period and tolerated misses (default 500 ms, 4): an engine's death is noticed within period × (maxMissed + 1). */
  heartbeat?: HeartbeatOptions;
  /** The task scheduler's scheme (default "leastload"), or a function of your own. */
  taskScheme?: SchemeName | Scheme;
  /** Most tasks outstanding on one engine from the task scheduler; 0 = no limit (default 1, as IPython). */
  taskHighWaterMark?: number;
  /** The context of every socket (inproc clusters need engines and clients to share it; default the global one). */
  context?: Context;
  /** Where notes go (engines joining / leaving, dropped messages); false for nowhere. Default stderr. */
  log?: Logger | false;
  /** Most task records the hub keeps (default 100000); the oldest finished ones go first. */
  maxTaskRecords?: number;
  /**
   * CURVE on every channel (tcp or ipc): true makes a new server key pair, or give one.
   * The connection file then carries the public key; engines and clients connect with
   * key pairs of their own, and engines' peer endpoints are CURVE servers too. The
   * HMAC key still signs every message. Default off.
   */
  curve?: boolean | CurveKeys;
}

const isPositive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;

export class Controller {
  /** What engines and clients need; also written by writeConnectionFile(). */
  readonly connectionInfo: ConnectionInfo;
  readonly session: Session;
  readonly hub: Hub;
  readonly scheduler: TaskScheduler;
  /** How long an engine's death may go unnoticed, ms: period × (maxMissed + 1). */
  readonly detectionBound: number;
  readonly #sockets: Socket[];
  readonly #devices: Array<MonitoredQueue | Proxy>;
  readonly #removeDir: string | null;
  #stopping: Promise<void> | null = null;
  readonly #done: Promise<void>;
  #markDone!: () => void;

  private constructor(parts: {
    info: ConnectionInfo; session: Session; hub: Hub; scheduler: TaskScheduler; bound: number;
    sockets: Socket[]; devices: Array<MonitoredQueue | Proxy>; removeDir: string | null;
  }) {
    this.connectionInfo = parts.info;
    this.session = parts.session;
    this.hub = parts.hub;
    this.scheduler = parts.scheduler;
    this.detectionBound = parts.bound;
    this.#sockets = parts.sockets;
    this.#devices = parts.devices;
    this.#removeDir = parts.removeDir;
    this.#done = new Promise((resolve) => (this.#markDone = resolve));
  }

  /** Binds every channel and starts the hub, the queues and the scheduler. */
  static async start(options: ControllerOptions = {}): Promise<Controller> {
    const transport = options.transport ?? "tcp";
    const hb = { ...DEFAULT_HEARTBEAT, ...options.heartbeat };
    if (!isPositive(hb.period)) throw new ClusterError("EINVAL", "heartbeat.period must be a positive number of ms");
    if (!Number.isInteger(hb.maxMissed) || hb.maxMissed < 1) throw new ClusterError("EINVAL", "heartbeat.maxMissed must be an integer ≥ 1");
    const scheme = schemeFor(options.taskScheme);
    const hwm = options.taskHighWaterMark ?? 1;
    if (!Number.isInteger(hwm) || hwm < 0) throw new ClusterError("EINVAL", "taskHighWaterMark must be an integer ≥ 0");
    const log: Logger = options.log === false ? () => {} : options.log ?? stderrLogger("controller");
    const plan = planEndpoints(transport, transport === "tcp" ? options.ip : options.location);
    const key = options.key ?? newKey();
    const session = new Session({ key, username: "controller" });
    const ctx = options.context ? { context: options.context } : {};
    if (options.curve && transport === "inproc") throw new ClusterError("EINVAL", "CURVE needs tcp or ipc (inproc has no security mechanism)");
    const curveKeys: CurveKeys | null = options.curve === true ? curveKeyPair() : options.curve ? options.curve : null;
    // The channels' sockets (not the inproc monitor pair) are CURVE servers in a CURVE cluster.
    const srv = { ...ctx, ...curveServerOptions(curveKeys) };

    const sockets: Socket[] = [];
    const make = <S extends Socket>(s: S): S => {
      sockets.push(s);
      s.linger = 0;
      return s;
    };
    const registration = make(new Router(srv));
    const muxClient = make(new Router(srv));
    const muxEngine = make(new Router(srv));
    const taskClient = make(new Router(srv));
    const taskEngine = make(new Router(srv));
    const iopubEngine = make(new XSubscriber(srv));
    const iopubClient = make(new XPublisher(srv));
    const notification = make(new Publisher({ ...srv, sendHighWaterMark: 0 }));
    const hbPing = make(new Publisher(srv));
    const hbPong = make(new Router(srv));
    const muxMonitor = make(new Publisher({ ...ctx, sendHighWaterMark: 0 }));
    const hubMonitor = make(new Subscriber({ ...ctx, receiveHighWaterMark: 0 }));
    const byChannel: Record<Channel, Socket> = {
      registration, mux_client: muxClient, mux_engine: muxEngine, task_client: taskClient, task_engine: taskEngine,
      iopub_client: iopubClient, iopub_engine: iopubEngine, notification, hb_ping: hbPing, hb_pong: hbPong,
    };
    const endpoints = {} as Record<Channel, string>;
    const removeDir = transport === "ipc" && options.location === undefined ? plan.location : null;
    try {
      for (const c of CHANNELS) {
        const s = byChannel[c] as Socket & { lastEndpoint: string | null };
        await s.bind(plan.endpoints[c]);
        endpoints[c] = transport === "tcp" ? s.lastEndpoint! : plan.endpoints[c];
      }
      const monitorName = `inproc://zmq-ts-cluster-monitor-${randomBytes(6).toString("hex")}`;
      await muxMonitor.bind(`${monitorName}/mux`);
      hubMonitor.subscribe();
      hubMonitor.connect(`${monitorName}/mux`);
    } catch (e) {
      for (const s of sockets) s.close();
      if (removeDir) rmSync(removeDir, { recursive: true, force: true });
      throw e;
    }

    const info: ConnectionInfo = {
      transport,
      location: plan.location,
      key,
      signature_scheme: "hmac-sha256",
      task_scheme: scheme.name,
      heartbeat: { period: hb.period, max_missed: hb.maxMissed },
      endpoints,
      ...(curveKeys ? { curve: { server_key: curveKeys.publicKey } } : {}),
    };
    const scheduler = new TaskScheduler({
      session, clients: taskClient, engines: taskEngine, scheme: scheme.choose, highWaterMark: hwm, log,
      // The hub is made below; the scheduler records nothing before start().
      records: {
        recordRequest: (queue, header, content, client) => hub.recordRequest(queue, header, content, client),
        recordDispatch: (msgId, engineUuid) => hub.recordDispatch(msgId, engineUuid),
        recordReply: (frames, at, engineUuid) => hub.recordReply(frames, at, engineUuid),
      },
    });
    let controller: Controller | null = null;
    const hub = new Hub({
      session, registration, notification, monitor: hubMonitor, hbPing, hbPong, heartbeat: hb, log,
      ...(options.maxTaskRecords !== undefined ? { maxRecords: options.maxTaskRecords } : {}),
      onEngineAdded: (e) => scheduler.addEngine(e.id, e.uuid),
      onEngineRemoved: (e, reason) => scheduler.removeEngine(e.id, e.uuid, reason),
      onShutdown: () => {
        // Let the replies (and the engines' shutdown requests) leave first.
        setTimeout(() => void controller?.stop(), 100);
      },
    });
    const mux = new MonitoredQueue(muxClient, muxEngine, muxMonitor, { inPrefix: "in", outPrefix: "out" });
    const iopub = new Proxy(iopubEngine, iopubClient);
    mux.run().catch((e: Error) => log(`the direct queue stopped: ${e.message}`));
    iopub.run().catch((e: Error) => log(`the iopub forwarder stopped: ${e.message}`));
    hub.start();
    scheduler.start();
    controller = new Controller({
      info, session, hub, scheduler, bound: detectionBound(hb.period, hb.maxMissed),
      sockets, devices: [mux, iopub], removeDir,
    });
    return controller;
  }

  /** Writes the connection file (mode 0600: it holds the key). */
  writeConnectionFile(path: string): void {
    writeConnectionFile(path, this.connectionInfo);
  }

  /** The registered engines, by id. */
  get engines(): EngineInfo[] {
    return this.hub.engines;
  }

  /** The hub's task database, by msg_id. */
  get tasks(): ReadonlyMap<string, TaskRecord> {
    return this.hub.tasks;
  }

  /** Messages refused by the hub and the task scheduler (bad signature, malformed, unexpected). */
  get dropped(): { hub: DropCounts; scheduler: DropCounts } {
    return { hub: { ...this.hub.dropped }, scheduler: { ...this.scheduler.dropped } };
  }

  /** Resolves once the controller has stopped (by stop(), or a client's shutdown with hub: true). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Stops everything and closes every socket; engines notice by heartbeat (or were shut down first). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.hub.stop();
      this.scheduler.stop();
      for (const d of this.#devices) if (d.running) d.terminate();
      for (const s of this.#sockets) s.close();
      if (this.#removeDir) rmSync(this.#removeDir, { recursive: true, force: true });
      this.#markDone();
    })();
    return this.#stopping;
  }
}
