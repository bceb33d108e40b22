/**
 * An engine: joins a cluster and runs tasks.
 *
 *   const engine = await Engine.start("cluster.json", { moduleRoot: "/srv/tasks" });
 *   await engine.done;   // until a client's shutdown, or engine.stop()
 *
 * Start-up follows docs/CLUSTER.md: bind the peer endpoint (the Mesh), connect the mux,
 * task, iopub, notification and registration sockets and the heart, wait until the mux
 * and task connections have completed their handshake (so the controller's ROUTERs can
 * route to this engine), then register: the hub answers with the engine's id and the
 * table of peers.
 *
 * Requests from the direct queue and the load-balanced queue run one at a time, in the
 * order they arrived. A task is a function named by "spec#export" (or sent as source,
 * when allowSource), called with the decoded arguments and `this` = its TaskContext;
 * its result (typed arrays out of band), its captured console output and its timings go
 * back in the apply_reply. A task that throws sends an error reply and aborts its job
 * on the mesh, so peers in a collective with it fail instead of waiting.
 *
 * A message with a bad signature or a malformed body is dropped, counted in `dropped`
 * and logged; it is never run.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Dealer, Publisher, Subscriber, curveKeyPair, type Context, type Socket } from "../index.js";
import { decodeValue, encodeValue } from "./codec.js";
import { curveClientOptions, peerEndpointFor, resolveConnection, type ConnectionInfo, type ConnectionSource } from "./connection.js";
import { ClusterError } from "./errors.js";
import { checkFunctionRef, resolveFunction, type FunctionRef } from "./functions.js";
import { Heart } from "./heart.js";
import { HubChannel } from "./hub-channel.js";
import { drop, newDropCounts, receiveLoop, stderrLogger, type DropCounts, type Logger } from "./log.js";
import { Mesh, type Comm, type PeerInfo } from "./mesh.js";
import { isoNow, Session, type JsonObject, type Message } from "./session.js";
import { formatArgs, runInTask, type TaskContext, type TaskScope } from "./task-context.js";

export interface EngineOptions {
  /** Run functions sent as source text (interactive use; it runs whatever a client sends). Default false. */
  allowSource?: boolean;
  /** Where "./module.js#fn" specifiers resolve from (default process.cwd()). */
  moduleRoot?: string;
  /** The heart: "thread" (a worker thread; beats while a task blocks this thread) or "inline". Default thread, inline over inproc. */
  heart?: "thread" | "inline";
  /** The context of every socket (an inproc cluster's). */
  context?: Context;
  /** This engine's uuid (default a new one). */
  uuid?: string;
  /** tcp: the interface to bind the peer endpoint on (default the controller's). */
  ip?: string;
  /** How long start() waits for the connections and the registration reply (default 10000 ms). */
  registrationTimeout?: number;
  /** Where notes go (dropped messages, leaving); false for nowhere. Default stderr. */
  log?: Logger | false;
  /** Also print tasks' captured output on this process's own stdout / stderr (default false). */
  echo?: boolean;
  /**
   * Stop when no heartbeat ping has come from the controller for this long (ms): the
   * controller is gone. Default 4 × its detection bound (10 s with the default
   * heartbeat); 0 to wait forever.
   */
  controllerTimeout?: number;
}

