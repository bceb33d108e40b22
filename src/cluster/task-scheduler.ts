/**
 * The load-balanced task queue: ROUTER task_client ⇄ scheduler ⇄ ROUTER task_engine.
 * Unlike a DEALER's round robin, the scheduler chooses the engine (a Scheme: lru,
 * leastload, random, twobin), caps the tasks outstanding on each (the high-water mark),
 * and knows what each engine holds — so when an engine dies its tasks are resubmitted
 * elsewhere (when the task's metadata asked for `retries`) or fail with an apply_reply
 * error naming the engine (code EENGINEDIED).
 *
 * Routing: a client's [client, <IDS|MSG>, ...] goes to the engine as
 * [engine, client, <IDS|MSG>, ...]; the engine's reply [engine, client, ...] goes back
 * as [client, engine, ...] (the client sees which engine answered, as through the mux).
 * A reply to a client that has gone is dropped by the ROUTER. The hub (same process) is
 * told directly — recordRequest on arrival, recordDispatch when given to an engine,
 * recordReply for the reply — with what the scheduler has verified and parsed already,
 * instead of being sent copies it would verify and parse again.
 */
import type { Router } from "../index.js";
import { drop, newDropCounts, receiveLoop, type DropCounts, type Logger } from "./log.js";
import type { Message, MessageHeader, Session } from "./session.js";
import type { Scheme } from "./schemes.js";

export interface TaskSchedulerOptions {
  session: Session;
  /** Bound ROUTER the clients' DEALERs connect to. */
  clients: Router;
  /** Bound ROUTER the engines' DEALERs (routingId = uuid) connect to; made `mandatory` here. */
  engines: Router;
  /** The hub's task records. */
  records: TaskRecords;
  scheme: Scheme;
  /** Most tasks outstanding on one engine; 0 = no limit (default 1, as IPython). */
  highWaterMark: number;
  log: Logger;
}

/** What the scheduler tells the hub (Hub implements it). */
export interface TaskRecords {
  recordRequest(queue: "task", header: MessageHeader, content: Record<string, unknown>, client: string): void;
  recordDispatch(msgId: string, engineUuid: string): void;
  /** A verified reply (`at`: its delimiter), [client, engine, <IDS|MSG>, ...]. */
  recordReply(frames: ReadonlyArray<Buffer>, at: number, engineUuid: string | undefined): void;
}

interface Task {
  msgId: string;
  header: MessageHeader;
  client: Buffer;
  /** The message from the delimiter on, as the client sent it. */
  body: Buffer[];
  retries: number;
  /** Engines allowed to run it (metadata.targets), or every engine. */
  targets: readonly number[] | null;
  /** Engines it must not go back to (they died running it). */
  avoid: Set<number>;
}

interface EngineSlot {
  id: number;
  uuid: string;
  uuidFrame: Buffer;
  outstanding: Map<string, Task>;
}

const RETRY_UNROUTABLE_MS = 20;

export class TaskScheduler {
  readonly #o: TaskSchedulerOptions;
  /** Engines in least-recently-used order: the head got a task longest ago. */
  #line: EngineSlot[] = [];
  readonly #byUuid = new Map<string, EngineSlot>();
  #queue: Task[] = [];
  /** How many queued tasks are restricted (targets, or engines to avoid): only they can pass a blocked free task. */
  #restricted = 0;
  #dispatching = false;
  #again = false;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | null = null;
  readonly dropped: DropCounts = newDropCounts();

  constructor(options: TaskSchedulerOptions) {
    this.#o = options;
    options.engines.mandatory = true;
  }

