/**
 * AsyncResult: the answer to one call on a view — a promise of the value, plus what the
 * cluster says about how it ran.
 *
 *   const ar = view.apply("./tasks.js#integrate", 0, 1);
 *   ar.msgIds;                    // the requests sent (one per engine, or per chunk)
 *   const value = await ar;       // or ar.get(5000): ETIMEDOUT after 5 s
 *   ar.metadata[0].engineId;      // who ran it, when (submitted/started/completed), its stdout/stderr
 *   for await (const v of ar) …   // the parts' values as they arrive (in order when ordered)
 *
 * A call made of several requests fails as soon as one does, with that request's
 * error (a ClusterError: ETASK for an exception in the task, EENGINEDIED when its
 * engine left, ECLOSED when the client closed).
 */
import { ClusterError } from "./errors.js";

/** How one request ran. Times are ISO strings: submitted by the client's clock, started / completed by the engine's. */
export interface TaskMetadata {
  msgId: string;
  engineId: number | null;
  engineUuid: string | null;
  status: "pending" | "ok" | "error";
  submitted: string;
  started: string | null;
  completed: string | null;
  /** When the reply reached the client. */
  received: string | null;
  /** Everything the task printed (console.log / info / debug), and to stderr (warn / error). */
  stdout: string;
  stderr: string;
}

interface Part {
  value?: unknown;
  error?: Error;
  settled: boolean;
}

const noop = (): void => {};

export class AsyncResult<T = unknown> implements Promise<T> {
  /** Makes it a Promise in type, too (then / catch / finally are a promise's). */
  readonly [Symbol.toStringTag] = "AsyncResult";
  /** The requests behind this result, in call order. */
  readonly msgIds: readonly string[];
  /** How each request ran, index-aligned with msgIds (filled in as replies arrive). */
  readonly metadata: readonly TaskMetadata[];
  readonly #parts: Part[];
  readonly #combine: (values: unknown[], completionOrder: number[]) => T;
  readonly #ordered: boolean;
  readonly #flatten: boolean;
  readonly #promise: Promise<T>;
  #resolve!: (v: T) => void;
  #reject!: (e: Error) => void;
  #settled = false;
  readonly #completion: number[] = [];
  #wakeIterators: Array<() => void> = [];

  /** @internal Made by the views; `combine` turns the parts' values into the result. */
  constructor(
    msgIds: string[], metadata: TaskMetadata[], combine: (values: unknown[], completionOrder: number[]) => T,
    options: { ordered?: boolean; flatten?: boolean } = {},
  ) {
    this.msgIds = msgIds;
    this.metadata = metadata;
    this.#parts = msgIds.map(() => ({ settled: false }));
    this.#combine = combine;
    this.#ordered = options.ordered ?? true;
    this.#flatten = options.flatten ?? false;
    this.#promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody may ever await a result; its failure must not become an unhandled rejection.
    this.#promise.catch(noop);
    if (msgIds.length === 0) this.#finish();
  }

  /** @internal A request's value arrived. */
  _resolvePart(index: number, value: unknown): void {
    const p = this.#parts[index];
    if (!p || p.settled) return;
    p.settled = true;
    p.value = value;
    this.#completion.push(index);
    this.#wake();
    if (this.#completion.length === this.#parts.length) this.#finish();
  }

  /** @internal A request failed. */
  _rejectPart(index: number, error: Error): void {
    const p = this.#parts[index];
    if (!p || p.settled) return;
    p.settled = true;
    p.error = error;
    this.#completion.push(index);
    this.#wake();
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(error);
    }
  }

  #finish(): void {
    if (this.#settled) return;
    this.#settled = true;
    try {
      this.#resolve(this.#combine(this.#parts.map((p) => p.value), this.#completion.slice()));
    } catch (e) {
      this.#reject(e as Error);
    }
  }

  /**
   * Resolves once every request has been answered — even after one failed — with each
   * one's outcome (as Promise.allSettled), in request order.
   */
  async allSettled(): Promise<Array<PromiseSettledResult<unknown>>> {
    while (this.#completion.length < this.#parts.length) {
      await new Promise<void>((resolve) => this.#wakeIterators.push(resolve));
    }
    return this.#parts.map((p) => (p.error ? { status: "rejected", reason: p.error } : { status: "fulfilled", value: p.value }));
  }

  #wake(): void {
    const w = this.#wakeIterators;
    this.#wakeIterators = [];
    for (const f of w) f();
  }

  /** Whether every request has been answered (or one failed). */
  ready(): boolean {
    return this.#settled;
  }

  /** How many requests have been answered. */
  get progress(): number {
    return this.#completion.length;
  }

  /** The value; ETIMEDOUT if it takes longer than `timeout` ms (the requests keep running). */
  get(timeout?: number): Promise<T> {
    if (timeout === undefined) return this.#promise;
    let timer: NodeJS.Timeout;
    return Promise.race([
      this.#promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClusterError("ETIMEDOUT", `no result within ${timeout} ms (${this.#completion.length} of ${this.msgIds.length} answered)`)), timeout);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#promise.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#promise.finally(onFinally);
  }

  /**
   * The values as they arrive: in request order when the result is ordered, else in
   * completion order — a map's items one by one, otherwise one value per request.
   * Throws the first error met.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<unknown, void, undefined> {
    let next = 0;
    for (;;) {
      if (next >= this.#parts.length) return;
      const index = this.#ordered ? next : this.#completion[next];
      const part = index === undefined ? undefined : this.#parts[index];
      if (!part || !part.settled) {
        await new Promise<void>((resolve) => this.#wakeIterators.push(resolve));
        continue;
      }
      next++;
      if (part.error) throw part.error;
      if (this.#flatten && Array.isArray(part.value)) yield* part.value;
      else yield part.value;
    }
  }

  /** Wall-clock ms from the first submission to the last reply received (NaN while pending). */
  get elapsed(): number {
    if (!this.#settled || this.metadata.length === 0) return NaN;
    const start = Math.min(...this.metadata.map((m) => Date.parse(m.submitted)));
    const end = Math.max(...this.metadata.map((m) => (m.received ? Date.parse(m.received) : NaN)));
    return end - start;
  }
}
