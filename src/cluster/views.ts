/**
 * Views: how a client addresses engines.
 *
 * DirectView — chosen engines, through the direct queue (each request names its engine):
 *   apply(fn, ...args)        run fn on every target; one job id and the group of targets
 *                             travel in the metadata, so the engines can form a Comm
 *   map(fn, items)            items split in contiguous blocks, one per target, results in order
 *   push({name: value}) / pull(name | names)          the engines' named values
 *   scatter(name, array) / gather(name)               an array split along its first axis
 *   execute(fn, ...args)      run fn for its effect (its result is not sent back)
 *
 * LoadBalancedView — the task scheduler picks the engine of each request:
 *   apply(fn, ...args)        one task
 *   map(fn, items, {chunkSize, ordered})              chunks of items as separate tasks
 *
 * A function is named "./module.js#export" (resolved on the engine against its
 * moduleRoot), or given as a JavaScript function or {source} — sent as source text,
 * which engines run only when started with allowSource.
 */
import { randomUUID } from "node:crypto";
import { isTypedArray, type TypedArray } from "../index.js";
import type { AsyncResult } from "./async-result.js";
import type { Client, Submission } from "./client.js";
import { ClusterError } from "./errors.js";
import type { FunctionRef } from "./functions.js";

/** A task function: "spec#export", or a function / {source} sent as source text (engines with allowSource only). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskFunction = string | { source: string } | ((...args: any[]) => unknown);

/** A result per engine for a multi-engine view, a single one for a view on one engine. */
export type PerEngine<R, Many extends boolean> = Many extends true ? R[] : R;

export function toRef(fn: TaskFunction): FunctionRef {
  if (typeof fn === "string") {
    if (fn.length === 0) throw new ClusterError("EINVAL", "a task function is \"spec#export\", not an empty string");
    return fn;
  }
  if (typeof fn === "function") return { source: fn.toString() };
  if (fn !== null && typeof fn === "object" && typeof fn.source === "string") return { source: fn.source };
  throw new ClusterError("EINVAL", "a task function is \"spec#export\", a function, or {source}");
}