  start(): void {
    void receiveLoop(this.#o.clients, (f) => this.#onClient(f), this.#o.log, "task_client");
    void receiveLoop(this.#o.engines, (f) => this.#onEngine(f), this.#o.log, "task_engine");
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }

  /** Tasks waiting for an engine. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Tasks outstanding per engine id. */
  get loads(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const e of this.#line) out[e.id] = e.outstanding.size;
    return out;
  }

  addEngine(id: number, uuid: string): void {
    if (this.#byUuid.has(uuid)) return;
    const slot: EngineSlot = { id, uuid, uuidFrame: Buffer.from(uuid), outstanding: new Map() };
    this.#line.push(slot);
    this.#byUuid.set(uuid, slot);
    this.#dispatch();
  }

  /** The engine left: its tasks are resubmitted (retries left) or fail naming it. */
  removeEngine(id: number, uuid: string, reason: string): void {
    const slot = this.#byUuid.get(uuid);
    if (!slot) return;
    this.#byUuid.delete(uuid);
    this.#line = this.#line.filter((s) => s !== slot);
    const again: Task[] = [];
    for (const task of slot.outstanding.values()) {
      if (task.retries > 0) {
        task.retries--;
        task.avoid.add(id);
        again.push(task);
        this.#o.log(`task ${task.msgId} resubmitted: engine ${id} ${reason}`);
      } else {
        this.#failTask(task, slot, reason);
      }
    }
    slot.outstanding.clear();
    for (let i = again.length - 1; i >= 0; i--) this.#enqueue(again[i]!, true);
    this.#dispatch();
  }

  #failTask(task: Task, slot: EngineSlot, reason: string): void {
    const now = new Date().toISOString();
    const evalue = `engine ${slot.id} died while running task ${task.msgId}: ${reason}`;
    const { frames } = this.#o.session.build("apply_reply", {
      status: "error", ename: "ClusterError", evalue, traceback: [], engine_id: slot.id, code: "EENGINEDIED",
    }, {
      identities: [task.client, slot.uuidFrame],
      parent: task.header,
      metadata: { engine_id: slot.id, engine_uuid: slot.uuid, status: "error", started: null, completed: now },
    });
    this.#o.clients.send(frames).catch(() => {});
    this.#o.records.recordReply(frames, 2, slot.uuid);
  }

