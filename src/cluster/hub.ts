/**
 * The hub: the controller's bookkeeper. It
 *   - registers engines (registration ROUTER): gives each the next integer id and the
 *     table of peers, and publishes registration / unregistration notifications (PUB);
 *   - watches their hearts (HeartMonitor) and unregisters one whose heart stopped;
 *   - keeps a record of every task: the direct queue sends it a copy of each request and
 *     reply (monitor SUB); the task scheduler, in the same process, which has verified
 *     and parsed its messages already, calls recordRequest / recordDispatch /
 *     recordReply directly. From these it tracks submitted → running → completed |
 *     failed, with timings, engine and client;
 *   - answers clients' queries (connection_request, queue_request, result_request) and
 *     relays shutdown_request to engines.
 *
 * A copy or a request that is not a correctly signed, well-formed message is dropped,
 * counted (`dropped`) and logged; nothing is acted on.
 */
import type { Publisher, Router, Subscriber } from "../index.js";
import { ClusterError } from "./errors.js";
import { HeartMonitor } from "./heart.js";
import { drop, newDropCounts, receiveLoop, type DropCounts, type Logger } from "./log.js";
import type { Message, MessageHeader, Session } from "./session.js";

/** An engine as the hub knows it. */
export interface EngineInfo {
  id: number;
  uuid: string;
  peer_endpoint: string;
  /** Its peer endpoint's CURVE public key (Z85), in a CURVE cluster. */
  curve_key?: string;
  pid: number | null;
  hostname: string | null;
  /** When it registered (ms since the epoch). */
  registered: number;
}

export type TaskState = "submitted" | "running" | "completed" | "failed";

/** One request as the hub's task database holds it. */
export interface TaskRecord {
  msg_id: string;
  /** "direct": through the mux to a named engine; "task": through the load-balancing scheduler. */
  queue: "direct" | "task";
  msg_type: string;
  state: TaskState;
  /** What ran: a "spec#export", "<source>", or a builtin's name (push, pull, map...). */
  fn: string;
  /** The client's routing id. */
  client: string;
  engine_id: number | null;
  /** ISO times: the client's header date, the engine's start and end, the hub's receipt of the reply. */
  submitted: string;
  started: string | null;
  completed: string | null;
  received: string | null;
  /** For a failed task: the error's name, message and code. */
  error: { ename: string; evalue: string; code?: string } | null;
  /** How many times the scheduler resubmitted it after an engine died. */
  resubmitted: number;
}

export interface HubOptions {
  session: Session;
  registration: Router;
  notification: Publisher;
  monitor: Subscriber;
  hbPing: Publisher;
  hbPong: Router;
  heartbeat: { period: number; maxMissed: number };
  log: Logger;
  /** Most records kept; beyond it the oldest finished ones go (default 100000). */
  maxRecords?: number;
  /** Engine joined / left: the controller tells the task scheduler. */
  onEngineAdded?: (engine: EngineInfo) => void;
  onEngineRemoved?: (engine: EngineInfo, reason: string) => void;
  /** A client asked for shutdown with `hub: true`: the controller stops after replying. */
  onShutdown?: () => void;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A short description of an apply_request's function, for records. */
export function describeFn(fn: unknown): string {
  if (typeof fn === "string") return fn;
  if (isObject(fn)) {
    if (typeof fn.builtin === "string") return fn.fn === undefined ? `@${fn.builtin}` : `@${fn.builtin}(${describeFn(fn.fn)})`;
    if (typeof fn.source === "string") return "<source>";
  }
  return "?";
}

export class Hub {
  readonly #o: HubOptions;
  readonly #engines = new Map<number, EngineInfo>();
  readonly #byUuid = new Map<string, EngineInfo>();
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #heart: HeartMonitor;
  readonly #maxRecords: number;
  #nextId = 0;
  #stopped = false;
  /** What this hub refused (monitor copies and requests alike). */
  readonly dropped: DropCounts = newDropCounts();

