/**
 * A client of a cluster: it finds the engines, sends them work, and receives results
 * and output.
 *
 *   const client = await Client.connect("cluster.json");
 *   await client.waitForEngines(4, { timeout: 10_000 });
 *   const all = client.view();                       // DirectView on every engine
 *   await all.push({ n: 1000 });
 *   const sums = await all.apply("./tasks.js#partialSum", 0.5);
 *   const lb = client.loadBalancedView();
 *   const squares = await lb.map("./tasks.js#square", [1, 2, 3], { chunkSize: 2 });
 *   client.on("stream", (s) => process.stdout.write(`[engine ${s.engineId}] ${s.text}`));
 *   await client.close();
 *
 * Sockets: a DEALER to the hub (queries), a DEALER to the direct queue (mux) and one to
 * the task scheduler, a SUB on iopub (engines' output) and one on notifications (engines
 * joining and leaving). A request waiting on an engine that leaves fails with
 * EENGINEDIED naming it. Messages with a bad signature or a malformed body are dropped,
 * counted in `dropped` and logged.
 */
import { EventEmitter } from "node:events";
import { Dealer, Subscriber, curveKeyPair, type Context, type Socket } from "../index.js";
import { AsyncResult, type TaskMetadata } from "./async-result.js";
import { decodeValue, encodeValue } from "./codec.js";
import { curveClientOptions, resolveConnection, type ConnectionInfo, type ConnectionSource } from "./connection.js";
import { ClusterError, type ClusterErrorCode } from "./errors.js";
import { HubChannel } from "./hub-channel.js";
import type { TaskRecord } from "./hub.js";
import { drop, newDropCounts, receiveLoop, stderrLogger, type DropCounts, type Logger } from "./log.js";
import { isoNow, Session, type JsonObject, type Message } from "./session.js";
import { DirectView, LoadBalancedView, type LoadBalancedOptions } from "./views.js";

export interface ClientOptions {
  /** How long connect() waits for the hub's answer (default 10000 ms). */
  timeout?: number;
  /** The context of every socket (an inproc cluster's). */
  context?: Context;
  /** Where notes go (dropped messages); false for nowhere. Default stderr. */
  log?: Logger | false;
}

/** An engine as the client knows it. */
export interface EngineEntry {
  id: number;
  uuid: string;
  peer_endpoint: string;
  /** Its peer endpoint's CURVE public key, in a CURVE cluster. */
  curve_key?: string;
}

/** Output an engine printed while running one of this or another client's requests (iopub "stream"). */
export interface StreamEvent {
  engineId: number;
  name: "stdout" | "stderr";
  text: string;
  /** The request that printed it. */
  msgId: string | null;
}

/** A value a task published with `publish()` (iopub "data_pub"). */
export interface DataEvent {
  engineId: number;
  data: unknown;
  msgId: string | null;
}

export interface ClientEvents {
  stream: [StreamEvent];
  data: [DataEvent];
  registration: [EngineEntry];
  unregistration: [EngineEntry & { reason: string }];
}

/** One request waiting for its reply. */
interface Pending {
  result: AsyncResult<unknown>;
  index: number;
  meta: TaskMetadata;
  /** The engine addressed (direct requests); load-balanced ones are the scheduler's to fail. */
  engineId: number | null;
}

const CLUSTER_CODES: ReadonlySet<string> = new Set(["EPROTO", "EENGINEDIED", "ETASK", "ETIMEDOUT", "ECLOSED", "EINVAL", "EABORTED"]);

/** A send to make: one request of a call. */
export interface Submission {
  msgType: "apply_request" | "execute_request";
  content: JsonObject;
  buffers: Buffer[];
  metadata: JsonObject;
  /** A direct request's engine; null for the load-balanced queue. */
  engineId: number | null;
}

export class Client extends EventEmitter<ClientEvents> {
  readonly connectionInfo: ConnectionInfo;
  readonly session: Session;
  /** This client's routing id on the controller's ROUTERs (the hub's task records name it). */
  get routingId(): string {
    return `client-${this.session.session}`;
  }
  /** Messages this client refused. */
  readonly dropped: DropCounts;
  readonly #hub: HubChannel;
  readonly #mux: Dealer;
  readonly #task: Dealer;
  readonly #iopub: Subscriber;
  readonly #notification: Subscriber;
  readonly #sockets: Socket[];
  readonly #log: Logger;
  readonly #engines = new Map<number, EngineEntry>();
  readonly #pending = new Map<string, Pending>();
  #engineWaiters: Array<() => void> = [];
  #closed = false;