  static #isRestricted(task: Task): boolean {
    return task.targets !== null || task.avoid.size > 0;
  }

  #enqueue(task: Task, front = false): void {
    if (front) this.#queue.unshift(task);
    else this.#queue.push(task);
    if (TaskScheduler.#isRestricted(task)) this.#restricted++;
  }

  #dequeue(i: number): void {
    const [task] = this.#queue.splice(i, 1);
    if (task && TaskScheduler.#isRestricted(task)) this.#restricted--;
  }

  #onClient(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#o.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#o.log, "task_client", "invalid", e);
      return;
    }
    if (msg.identities.length !== 1) {
      drop(this.dropped, this.#o.log, "task_client", "malformed", "expected exactly one routing id");
      return;
    }
    const type = msg.header.msg_type;
    if (type !== "apply_request" && type !== "execute_request") {
      drop(this.dropped, this.#o.log, "task_client", "unexpected", `msg_type ${type}`);
      return;
    }
    const md = msg.metadata;
    const retries = Number.isInteger(md.retries) && (md.retries as number) > 0 ? (md.retries as number) : 0;
    const targets = Array.isArray(md.targets) && md.targets.every((t) => Number.isInteger(t)) ? (md.targets as number[]) : null;
    const client = frames[0]!;
    const task: Task = {
      msgId: msg.header.msg_id, header: msg.header, client, body: frames.slice(1), retries, targets, avoid: new Set(),
    };
    this.#o.records.recordRequest("task", msg.header, msg.content, client.toString());
    this.#enqueue(task);
    this.#dispatch();
  }

  #onEngine(frames: Buffer[]): void {
    const uuid = frames[0]?.toString() ?? "";
    const slot = this.#byUuid.get(uuid);
    // Only parent_header is read here (and metadata, content by the hub if it needs
    // them): a result is passed on to the client as it came, never parsed here.
    let at: number;
    let parent: unknown;
    try {
      at = this.#o.session.verify(frames);
      parent = this.#o.session.part(frames, at, 1).msg_id;
    } catch (e) {
      drop(this.dropped, this.#o.log, "task_engine", "invalid", e);
      return;
    }
    if (!slot) {
      // An engine that is not (or no longer) registered: its tasks were failed or resubmitted already.
      drop(this.dropped, this.#o.log, "task_engine", "unexpected", "a reply from an engine that is not registered");
      return;
    }
    const task = typeof parent === "string" ? slot.outstanding.get(parent) : undefined;
    if (!task || at !== 2) {
      drop(this.dropped, this.#o.log, "task_engine", "unexpected", `a reply to no task outstanding on engine ${slot.id}`);
      return;
    }
    slot.outstanding.delete(task.msgId);
    // The engine is free: its next task leaves first (the dispatch loop sends before its
    // first await), so the engine works while the reply goes on to its client.
    this.#dispatch();
    // [engine, client, ...] → [client, engine, ...]
    const out = frames.slice();
    out[0] = frames[1]!;
    out[1] = frames[0]!;
    this.#o.clients.send(out).catch(() => {});
    this.#o.records.recordReply(out, at, uuid);
  }

  #candidates(task: Task): EngineSlot[] {
    const hwm = this.#o.highWaterMark;
    return this.#line.filter((s) =>
      (hwm <= 0 || s.outstanding.size < hwm)
      && !task.avoid.has(s.id)
      && (task.targets === null || task.targets.includes(s.id)));
  }

  /** Gives queued tasks to engines, in order, one send at a time. */
  #dispatch(): void {
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    this.#dispatchLoop().catch((e: Error) => this.#o.log(`dispatching stopped: ${e.message}`));
  }

  async #dispatchLoop(): Promise<void> {
    // The flag is cleared in the same synchronous step as the last look at #again (no
    // await between): a #dispatch() in between would find the loop "running" and be lost.
    try {
      do {
        this.#again = false;
        // A task free to go anywhere that finds no engine means no free task will: only
        // tasks restricted to some engines are looked at past it.
        let freeBlocked = false;
        for (let i = 0; i < this.#queue.length && !this.#stopped;) {
          const task = this.#queue[i]!;
          const free = task.targets === null && task.avoid.size === 0;
          if (free && freeBlocked) {
            if (this.#restricted === 0) break; // nothing further down can go either
            i++;
            continue;
          }
          const candidates = this.#candidates(task);
          if (candidates.length === 0) {
            if (free) freeBlocked = true;
            i++;
            continue;
          }
          const slot = candidates[this.#o.scheme(candidates.map((s) => s.outstanding.size))] ?? candidates[0]!;
          const frames = [slot.uuidFrame, task.client, ...task.body];
          // The task is the engine's before the send: over inproc its reply can come back
          // before the send's promise settles, and must find it outstanding.
          this.#dequeue(i);
          slot.outstanding.set(task.msgId, task);
          const at = this.#line.indexOf(slot);
          if (at >= 0) this.#line.splice(at, 1);
          this.#line.push(slot);
          try {
            await this.#o.engines.send(frames);
          } catch (e) {
            // Still ours (the engine did not leave meanwhile, which would have dealt with it): back in front.
            if (slot.outstanding.delete(task.msgId)) this.#enqueue(task, true);
            if ((e as { code?: string }).code === "EHOSTUNREACH") {
              // Registered but its task connection is not routable yet: try again shortly.
              this.#retryLater();
              return;
            }
            if (this.#stopped) return;
            throw e;
          }
          this.#o.records.recordDispatch(task.msgId, slot.uuid);
          // The queue may have changed during the send (a dead engine's tasks put back in front): rescan.
          i = 0;
          freeBlocked = false;
        }
      } while (this.#again && !this.#stopped);
    } finally {
      this.#dispatching = false;
    }
  }

  #retryLater(): void {
    if (this.#retryTimer || this.#stopped) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#dispatch();
    }, RETRY_UNROUTABLE_MS);
  }
}