  constructor(options: HubOptions) {
    this.#o = options;
    this.#maxRecords = options.maxRecords ?? 100_000;
    this.#heart = new HeartMonitor({
      ping: options.hbPing,
      pong: options.hbPong,
      period: options.heartbeat.period,
      maxMissed: options.heartbeat.maxMissed,
      log: options.log,
      onFailure: (uuid, missed) => {
        const engine = this.#byUuid.get(uuid);
        if (engine) this.#unregister(engine, `its heart stopped (${missed} heartbeats missed)`);
      },
    });
  }

  start(): void {
    this.#heart.start();
    void receiveLoop(this.#o.registration, (f) => this.#onRequest(f), this.#o.log, "registration");
    void receiveLoop(this.#o.monitor, (f) => this.#onCopy(f), this.#o.log, "monitor");
  }

  stop(): void {
    this.#stopped = true;
    this.#heart.stop();
  }

  /** The registered engines, by id. */
  get engines(): EngineInfo[] {
    return [...this.#engines.values()].sort((a, b) => a.id - b.id);
  }

  engine(id: number): EngineInfo | undefined {
    return this.#engines.get(id);
  }

  /** The task database (live records; treat as read-only). */
  get tasks(): ReadonlyMap<string, TaskRecord> {
    return this.#tasks;
  }

  // ---- requests on the registration ROUTER ----------------------------------------------

  #onRequest(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#o.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#o.log, "registration", "invalid", e);
      return;
    }
    const sender = msg.identities[0];
    if (!sender || msg.identities.length !== 1) {
      drop(this.dropped, this.#o.log, "registration", "malformed", "expected exactly one routing id");
      return;
    }
    try {
      switch (msg.header.msg_type) {
        case "registration_request": return this.#onRegistration(sender, msg);
        case "unregistration_request": return this.#onUnregistration(sender, msg);
        case "connection_request":
          return this.#reply(sender, msg, "connection_reply", { status: "ok", engines: this.#peerTable() });
        case "queue_request": return this.#onQueueRequest(sender, msg);
        case "result_request": return this.#onResultRequest(sender, msg);
        case "shutdown_request": return this.#onShutdownRequest(sender, msg);
        case "shutdown_reply":
          return; // an engine acknowledging; it unregisters as it stops
        default:
          drop(this.dropped, this.#o.log, "registration", "unexpected", `msg_type ${msg.header.msg_type}`);
      }
    } catch (e) {
      if (e instanceof ClusterError && e.code === "EPROTO") {
        drop(this.dropped, this.#o.log, "registration", "malformed", e);
        this.#reply(sender, msg, msg.header.msg_type.replace(/_request$/, "_reply"), { status: "error", ename: "ClusterError", evalue: e.message, code: "EPROTO" });
      } else throw e;
    }
  }

  #reply(to: Buffer, parent: Message, msgType: string, content: Record<string, unknown>): void {
    if (this.#stopped) return;
    const { frames } = this.#o.session.build(msgType, content, { identities: [to], parent });
    this.#o.registration.send(frames).catch(() => {});
  }

  #publish(msgType: string, content: Record<string, unknown>): void {
    if (this.#stopped) return;
    const { frames } = this.#o.session.build(msgType, content);
    this.#o.notification.send(frames).catch(() => {});
  }

  #peerTable(): Array<{ id: number; uuid: string; peer_endpoint: string; curve_key?: string }> {
    return this.engines.map((e) => ({ id: e.id, uuid: e.uuid, peer_endpoint: e.peer_endpoint, ...(e.curve_key ? { curve_key: e.curve_key } : {}) }));
  }

  #onRegistration(sender: Buffer, msg: Message): void {
    const c = msg.content;
    if (typeof c.uuid !== "string" || c.uuid.length === 0 || typeof c.peer_endpoint !== "string") {
      throw new ClusterError("EPROTO", "registration_request needs uuid and peer_endpoint");
    }
    if (sender.toString() !== c.uuid) {
      throw new ClusterError("EPROTO", "registration_request: the sender's routing id is not its uuid");
    }
    if (this.#byUuid.has(c.uuid)) {
      this.#reply(sender, msg, "registration_reply", { status: "error", ename: "ClusterError", evalue: `uuid ${c.uuid} is already registered`, code: "EINVAL" });
      return;
    }
    const engine: EngineInfo = {
      id: this.#nextId++,
      uuid: c.uuid,
      peer_endpoint: c.peer_endpoint,
      ...(typeof c.curve_key === "string" ? { curve_key: c.curve_key } : {}),
      pid: typeof c.pid === "number" ? c.pid : null,
      hostname: typeof c.hostname === "string" ? c.hostname : null,
      registered: Date.now(),
    };
    this.#engines.set(engine.id, engine);
    this.#byUuid.set(engine.uuid, engine);
    this.#heart.add(engine.uuid);
    this.#reply(sender, msg, "registration_reply", {
      status: "ok",
      id: engine.id,
      peers: this.#peerTable(),
      heartbeat: { period: this.#o.heartbeat.period, max_missed: this.#o.heartbeat.maxMissed },
    });
    this.#publish("registration_notification", {
      id: engine.id, uuid: engine.uuid, peer_endpoint: engine.peer_endpoint, ...(engine.curve_key ? { curve_key: engine.curve_key } : {}),
    });
    this.#o.log(`engine ${engine.id} registered (${engine.uuid}${engine.pid !== null ? `, pid ${engine.pid}` : ""})`);
    this.#o.onEngineAdded?.(engine);
  }

  #onUnregistration(sender: Buffer, msg: Message): void {
    const engine = this.#byUuid.get(sender.toString());
    if (!engine || (msg.content.id !== undefined && msg.content.id !== engine.id)) {
      throw new ClusterError("EPROTO", "unregistration_request from an engine that is not registered under that id");
    }
    this.#reply(sender, msg, "unregistration_reply", { status: "ok", id: engine.id });
    this.#unregister(engine, "unregistered");
  }

  /** Removes an engine: everyone is told; its direct tasks in flight fail. */
  #unregister(engine: EngineInfo, reason: string): void {
    if (!this.#engines.has(engine.id)) return;
    this.#engines.delete(engine.id);
    this.#byUuid.delete(engine.uuid);
    this.#heart.remove(engine.uuid);
    this.#publish("unregistration_notification", { id: engine.id, uuid: engine.uuid, reason });
    this.#o.log(`engine ${engine.id} left: ${reason}`);
    const now = new Date().toISOString();
    for (const r of this.#tasks.values()) {
      if (r.queue === "direct" && r.engine_id === engine.id && (r.state === "running" || r.state === "submitted")) {
        r.state = "failed";
        r.received = now;
        r.error = { ename: "ClusterError", evalue: `engine ${engine.id} left the cluster: ${reason}`, code: "EENGINEDIED" };
      }
    }
    this.#o.onEngineRemoved?.(engine, reason);
  }

  #onQueueRequest(sender: Buffer, msg: Message): void {
    const out: Record<string, { queue: number; tasks: number; completed: number }> = {};
    for (const e of this.#engines.values()) out[e.id] = { queue: 0, tasks: 0, completed: 0 };
    for (const r of this.#tasks.values()) {
      const q = r.engine_id === null ? undefined : out[r.engine_id];
      if (!q) continue;
      if (r.state === "running") q[r.queue === "direct" ? "queue" : "tasks"]++;
      else if (r.state === "completed" || r.state === "failed") q.completed++;
    }
    let unassigned = 0;
    for (const r of this.#tasks.values()) if (r.state === "submitted") unassigned++;
    this.#reply(sender, msg, "queue_reply", { status: "ok", engines: out, unassigned });
  }

  #onResultRequest(sender: Buffer, msg: Message): void {
    const ids = msg.content.msg_ids;
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")) {
      throw new ClusterError("EPROTO", "result_request needs msg_ids: string[]");
    }
    const records: Record<string, TaskRecord> = {};
    const unknown: string[] = [];
    for (const id of ids as string[]) {
      const r = this.#tasks.get(id);
      if (r) records[id] = r;
      else unknown.push(id);
    }
    this.#reply(sender, msg, "result_reply", { status: "ok", records, unknown });
  }

  #onShutdownRequest(sender: Buffer, msg: Message): void {
    const targets = msg.content.targets;
    let engines = this.engines;
    if (targets !== undefined && targets !== "all") {
      if (!Array.isArray(targets) || !targets.every((t) => Number.isInteger(t))) throw new ClusterError("EPROTO", "shutdown_request: targets must be engine ids or \"all\"");
      engines = engines.filter((e) => (targets as number[]).includes(e.id));
    }
    for (const e of engines) {
      const { frames } = this.#o.session.build("shutdown_request", {}, { identities: [e.uuid], parent: msg });
      this.#o.registration.send(frames).catch(() => {});
    }
    this.#reply(sender, msg, "shutdown_reply", { status: "ok", engines: engines.map((e) => e.id), hub: msg.content.hub === true });
    if (msg.content.hub === true) this.#o.onShutdown?.();
  }

  // ---- copies from the direct queue, records from the task scheduler ----------------------

  /**
   * A copy from the direct queue (MonitoredQueue): [prefix, ...message as sent on].
   * Prefixes: "in" (client → engine: ids [engine, client]), "out" (engine → client:
   * [client, engine]). Its signature is checked like any message's; only the parts the
   * record needs are parsed (a reply's content only when it failed).
   */
  #onCopy(frames: Buffer[]): void {
    const prefix = frames[0]?.toString() ?? "";
    const message = frames.slice(1);
    try {
      const at = this.#o.session.verify(message);
      switch (prefix) {
        case "in": {
          const header = this.#o.session.part(message, at, 0);
          const content = this.#o.session.part(message, at, 3);
          this.recordRequest("direct", header as MessageHeader, content, at >= 2 ? message[1]!.toString() : "", at >= 1 ? message[0]!.toString() : "");
          return;
        }
        case "out":
          this.recordReply(message, at, at >= 2 ? message[1]!.toString() : undefined);
          return;
        default:
          drop(this.dropped, this.#o.log, "monitor", "unexpected", `prefix ${JSON.stringify(prefix)}`);
      }
    } catch (e) {
      drop(this.dropped, this.#o.log, `monitor (${prefix})`, "invalid", e);
    }
  }

  /**
   * A request seen: by the direct queue (with its engine), or by the task scheduler on
   * arrival (no engine yet: recordDispatch follows). The scheduler has verified and
   * parsed the message already, so it calls this directly (same process).
   */
  recordRequest(queue: "direct" | "task", header: MessageHeader, content: Record<string, unknown>, client: string, engineUuid?: string): void {
    let r = this.#tasks.get(header.msg_id);
    if (!r) {
      r = {
        msg_id: header.msg_id,
        queue,
        msg_type: header.msg_type,
        state: "submitted",
        fn: describeFn(content.fn ?? content.code),
        client,
        engine_id: null,
        submitted: typeof header.date === "string" ? header.date : new Date().toISOString(),
        started: null,
        completed: null,
        received: null,
        error: null,
        resubmitted: 0,
      };
      this.#tasks.set(r.msg_id, r);
      this.#trim();
    }
    if (engineUuid !== undefined) this.recordDispatch(r.msg_id, engineUuid);
  }

  /** The request went to an engine (the scheduler's dispatch, or the direct queue's forwarding). */
  recordDispatch(msgId: string, engineUuid: string): void {
    const r = this.#tasks.get(msgId);
    if (!r) return;
    if (r.engine_id !== null && r.state === "running") r.resubmitted++;
    if (r.state === "submitted" || r.state === "running") {
      r.state = "running";
      r.engine_id = this.#byUuid.get(engineUuid)?.id ?? null;
    }
  }

  /**
   * A reply, already verified (`at`: its delimiter): from the direct queue's copies, or
   * handed over by the task scheduler. Reads parent_header and metadata; the content only
   * for a reply whose metadata does not say it succeeded.
   */
  recordReply(frames: ReadonlyArray<Buffer>, at: number, engineUuid: string | undefined): void {
    try {
      this.#recordReply(frames, at, engineUuid);
    } catch (e) {
      drop(this.dropped, this.#o.log, "monitor", "invalid", e);
    }
  }

  #recordReply(frames: ReadonlyArray<Buffer>, at: number, engineUuid: string | undefined): void {
    const session = this.#o.session;
    const parent = session.part(frames, at, 1).msg_id;
    if (typeof parent !== "string") {
      drop(this.dropped, this.#o.log, "monitor", "malformed", "a reply without parent_header.msg_id");
      return;
    }
    const r = this.#tasks.get(parent);
    if (!r) return; // trimmed, or a reply to something the hub never saw
    const md = session.part(frames, at, 2);
    const engine = engineUuid === undefined ? undefined : this.#byUuid.get(engineUuid);
    if (typeof md.engine_id === "number") r.engine_id = md.engine_id;
    else if (engine) r.engine_id = engine.id;
    r.started = typeof md.started === "string" ? md.started : r.started;
    r.completed = typeof md.completed === "string" ? md.completed : r.completed;
    r.received = new Date().toISOString();
    const c = md.status === "ok" ? { status: "ok" } : session.part(frames, at, 3);
    if (c.status === "ok") {
      r.state = "completed";
      r.error = null;
    } else {
      r.state = "failed";
      r.error = {
        ename: typeof c.ename === "string" ? c.ename : "Error",
        evalue: typeof c.evalue === "string" ? c.evalue : "",
        ...(typeof c.code === "string" ? { code: c.code } : {}),
      };
    }
  }

  #trim(): void {
    if (this.#tasks.size <= this.#maxRecords) return;
    for (const [id, r] of this.#tasks) {
      if (this.#tasks.size <= this.#maxRecords) break;
      if (r.state === "completed" || r.state === "failed") this.#tasks.delete(id);
    }
  }
}