  private constructor(parts: {
    info: ConnectionInfo; session: Session; hub: HubChannel; mux: Dealer; task: Dealer; iopub: Subscriber;
    notification: Subscriber; sockets: Socket[]; log: Logger; dropped: DropCounts;
  }) {
    super();
    this.connectionInfo = parts.info;
    this.session = parts.session;
    this.#hub = parts.hub;
    this.#mux = parts.mux;
    this.#task = parts.task;
    this.#iopub = parts.iopub;
    this.#notification = parts.notification;
    this.#sockets = parts.sockets;
    this.#log = parts.log;
    this.dropped = parts.dropped;
  }

  /**
   * Connects to the cluster of a connection file (path) or its contents, and learns its
   * engines. Rejects with ETIMEDOUT when the hub does not answer within `timeout`.
   */
  static async connect(source: ConnectionSource, options: ClientOptions = {}): Promise<Client> {
    const info = resolveConnection(source);
    const timeout = options.timeout ?? 10_000;
    const log: Logger = options.log === false ? () => {} : options.log ?? stderrLogger("client");
    const session = new Session({ key: info.key, username: "client" });
    // A CURVE cluster: a key pair of this client's own for the controller's sockets.
    const ctx = {
      ...(options.context ? { context: options.context } : {}),
      ...curveClientOptions(info.curve?.server_key, info.curve ? curveKeyPair() : null),
    };
    const id = `client-${session.session}`;
    const sockets: Socket[] = [];
    const make = <S extends Socket>(s: S): S => {
      sockets.push(s);
      return s;
    };
    const dropped = newDropCounts();
    const registration = make(new Dealer({ ...ctx, routingId: id, linger: 0 }));
    const mux = make(new Dealer({ ...ctx, routingId: id, linger: 0 }));
    const task = make(new Dealer({ ...ctx, routingId: id, linger: 0 }));
    const iopub = make(new Subscriber({ ...ctx, linger: 0 }));
    const notification = make(new Subscriber({ ...ctx, linger: 0 }));
    iopub.subscribe();
    notification.subscribe();
    const e = info.endpoints;
    registration.connect(e.registration);
    mux.connect(e.mux_client);
    task.connect(e.task_client);
    iopub.connect(e.iopub_client);
    notification.connect(e.notification);
    const hub = new HubChannel(registration, session, log, dropped);
    const client = new Client({ info, session, hub, mux, task, iopub, notification, sockets, log, dropped });
    client.#begin();
    try {
      await client.refreshEngines(timeout);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  #begin(): void {
    this.#hub.onOther = (msg) => drop(this.dropped, this.#log, "registration", "unexpected", `msg_type ${msg.header.msg_type}`);
    void receiveLoop(this.#mux, (f) => this.#onReply("mux", f), this.#log, "mux");
    void receiveLoop(this.#task, (f) => this.#onReply("task", f), this.#log, "task");
    void receiveLoop(this.#iopub, (f) => this.#onIopub(f), this.#log, "iopub");
    void receiveLoop(this.#notification, (f) => this.#onNotification(f), this.#log, "notification");
  }

  // ---- engines ----------------------------------------------------------------------

  /** The registered engines' ids, ascending. */
  get ids(): number[] {
    return [...this.#engines.keys()].sort((a, b) => a - b);
  }

  /** The registered engines. */
  get engines(): EngineEntry[] {
    return this.ids.map((id) => ({ ...this.#engines.get(id)! }));
  }

  /** Asks the hub for the table of engines (connection_request) and replaces ours with it. */
  async refreshEngines(timeout = 5000): Promise<number[]> {
    const reply = await this.#hub.request("connection_request", {}, timeout);
    const list = reply.content.engines;
    if (!Array.isArray(list)) throw new ClusterError("EPROTO", "connection_reply without engines");
    const seen = new Set<number>();
    for (const e of list as EngineEntry[]) {
      if (!Number.isInteger(e?.id) || typeof e.uuid !== "string") continue;
      seen.add(e.id);
      if (!this.#engines.has(e.id)) {
        this.#addEngine({ id: e.id, uuid: e.uuid, peer_endpoint: String(e.peer_endpoint), ...(typeof e.curve_key === "string" ? { curve_key: e.curve_key } : {}) });
      }
    }
    for (const id of [...this.#engines.keys()]) if (!seen.has(id)) this.#removeEngine(id, "not registered any more");
    return this.ids;
  }

  /** Resolves once at least `n` engines are registered; ETIMEDOUT after `timeout` ms (default 30000). */
  async waitForEngines(n: number, options: { timeout?: number } = {}): Promise<number[]> {
    const timeout = options.timeout ?? 30_000;
    const deadline = Date.now() + timeout;
    while (this.#engines.size < n) {
      this.#checkOpen();
      const left = deadline - Date.now();
      if (left <= 0) throw new ClusterError("ETIMEDOUT", `${this.#engines.size} of ${n} engines registered after ${timeout} ms`);
      // A notification wakes us; a periodic refresh covers one that was missed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#engineWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (this.#engines.size < n && !this.#closed) await this.refreshEngines(Math.max(1, Math.min(deadline - Date.now(), 2000))).catch(() => {});
    }
    return this.ids;
  }

  #addEngine(e: EngineEntry): void {
    this.#engines.set(e.id, e);
    this.emit("registration", { ...e });
    const w = this.#engineWaiters;
    this.#engineWaiters = [];
    for (const f of w) f();
  }

  #removeEngine(id: number, reason: string): void {
    const e = this.#engines.get(id);
    if (!e) return;
    this.#engines.delete(id);
    for (const [msgId, p] of this.#pending) {
      if (p.engineId !== id) continue;
      this.#pending.delete(msgId);
      p.meta.status = "error";
      p.result._rejectPart(p.index, new ClusterError("EENGINEDIED", `engine ${id} left the cluster (${reason}) before answering request ${msgId}`, { engineId: id }));
    }
    this.emit("unregistration", { ...e, reason });
  }

  // ---- views ------------------------------------------------------------------------

  /** A DirectView on one engine: its results are single values. */
  view(target: number): DirectView<false>;
  /** A DirectView on several engines (default every engine registered when a call is made): results are lists, one per engine. */
  view(targets?: readonly number[] | "all"): DirectView<true>;
  view(targets: number | readonly number[] | "all" = "all"): DirectView<boolean> {
    return new DirectView(this, targets as number);
  }

  /** A DirectView (as view()). */
  directView(targets: readonly number[] | "all" = "all"): DirectView<true> {
    return new DirectView(this, targets);
  }

  /** A view of the load-balanced task queue: the scheduler picks the engine of each request. */
  loadBalancedView(options: LoadBalancedOptions = {}): LoadBalancedView {
    return new LoadBalancedView(this, options);
  }

  // ---- hub queries -------------------------------------------------------------------

  /** Per engine: direct requests queued or running, tasks outstanding, requests completed; plus tasks waiting for an engine. */
  async queueStatus(timeout = 5000): Promise<{ engines: Record<number, { queue: number; tasks: number; completed: number }>; unassigned: number }> {
    const reply = await this.#hub.request("queue_request", {}, timeout);
    return { engines: reply.content.engines as Record<number, { queue: number; tasks: number; completed: number }>, unassigned: Number(reply.content.unassigned ?? 0) };
  }

  /** The hub's records of these requests (state, engine, timings), and the ids it does not know. */
  async taskRecords(msgIds: readonly string[], timeout = 5000): Promise<{ records: Record<string, TaskRecord>; unknown: string[] }> {
    const reply = await this.#hub.request("result_request", { msg_ids: [...msgIds] }, timeout);
    if (reply.content.status !== "ok") throw new ClusterError("EPROTO", String(reply.content.evalue ?? "result_request failed"));
    return { records: reply.content.records as Record<string, TaskRecord>, unknown: reply.content.unknown as string[] };
  }

  /**
   * Asks the hub to shut engines down (default all); with `hub: true` the controller
   * stops too. Resolves with the ids of the engines told.
   */
  async shutdown(options: { targets?: readonly number[] | "all"; hub?: boolean; timeout?: number } = {}): Promise<number[]> {
    const reply = await this.#hub.request("shutdown_request", {
      targets: options.targets === undefined || options.targets === "all" ? "all" : [...options.targets],
      hub: options.hub === true,
    }, options.timeout ?? 5000);
    return (reply.content.engines as number[]) ?? [];
  }

  // ---- sending ----------------------------------------------------------------------

  /**
   * @internal Sends the requests of one call and returns its AsyncResult. Used by the
   * views; `combine` makes the call's value from the requests' values.
   */
  _submit<T>(subs: Submission[], combine: (values: unknown[], order: number[]) => T, options: { ordered?: boolean; flatten?: boolean } = {}): AsyncResult<T> {
    this.#checkOpen();
    const headers = subs.map((s) => this.session.header(s.msgType));
    const metadata: TaskMetadata[] = headers.map((h, i) => ({
      msgId: h.msg_id, engineId: subs[i]!.engineId, engineUuid: null, status: "pending", submitted: h.date,
      started: null, completed: null, received: null, stdout: "", stderr: "",
    }));
    const result = new AsyncResult<T>(headers.map((h) => h.msg_id), metadata, combine, options);
    subs.forEach((s, index) => {
      const header = headers[index]!;
      const meta = metadata[index]!;
      const pending: Pending = { result: result as AsyncResult<unknown>, index, meta, engineId: s.engineId };
      let identities: string[] = [];
      if (s.engineId !== null) {
        const engine = this.#engines.get(s.engineId);
        if (!engine) {
          meta.status = "error";
          result._rejectPart(index, new ClusterError("EENGINEDIED", `engine ${s.engineId} is not registered`, { engineId: s.engineId }));
          return;
        }
        meta.engineUuid = engine.uuid;
        identities = [engine.uuid];
      }
      this.#pending.set(header.msg_id, pending);
      const { frames } = this.session.build(s.msgType, s.content, { identities, metadata: s.metadata, buffers: s.buffers, header });
      (s.engineId !== null ? this.#mux : this.#task).send(frames).catch((e: Error) => {
        if (!this.#pending.delete(header.msg_id)) return;
        meta.status = "error";
        result._rejectPart(index, this.#closed ? new ClusterError("ECLOSED", "the client was closed") : e);
      });
    });
    return result;
  }

  /** @internal Encodes arguments for a request. */
  _encode(values: readonly unknown[]): { json: unknown[]; buffers: Buffer[] } {
    const buffers: Buffer[] = [];
    return { json: values.map((v) => encodeValue(v, buffers)), buffers };
  }

  /** @internal The engines a view's targets name now. */
  _resolveTargets(targets: number | readonly number[] | "all"): number[] {
    if (targets === "all") return this.ids;
    const list = typeof targets === "number" ? [targets] : [...targets];
    for (const t of list) {
      if (!this.#engines.has(t)) throw new ClusterError("EINVAL", `engine ${t} is not registered (engines: ${this.ids.join(", ") || "none"})`);
    }
    return list;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClusterError("ECLOSED", "the client is closed");
  }

  // ---- receiving --------------------------------------------------------------------

  #onReply(where: string, frames: Buffer[]): void {
    if (this.#closed) return;
    let msg: Message;
    try {
      msg = this.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#log, where, "invalid", e);
      return;
    }
    const parent = msg.parent_header.msg_id;
    const p = typeof parent === "string" ? this.#pending.get(parent) : undefined;
    if (!p) {
      drop(this.dropped, this.#log, where, "unexpected", `a ${msg.header.msg_type} answering no request of ours (${String(parent)})`);
      return;
    }
    this.#pending.delete(parent as string);
    const md = msg.metadata;
    const c = msg.content;
    const meta = p.meta;
    meta.received = isoNow();
    if (Number.isInteger(md.engine_id)) meta.engineId = md.engine_id as number;
    if (typeof md.engine_uuid === "string") meta.engineUuid = md.engine_uuid;
    if (typeof md.started === "string") meta.started = md.started;
    if (typeof md.completed === "string") meta.completed = md.completed;
    if (typeof md.stdout === "string") meta.stdout = md.stdout;
    if (typeof md.stderr === "string") meta.stderr = md.stderr;
    if (c.status === "ok") {
      let value: unknown;
      try {
        value = c.result === undefined ? undefined : decodeValue(c.result, msg.buffers);
      } catch (e) {
        drop(this.dropped, this.#log, where, "malformed", e);
        meta.status = "error";
        p.result._rejectPart(p.index, e as Error);
        return;
      }
      meta.status = "ok";
      p.result._resolvePart(p.index, value);
      return;
    }
    meta.status = "error";
    p.result._rejectPart(p.index, remoteError(c, meta.engineId));
  }

  #onIopub(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#log, "iopub", "invalid", e);
      return;
    }
    const engineId = Number.isInteger(msg.metadata.engine_id) ? (msg.metadata.engine_id as number) : -1;
    const msgId = typeof msg.parent_header.msg_id === "string" ? msg.parent_header.msg_id : null;
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "stream":
        if ((c.name === "stdout" || c.name === "stderr") && typeof c.text === "string") {
          this.emit("stream", { engineId, name: c.name, text: c.text, msgId });
        } else drop(this.dropped, this.#log, "iopub", "malformed", "stream without name / text");
        return;
      case "data_pub": {
        let data: unknown;
        try {
          data = decodeValue(c.data, msg.buffers);
        } catch (e) {
          drop(this.dropped, this.#log, "iopub", "malformed", e);
          return;
        }
        this.emit("data", { engineId, data, msgId });
        return;
      }
      default:
        drop(this.dropped, this.#log, "iopub", "unexpected", `msg_type ${msg.header.msg_type}`);
    }
  }

  #onNotification(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#log, "notification", "invalid", e);
      return;
    }
    const c = msg.content;
    if (!Number.isInteger(c.id)) {
      drop(this.dropped, this.#log, "notification", "malformed", `${msg.header.msg_type} without id`);
      return;
    }
    switch (msg.header.msg_type) {
      case "registration_notification":
        if (typeof c.uuid === "string") {
          this.#addEngine({
            id: c.id as number, uuid: c.uuid, peer_endpoint: String(c.peer_endpoint), ...(typeof c.curve_key === "string" ? { curve_key: c.curve_key } : {}),
          });
        }
        return;
      case "unregistration_notification":
        this.#removeEngine(c.id as number, typeof c.reason === "string" ? c.reason : "unregistered");
        return;
      default:
        drop(this.dropped, this.#log, "notification", "unexpected", `msg_type ${msg.header.msg_type}`);
    }
  }

  // ---- closing ----------------------------------------------------------------------

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /**
   * Closes the client: requests still waiting fail with ECLOSED (the engines finish
   * them; their replies are dropped by the controller). The cluster is unaffected.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.close();
    for (const [, p] of this.#pending) {
      p.meta.status = "error";
      p.result._rejectPart(p.index, new ClusterError("ECLOSED", "the client was closed before the reply came"));
    }
    this.#pending.clear();
    for (const f of this.#engineWaiters) f();
    this.#engineWaiters = [];
    for (const s of this.#sockets) s.close();
  }
}

/** The ClusterError for an error reply. */
export function remoteError(c: JsonObject, engineId: number | null): ClusterError {
  const ename = typeof c.ename === "string" ? c.ename : "Error";
  const evalue = typeof c.evalue === "string" ? c.evalue : "";
  const traceback = Array.isArray(c.traceback) ? c.traceback.map(String) : [];
  const id = Number.isInteger(c.engine_id) ? (c.engine_id as number) : engineId ?? undefined;
  const fields = { ename, evalue, traceback, ...(id !== undefined ? { engineId: id } : {}) };
  if (ename === "ClusterError" && typeof c.code === "string" && CLUSTER_CODES.has(c.code)) {
    return new ClusterError(c.code as ClusterErrorCode, id !== undefined && c.code !== "EENGINEDIED" ? `engine ${id}: ${evalue}` : evalue, fields);
  }
  return new ClusterError("ETASK", `${id !== undefined ? `engine ${id}: ` : ""}${ename}: ${evalue}`, fields);
}