/** Sizes of `n` nearly equal contiguous parts of `total` (the first ones one larger). */
export function splitSizes(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  const extra = total % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

type Sliceable = readonly unknown[] | TypedArray;

/** Splits along the first axis: rows of `rowLength` elements (typed arrays), into `n` parts. */
export function splitRows<T extends Sliceable>(data: T, n: number, rowLength = 1): T[] {
  if (!Number.isInteger(rowLength) || rowLength < 1) throw new ClusterError("EINVAL", "rowLength must be a positive integer");
  if (data.length % rowLength !== 0) throw new ClusterError("EINVAL", `${data.length} elements are not rows of ${rowLength}`);
  const sizes = splitSizes(data.length / rowLength, n);
  const parts: T[] = [];
  let at = 0;
  for (const rows of sizes) {
    const end = at + rows * rowLength;
    // Typed arrays: subarray, a view (the frames are sent from it without a copy).
    parts.push((isTypedArray(data) ? (data as TypedArray).subarray(at, end) : (data as readonly unknown[]).slice(at, end)) as T);
    at = end;
  }
  return parts;
}

/** Joins parts along the first axis: typed arrays of one type into one, lists into one list. */
export function concatRows(parts: unknown[]): unknown {
  if (parts.length > 0 && parts.every((p) => isTypedArray(p) && p.constructor === (parts[0] as TypedArray).constructor)) {
    const arrays = parts as TypedArray[];
    const Ctor = arrays[0]!.constructor as new (n: number) => TypedArray;
    const out = new Ctor(arrays.reduce((s, a) => s + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      (out as unknown as { set(a: TypedArray, at: number): void }).set(a, at);
      at += a.length;
    }
    return out;
  }
  if (parts.every((p) => Array.isArray(p))) return (parts as unknown[][]).flat(1);
  throw new ClusterError("EINVAL", "gather: the engines' values are not all lists or all typed arrays of one type");
}

function toItems(items: unknown): Sliceable {
  if (Array.isArray(items) || isTypedArray(items)) return items as Sliceable;
  if (items !== null && typeof items === "object" && Symbol.iterator in items) return [...(items as Iterable<unknown>)];
  throw new ClusterError("EINVAL", "map needs a list, a typed array or an iterable");
}

/** A view on chosen engines; `Many` says whether results are per-engine lists. */
export class DirectView<Many extends boolean = true> {
  readonly #client: Client;
  readonly #targets: number | readonly number[] | "all";

  /** @internal Use client.view(). */
  constructor(client: Client, targets: number | readonly number[] | "all") {
    this.#client = client;
    this.#targets = typeof targets === "number" || targets === "all" ? targets : [...targets];
  }

  /** The engines this view addresses now ("all" is resolved at each call). */
  get targets(): number[] {
    return this.#client._resolveTargets(this.#targets);
  }

  get #single(): boolean {
    return typeof this.#targets === "number";
  }

  #perEngine<R>(values: unknown[]): PerEngine<R, Many> {
    return (this.#single ? values[0] : values) as PerEngine<R, Many>;
  }

  #targetsOrThrow(): number[] {
    const t = this.targets;
    if (t.length === 0) throw new ClusterError("EINVAL", "no engines to run on (none registered yet? see client.waitForEngines)");
    return t;
  }

  /** Sends one request per target with the same content. */
  #each<R>(fn: FunctionRef | { code: FunctionRef }, args: readonly unknown[], combine: (v: unknown[]) => R, msgType: Submission["msgType"] = "apply_request"): AsyncResult<R> {
    const targets = this.#targetsOrThrow();
    const job = randomUUID();
    const group = [...targets].sort((a, b) => a - b);
    const { json, buffers } = this.#client._encode(args);
    const content = msgType === "apply_request" ? { fn, args: json } : { code: (fn as { code: FunctionRef }).code, args: json };
    return this.#client._submit(targets.map((engineId) => ({
      msgType, content: content as Submission["content"], buffers, metadata: { job, group }, engineId,
    })), combine);
  }

  /**
   * Runs `fn(...args)` on every target (`this` is the task's context); the targets share
   * one job, so the task can use `this.comm` / `taskContext().comm` for collectives.
   */
  apply<R = unknown>(fn: TaskFunction, ...args: unknown[]): AsyncResult<PerEngine<Awaited<R>, Many>> {
    return this.#each(toRef(fn), args, (v) => this.#perEngine<Awaited<R>>(v));
  }

  /** Runs `fn(...args)` on every target for its effect; resolves once all have run it. */
  execute(fn: TaskFunction, ...args: unknown[]): AsyncResult<void> {
    return this.#each({ code: toRef(fn) }, args, (): void => undefined, "execute_request");
  }

  /** `fn(item)` for every item: the items are split in contiguous blocks, one per target; results in item order. */
  map<R = unknown>(fn: TaskFunction, items: Iterable<unknown> | TypedArray): AsyncResult<Array<Awaited<R>>> {
    const targets = this.#targetsOrThrow();
    const list = toItems(items);
    const parts = splitRows(list, targets.length);
    const ref: FunctionRef = { builtin: "map", fn: toRef(fn) };
    const job = randomUUID();
    const group = [...targets].sort((a, b) => a - b);
    const subs: Submission[] = [];
    targets.forEach((engineId, i) => {
      const { json, buffers } = this.#client._encode([parts[i]]);
      subs.push({ msgType: "apply_request", content: { fn: ref, args: json }, buffers, metadata: { job, group }, engineId });
    });
    return this.#client._submit(subs, (v) => (v as unknown[][]).flat(1) as Array<Awaited<R>>, { flatten: true });
  }

  /** Sets named values on every target. */
  push(values: Record<string, unknown>): AsyncResult<void> {
    if (values === null || typeof values !== "object" || Array.isArray(values)) throw new ClusterError("EINVAL", "push needs an object of named values");
    return this.#each({ builtin: "push" }, [values], (): void => undefined);
  }

  /** Reads named values from every target: one value (or a list for a list of names) per engine. */
  pull<R = unknown>(names: string | readonly string[]): AsyncResult<PerEngine<R, Many>> {
    return this.#each({ builtin: "pull" }, [typeof names === "string" ? names : [...names]], (v) => this.#perEngine<R>(v));
  }

  /**
   * Splits `data` along its first axis into one contiguous part per target (sizes differ
   * by at most one row) and sets it as `name` on each. For a typed array holding rows of
   * `rowLength` elements, whole rows are kept together. Typed array parts are views, sent
   * without copying.
   */
  scatter(name: string, data: readonly unknown[] | TypedArray, options: { rowLength?: number } = {}): AsyncResult<void> {
    const targets = this.#targetsOrThrow();
    if (!Array.isArray(data) && !isTypedArray(data)) throw new ClusterError("EINVAL", "scatter needs a list or a typed array");
    const parts = splitRows(data, targets.length, options.rowLength ?? 1);
    const subs: Submission[] = targets.map((engineId, i) => {
      const { json, buffers } = this.#client._encode([{ [name]: parts[i] }]);
      return { msgType: "apply_request", content: { fn: { builtin: "push" }, args: json }, buffers, metadata: {}, engineId };
    });
    return this.#client._submit(subs, (): void => undefined);
  }

  /** Reads `name` from every target and joins the parts along the first axis, in target order. */
  gather<R = unknown>(name: string): AsyncResult<R> {
    return this.#each({ builtin: "pull" }, [name], (v) => concatRows(v) as R);
  }
}

