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
 * A reply to a client that has gone is dropped by the ROUTER. Copies go to the hub's
 * monitor: "intask" on arrival, "dispatch" when given to an engine, "outtask" for the reply.
 */
import type { Publisher, Router } from "../index.js";
import { drop, newDropCounts, receiveLoop, type DropCounts, type Logger } from "./log.js";
import type { Message, MessageHeader, Session } from "./session.js";
import type { Scheme } from "./schemes.js";

export interface TaskSchedulerOptions {
  session: Session;
  /** Bound ROUTER the clients' DEALERs connect to. */
  clients: Router;
  /** Bound ROUTER the engines' DEALERs (routingId = uuid) connect to; made `mandatory` here. */
  engines: Router;
  /** Where the copies for the hub go. */
  monitor: Publisher;
  scheme: Scheme;
  /** Most tasks outstanding on one engine; 0 = no limit (default 1, as IPython). */
  highWaterMark: number;
  log: Logger;
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
    this.#queue = [...again, ...this.#queue];
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
    this.#o.monitor.send([Buffer.from("outtask"), ...frames]).catch(() => {});
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
    this.#o.monitor.send([Buffer.from("intask"), ...frames]).catch(() => {});
    this.#queue.push(task);
    this.#dispatch();
  }

  #onEngine(frames: Buffer[]): void {
    const slot = this.#byUuid.get(frames[0]?.toString() ?? "");
    let msg: Message;
    try {
      msg = this.#o.session.deserialize(frames);
    } catch (e) {
      drop(this.dropped, this.#o.log, "task_engine", "invalid", e);
      return;
    }
    if (!slot) {
      // An engine that is not (or no longer) registered: its tasks were failed or resubmitted already.
      drop(this.dropped, this.#o.log, "task_engine", "unexpected", "a reply from an engine that is not registered");
      return;
    }
    const parent = msg.parent_header.msg_id;
    const task = typeof parent === "string" ? slot.outstanding.get(parent) : undefined;
    if (!task || msg.identities.length !== 2) {
      drop(this.dropped, this.#o.log, "task_engine", "unexpected", `a reply to no task outstanding on engine ${slot.id}`);
      return;
    }
    slot.outstanding.delete(task.msgId);
    // [engine, client, ...] → [client, engine, ...]
    const out = frames.slice();
    out[0] = frames[1]!;
    out[1] = frames[0]!;
    this.#o.clients.send(out).catch(() => {});
    this.#o.monitor.send([Buffer.from("outtask"), ...out]).catch(() => {});
    this.#dispatch();
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
          this.#queue.splice(i, 1);
          slot.outstanding.set(task.msgId, task);
          this.#line = [...this.#line.filter((s) => s !== slot), slot];
          try {
            await this.#o.engines.send(frames);
          } catch (e) {
            // Still ours (the engine did not leave meanwhile, which would have dealt with it): back in front.
            if (slot.outstanding.delete(task.msgId)) this.#queue.unshift(task);
            if ((e as { code?: string }).code === "EHOSTUNREACH") {
              // Registered but its task connection is not routable yet: try again shortly.
              this.#retryLater();
              return;
            }
            if (this.#stopped) return;
            throw e;
          }
          this.#o.monitor.send([Buffer.from("dispatch"), ...frames]).catch(() => {});
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