interface Request {
  socket: Dealer;
  msg: Message;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Resolves on the first "handshake" event of a connecting socket (tcp / ipc), or rejects after `ms`. */
async function handshake(socket: Socket, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterError("ETIMEDOUT", `no connection to the controller's ${what} within ${ms} ms`)), ms);
  });
  const wait = (async () => {
    for (;;) {
      const ev = await socket.events.receive();
      if (ev.type === "handshake") return;
      if (ev.type === "end") throw new ClusterError("ECLOSED", "closed while connecting");
    }
  })();
  try {
    await Promise.race([wait, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Engine {
  /** The id the hub gave this engine. */
  readonly id: number;
  readonly uuid: string;
  readonly connectionInfo: ConnectionInfo;
  readonly mesh: Mesh;
  /** Named values: what push() set, pull() reads, and tasks share through get/set. */
  readonly namespace = new Map<string, unknown>();
  /** Messages this engine refused. */
  readonly dropped: DropCounts;
  /** The heart's mode: "thread" or "inline". */
  readonly heartMode: "thread" | "inline";
  readonly #session: Session;
  readonly #hub: HubChannel;
  readonly #mux: Dealer;
  readonly #task: Dealer;
  readonly #iopub: Publisher;
  readonly #notification: Subscriber;
  readonly #registration: Dealer;
  readonly #pings: Subscriber;
  readonly #heart: Heart;
  readonly #log: Logger;
  readonly #options: EngineOptions;
  readonly #moduleRoot: string;
  readonly #queue: Request[] = [];
  #running = false;
  #state: "running" | "stopping" | "stopped" = "running";
  #why = "";
  #watchdog: NodeJS.Timeout | null = null;
  readonly #done: Promise<string>;
  #markDone!: (why: string) => void;
  /** Requests run, for tests and monitoring. */
  completed = 0;

  private constructor(parts: {
    id: number; uuid: string; info: ConnectionInfo; mesh: Mesh; session: Session; hub: HubChannel; dropped: DropCounts;
    mux: Dealer; task: Dealer; iopub: Publisher; notification: Subscriber; registration: Dealer; pings: Subscriber; heart: Heart;
    log: Logger; options: EngineOptions;
  }) {
    this.id = parts.id;
    this.uuid = parts.uuid;
    this.connectionInfo = parts.info;
    this.mesh = parts.mesh;
    this.#session = parts.session;
    this.#hub = parts.hub;
    this.dropped = parts.dropped;
    this.#mux = parts.mux;
    this.#task = parts.task;
    this.#iopub = parts.iopub;
    this.#notification = parts.notification;
    this.#registration = parts.registration;
    this.#pings = parts.pings;
    this.#heart = parts.heart;
    this.heartMode = parts.heart.mode;
    this.#log = parts.log;
    this.#options = parts.options;
    this.#moduleRoot = parts.options.moduleRoot ?? process.cwd();
    this.#done = new Promise((resolve) => (this.#markDone = resolve));
  }

  /**
   * Joins the cluster described by a connection file (path) or its contents; resolves
   * once registered. Rejects with ETIMEDOUT when the controller does not answer within
   * registrationTimeout, leaving nothing open.
   */
  static async start(source: ConnectionSource, options: EngineOptions = {}): Promise<Engine> {
    const info = resolveConnection(source);
    const uuid = options.uuid ?? randomUUID();
    const timeout = options.registrationTimeout ?? 10_000;
    const log: Logger = options.log === false ? () => {} : options.log ?? stderrLogger(`engine ${uuid.slice(0, 8)}`);
    const session = new Session({ key: info.key, username: "engine" });
    const ctx = options.context ? { context: options.context } : {};
    // A CURVE cluster: this engine's own key pair, for the controller's sockets and its mesh.
    const curve = info.curve ? curveKeyPair() : null;
    const toController = { ...ctx, ...curveClientOptions(info.curve?.server_key, curve) };
    const dropped = newDropCounts();
    const sockets: Socket[] = [];
    let mesh: Mesh | null = null;
    let heart: Heart | null = null;
    let hub: HubChannel | null = null;
    try {
      mesh = await Mesh.bind({ session, uuid, endpoint: peerEndpointFor(info, uuid, options.ip), logger: log, ...ctx, ...(curve ? { curve } : {}) });
      const make = <S extends Socket>(s: S): S => {
        sockets.push(s);
        return s;
      };
      const registration = make(new Dealer({ ...toController, routingId: uuid, linger: 1000 }));
      const mux = make(new Dealer({ ...toController, routingId: uuid, linger: 1000 }));
      const task = make(new Dealer({ ...toController, routingId: uuid, linger: 1000 }));
      const iopub = make(new Publisher({ ...toController, linger: 1000 }));
      const notification = make(new Subscriber({ ...toController, linger: 0 }));
      notification.subscribe();
      // The controller's pings, watched from this thread: silence means the controller is gone.
      const pings = make(new Subscriber({ ...toController, linger: 0, receiveHighWaterMark: 4, conflate: true }));
      pings.subscribe();
      const e = info.endpoints;
      const net = info.transport !== "inproc";
      const connected = Promise.all(net
        ? [handshake(mux, timeout, "mux"), handshake(task, timeout, "task queue"), handshake(notification, timeout, "notification")]
        : []);
      connected.catch(() => {}); // awaited below, after the heart has started
      registration.connect(e.registration);
      mux.connect(e.mux_engine);
      task.connect(e.task_engine);
      iopub.connect(e.iopub_engine);
      notification.connect(e.notification);
      pings.connect(e.hb_ping);
      heart = await Heart.start(e.hb_ping, e.hb_pong, uuid, { ...(options.heart ? { mode: options.heart } : {}), ...ctx, startTimeout: timeout, socketOptions: curveClientOptions(info.curve?.server_key, curve) });
      await connected;
      hub = new HubChannel(registration, session, log, dropped);
      const reply = await hub.request("registration_request", {
        uuid, peer_endpoint: mesh.endpoint, pid: process.pid, hostname: hostname(), ...(curve ? { curve_key: curve.publicKey } : {}),
      }, timeout);
      const c = reply.content;
      if (c.status !== "ok" || !Number.isInteger(c.id)) {
        throw new ClusterError("EINVAL", `registration refused: ${typeof c.evalue === "string" ? c.evalue : JSON.stringify(c)}`);
      }
      const id = c.id as number;
      mesh.setSelf(id);
      if (Array.isArray(c.peers)) mesh.setPeers(c.peers as PeerInfo[]);
      const engine = new Engine({
        id, uuid, info, mesh, session, hub, dropped, mux, task, iopub, notification, registration, pings, heart, log, options,
      });
      engine.#begin();
      return engine;
    } catch (e) {
      hub?.close();
      for (const s of sockets) {
        s.linger = 0;
        s.close();
      }
      await heart?.stop().catch(() => {});
      await mesh?.close().catch(() => {});
      throw e;
    }
  }

  /** Resolves, with the reason, once the engine has stopped (stop(), kill(), a shutdown request, or the hub dropping it). */
  get done(): Promise<string> {
    return this.#done;
  }

  get stopped(): boolean {
    return this.#state === "stopped";
  }

  /** Requests waiting to run (not counting the one running). */
  get queued(): number {
    return this.#queue.length;
  }

  #begin(): void {
    this.#hub.onOther = (msg) => this.#onHubMessage(msg);
    void receiveLoop(this.#mux, (f) => this.#onRequest(this.#mux, "mux", f), this.#log, "mux");
    void receiveLoop(this.#task, (f) => this.#onRequest(this.#task, "task", f), this.#log, "task");
    void receiveLoop(this.#notification, (f) => this.#onNotification(f), this.#log, "notification");
    this.#watchController();
  }

  /**
   * Stops the engine when the controller's pings stop for controllerTimeout. A tick that
   * comes late means this thread was busy (a long synchronous task): the pings are then
   * still queued, unread, so the silence restarts from there instead of counting.
   */
  #watchController(): void {
    const hb = this.connectionInfo.heartbeat;
    const timeout = this.#options.controllerTimeout ?? 4 * hb.period * (hb.max_missed + 1);
    if (timeout <= 0) return;
    let lastPing = Date.now();
    void receiveLoop(this.#pings, () => void (lastPing = Date.now()), this.#log, "hb_ping");
    const every = Math.max(10, Math.min(hb.period, timeout / 4));
    let lastTick = Date.now();
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      if (now - lastTick > 2 * every) lastPing = Math.max(lastPing, now - every);
      lastTick = now;
      if (now - lastPing > timeout) void this.stop(`no heartbeat from the controller for ${timeout} ms`, false);
    }, every);
    this.#watchdog.unref?.();
  }

  // ---- incoming ------------------------------------------------------------------

  #onHubMessage(msg: Message): void {
    if (msg.header.msg_type === "shutdown_request") {
      void this.#hub.send("shutdown_reply", { status: "ok", id: this.id }, msg).catch(() => {});
      void this.stop("shut down by a client's request");
      return;
    }
    drop(this.dropped, this.#log, "registration", "unexpected", `msg_type ${msg.header.msg_type}`);
  }

  #onNotification(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#log, "notification", "invalid", e);
      return;
    }
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "registration_notification":
        if (Number.isInteger(c.id) && typeof c.uuid === "string" && typeof c.peer_endpoint === "string") {
          if (c.id !== this.id) {
            this.mesh.addPeer({ id: c.id as number, uuid: c.uuid, peer_endpoint: c.peer_endpoint, ...(typeof c.curve_key === "string" ? { curve_key: c.curve_key } : {}) });
          }
        } else drop(this.dropped, this.#log, "notification", "malformed", "registration_notification without id, uuid, peer_endpoint");
        return;
      case "unregistration_notification":
        if (!Number.isInteger(c.id)) {
          drop(this.dropped, this.#log, "notification", "malformed", "unregistration_notification without id");
          return;
        }
        if (c.id === this.id && c.uuid === this.uuid) {
          // The hub has given up on this engine (its heart was silent too long): nobody routes to it any more.
          void this.stop(`unregistered by the hub: ${String(c.reason)}`, false);
        } else if (c.id !== this.id) {
          this.mesh.removePeer(c.id as number, typeof c.reason === "string" ? c.reason : "unregistered");
        }
        return;
      default:
        drop(this.dropped, this.#log, "notification", "unexpected", `msg_type ${msg.header.msg_type}`);
    }
  }

  #onRequest(socket: Dealer, where: string, frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#log, where, "invalid", e);
      return;
    }
    const type = msg.header.msg_type;
    if (type !== "apply_request" && type !== "execute_request") {
      drop(this.dropped, this.#log, where, "unexpected", `msg_type ${type}`);
      return;
    }
    if (msg.identities.length !== 1) {
      drop(this.dropped, this.#log, where, "malformed", "a request without exactly one client routing id");
      return;
    }
    if (this.#state !== "running") return;
    this.#queue.push({ socket, msg });
    if (!this.#running) void this.#runQueue();
  }

  async #runQueue(): Promise<void> {
    this.#running = true;
    try {
      let req: Request | undefined;
      while ((req = this.#queue.shift()) !== undefined && this.#state === "running") {
        await this.#run(req);
      }
    } finally {
      this.#running = false;
    }
  }

  // ---- running a request ------------------------------------------------------------

  async #run({ socket, msg }: Request): Promise<void> {
    const started = isoNow();
    const isExecute = msg.header.msg_type === "execute_request";
    const md = msg.metadata;
    const job = typeof md.job === "string" && md.job !== "" ? md.job : msg.header.msg_id;
    const group = Array.isArray(md.group) && md.group.length > 0 && md.group.every((g) => Number.isInteger(g) && g >= 0)
      ? [...new Set(md.group as number[])].sort((a, b) => a - b)
      : [this.id];
    if (!this.#knowsAll(group)) await this.#ensurePeers(group);
    const out = { stdout: "", stderr: "" };
    let pending = { stdout: "", stderr: "" };
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      for (const name of ["stdout", "stderr"] as const) {
        if (!pending[name]) continue;
        this.#publish("stream", { name, text: pending[name] }, msg);
      }
      pending = { stdout: "", stderr: "" };
    };
    const echo = this.#options.echo === true;
    const scope: TaskScope = {
      context: this.#context(msg, job, group, (text) => scope.write("stdout", text)),
      write: (stream, text) => {
        out[stream] += text;
        pending[stream] += text;
        if (echo) (stream === "stdout" ? process.stdout : process.stderr).write(text);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      },
    };
    let content: JsonObject;
    let buffers: Buffer[] = [];
    let status: "ok" | "error";
    try {
      const value = await this.#execute(msg, isExecute, scope);
      if (isExecute) content = { status: "ok" };
      else content = { status: "ok", result: encodeValue(value, buffers) };
      status = "ok";
    } catch (e) {
      buffers = [];
      status = "error";
      content = this.#errorContent(e);
      try {
        this.mesh.abortJob(job, e instanceof Error ? e : new Error(String(e)), group);
      } catch {
        // the mesh is closing
      }
    } finally {
      try {
        this.mesh.finishJob(job);
      } catch {
        // the mesh is closing
      }
    }
    flush();
    this.completed++;
    if (this.#state === "stopped") return;
    const { frames } = this.#session.build(isExecute ? "execute_reply" : "apply_reply", content, {
      identities: msg.identities,
      parent: msg,
      buffers,
      metadata: {
        engine_id: this.id, engine_uuid: this.uuid, started, completed: isoNow(),
        stdout: out.stdout, stderr: out.stderr, status,
      },
    });
    await socket.send(frames).catch((e: Error) => this.#log(`could not send the reply to ${msg.header.msg_id}: ${e.message}`));
  }

  /**
   * A group naming an engine this one has not heard of (its registration notification
   * was missed, or is still on its way): ask the hub for the table rather than wait.
   */
  #knowsAll(group: readonly number[]): boolean {
    for (const g of group) if (g !== this.id && !this.mesh.hasPeer(g)) return false;
    return true;
  }

  async #ensurePeers(group: readonly number[]): Promise<void> {
    try {
      const reply = await this.#hub.request("connection_request", {}, 2000);
      if (Array.isArray(reply.content.engines)) this.mesh.setPeers(reply.content.engines as PeerInfo[]);
    } catch {
      // The mesh waits for the notification itself (and fails the task if it never comes).
    }
  }

  async #execute(msg: Message, isExecute: boolean, scope: TaskScope): Promise<unknown> {
    const c = msg.content;
    let ref: FunctionRef;
    let args: unknown[];
    try {
      ref = checkFunctionRef(isExecute ? c.code : c.fn);
      if (c.args !== undefined && !Array.isArray(c.args)) throw new ClusterError("EPROTO", "args must be a list");
      args = ((c.args ?? []) as unknown[]).map((a) => decodeValue(a, msg.buffers));
    } catch (e) {
      if (e instanceof ClusterError && e.code === "EPROTO") {
        drop(this.dropped, this.#log, "request", "malformed", e);
        throw new ClusterError("EPROTO", `malformed ${msg.header.msg_type}, not run: ${e.message}`);
      }
      throw e;
    }
    const ctx = scope.context;
    if (typeof ref === "object" && "builtin" in ref) {
      switch (ref.builtin) {
        case "push": {
          const values = args[0];
          if (!isObject(values)) throw new ClusterError("EINVAL", "push needs an object of named values");
          for (const [k, v] of Object.entries(values)) this.namespace.set(k, v);
          return undefined;
        }
        case "pull": {
          const names = args[0];
          const one = (n: unknown) => {
            if (typeof n !== "string") throw new ClusterError("EINVAL", "pull needs names");
            if (!this.namespace.has(n)) {
              const err = new Error(`name ${JSON.stringify(n)} is not defined on engine ${this.id}`);
              err.name = "NameError";
              throw err;
            }
            return this.namespace.get(n);
          };
          return Array.isArray(names) ? names.map(one) : one(names);
        }
        case "map": {
          const fn = await resolveFunction(ref.fn as string | { source: string }, this.#resolveOptions());
          const items = args[0];
          if (!Array.isArray(items) && !ArrayBuffer.isView(items)) throw new ClusterError("EINVAL", "map needs a list or a typed array");
          const list = items as ArrayLike<unknown>;
          return runInTask(scope, async () => {
            const results: unknown[] = new Array(list.length);
            for (let i = 0; i < list.length; i++) results[i] = await fn.call(ctx, list[i]);
            return results;
          });
        }
      }
    }
    const fn = await resolveFunction(ref as string | { source: string }, this.#resolveOptions());
    return runInTask(scope, async () => fn.apply(ctx, args));
  }

  #resolveOptions() {
    return { moduleRoot: this.#moduleRoot, allowSource: this.#options.allowSource === true };
  }

  #errorContent(e: unknown): JsonObject {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as { code?: unknown }).code;
    return {
      status: "error",
      ename: err.name,
      evalue: err.message,
      traceback: (err.stack ?? `${err.name}: ${err.message}`).split("\n"),
      engine_id: this.id,
      ...(typeof code === "string" ? { code } : {}),
    };
  }

  #context(msg: Message, job: string, group: readonly number[], print: (text: string) => void): TaskContext {
    let comm: Comm | null = null;
    const engine = this;
    return {
      engineId: this.id,
      engineUuid: this.uuid,
      msgId: msg.header.msg_id,
      job,
      group,
      get comm() {
        comm ??= engine.mesh.comm(group, job);
        return comm;
      },
      mesh: this.mesh,
      namespace: this.namespace,
      get: <T>(name: string) => this.namespace.get(name) as T,
      set: (name: string, value: unknown) => void this.namespace.set(name, value),
      print: (...args: unknown[]) => print(formatArgs(args)),
      publish: (data: unknown) => {
        const buffers: Buffer[] = [];
        this.#publish("data_pub", { data: encodeValue(data, buffers) }, msg, buffers);
      },
    };
  }

  #publish(msgType: string, content: JsonObject, parent: Message, buffers: Buffer[] = []): void {
    if (this.#state === "stopped") return;
    const { frames } = this.#session.build(msgType, content, {
      identities: [`engine.${this.id}.${msgType}`],
      parent,
      buffers,
      metadata: { engine_id: this.id },
    });
    this.#iopub.send(frames).catch(() => {});
  }

  // ---- stopping --------------------------------------------------------------------

  /**
   * Leaves the cluster cleanly: unregisters (so peers and clients are told at once, not
   * after the heartbeat bound), stops the heart, closes the mesh and every socket. A task
   * still running is abandoned: its client gets EENGINEDIED.
   */
  stop(reason = "stopped", unregister = true): Promise<void> {
    if (this.#state !== "running") return this.#done.then(() => {});
    this.#state = "stopping";
    this.#why = reason;
    return (async () => {
      if (unregister) {
        await this.#hub.request("unregistration_request", { id: this.id }, 1000).catch(() => {});
      }
      await this.#close(200);
    })();
  }

  /**
   * Dies abruptly, as a crashed engine would (for tests of fault handling): no
   * unregistration, the heart stops, every socket closes at once. The hub notices by
   * heartbeat. A task running in this thread cannot be interrupted; its reply is dropped.
   */
  kill(): void {
    if (this.#state === "stopped") return;
    this.#state = "stopping";
    this.#why = "killed";
    void this.#close(0);
  }

  async #close(linger: number): Promise<void> {
    this.#queue.length = 0;
    this.#hub.close();
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const s of [this.#mux, this.#task, this.#iopub, this.#notification, this.#registration, this.#pings]) {
      s.linger = linger;
      s.close();
    }
    this.#state = "stopped";
    await Promise.all([this.#heart.stop().catch(() => {}), this.mesh.close().catch(() => {})]);
    if (this.#why !== "killed") this.#log(`engine ${this.id} stopped: ${this.#why}`);
    this.#markDone(this.#why);
  }
}