export interface LoadBalancedOptions {
  /** Restrict tasks to these engines (default: any). */
  targets?: readonly number[];
  /** Resubmit a task this many times when the engine running it dies (default 0: fail with EENGINEDIED). */
  retries?: number;
  /** map: items per task (default 1). */
  chunkSize?: number;
  /** map: results in item order (default true), or in the order tasks complete. */
  ordered?: boolean;
}

/** The load-balanced queue: the scheduler picks each task's engine. */
export class LoadBalancedView {
  readonly #client: Client;
  readonly #options: LoadBalancedOptions;

  /** @internal Use client.loadBalancedView(). */
  constructor(client: Client, options: LoadBalancedOptions) {
    if (options.retries !== undefined && (!Number.isInteger(options.retries) || options.retries < 0)) {
      throw new ClusterError("EINVAL", "retries must be an integer ≥ 0");
    }
    this.#client = client;
    this.#options = { ...options };
  }

  #metadata(): Record<string, unknown> {
    const md: Record<string, unknown> = {};
    if (this.#options.retries) md.retries = this.#options.retries;
    if (this.#options.targets) md.targets = [...this.#options.targets];
    return md;
  }

  /** Runs `fn(...args)` once, on the engine the scheduler picks. */
  apply<R = unknown>(fn: TaskFunction, ...args: unknown[]): AsyncResult<Awaited<R>> {
    const { json, buffers } = this.#client._encode(args);
    return this.#client._submit([{
      msgType: "apply_request", content: { fn: toRef(fn), args: json }, buffers, metadata: this.#metadata(), engineId: null,
    }], (v) => v[0] as Awaited<R>);
  }

  /**
   * `fn(item)` for every item, in tasks of `chunkSize` items spread by the scheduler.
   * Ordered (default): results in item order; unordered: in the order the tasks completed.
   */
  map<R = unknown>(fn: TaskFunction, items: Iterable<unknown> | TypedArray, options: { chunkSize?: number; ordered?: boolean } = {}): AsyncResult<Array<Awaited<R>>> {
    const chunkSize = options.chunkSize ?? this.#options.chunkSize ?? 1;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new ClusterError("EINVAL", "chunkSize must be a positive integer");
    const ordered = options.ordered ?? this.#options.ordered ?? true;
    const list = toItems(items);
    const ref: FunctionRef = { builtin: "map", fn: toRef(fn) };
    const subs: Submission[] = [];
    for (let at = 0; at < list.length; at += chunkSize) {
      const chunk = isTypedArray(list) ? (list as TypedArray).subarray(at, at + chunkSize) : (list as readonly unknown[]).slice(at, at + chunkSize);
      const { json, buffers } = this.#client._encode([chunk]);
      subs.push({ msgType: "apply_request", content: { fn: ref, args: json }, buffers, metadata: this.#metadata(), engineId: null });
    }
    return this.#client._submit(subs, (values, order) => {
      const chunks = ordered ? values : order.map((i) => values[i]);
      return (chunks as unknown[][]).flat(1) as Array<Awaited<R>>;
    }, { ordered, flatten: true });
  }
}
