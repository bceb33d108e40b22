/**
 * What a running task sees of its engine: `this` inside the task function, and
 * `taskContext()` anywhere in the task's asynchronous call tree (AsyncLocalStorage).
 *
 *   export async function step(this: TaskContext, x: Float64Array) {
 *     const { comm } = taskContext();          // or this.comm
 *     console.log("rank", comm.rank);          // captured: reply metadata + iopub
 *     return comm.allreduce(x, "sum");
 *   }
 *
 * console.log / info / debug (stdout) and warn / error (stderr) inside a task are
 * captured per task — several engines may share a process, each task's output goes to
 * its own reply — and streamed on iopub as they happen. Outside a task console works as
 * usual. Direct writes to process.stdout are not captured.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { formatWithOptions } from "node:util";
import { ClusterError } from "./errors.js";
import type { Comm, Mesh } from "./mesh.js";

/** The engine-side view of one running task. */
export interface TaskContext {
  /** This engine's id and uuid. */
  readonly engineId: number;
  readonly engineUuid: string;
  /** The request being run. */
  readonly msgId: string;
  /**
   * The job this task belongs to: one id shared by every engine of a DirectView.apply
   * (the request's msg_id for a load-balanced task), and the engines of that call.
   */
  readonly job: string;
  readonly group: readonly number[];
  /** Collectives among `group` (rank = this engine's index in it); made on first use. */
  readonly comm: Comm;
  /** The mesh: point-to-point messages to any engine. */
  readonly mesh: Mesh;
  /** The engine's named values (what push() set and pull() reads), kept across tasks. */
  readonly namespace: Map<string, unknown>;
  /** A named value; undefined when absent. */
  get<T = unknown>(name: string): T;
  set(name: string, value: unknown): void;
  /** Prints to the task's captured stdout (as console.log inside a task). */
  print(...args: unknown[]): void;
  /** Publishes a value (progress, partial results) to clients on iopub, as data_pub. */
  publish(data: unknown): void;
}

/** Per task: the context and where its output goes. */
export interface TaskScope {
  context: TaskContext;
  write(stream: "stdout" | "stderr", text: string): void;
}

const storage = new AsyncLocalStorage<TaskScope>();

/** The context of the task running in this asynchronous call tree; EINVAL outside a task. */
export function taskContext(): TaskContext {
  const scope = storage.getStore();
  if (!scope) throw new ClusterError("EINVAL", "taskContext() is only available inside a task running on an engine");
  return scope.context;
}

/** Runs `fn` as the task of `scope` (console capture and taskContext() see it). */
export function runInTask<T>(scope: TaskScope, fn: () => T): T {
  installConsoleCapture();
  return storage.run(scope, fn);
}

/** Text as console would print these arguments. */
export function formatArgs(args: unknown[]): string {
  return formatWithOptions({ colors: false }, ...args) + "\n";
}

let installed = false;

/**
 * Patches console once per process (per thread): inside a task, output goes to the
 * task; outside, to the original method.
 */
function installConsoleCapture(): void {
  if (installed) return;
  installed = true;
  const route = (name: "log" | "info" | "debug" | "warn" | "error", stream: "stdout" | "stderr") => {
    const original = console[name];
    console[name] = function captured(this: unknown, ...args: unknown[]) {
      const scope = storage.getStore();
      if (scope) scope.write(stream, formatArgs(args));
      else original.apply(console, args);
    };
  };
  route("log", "stdout");
  route("info", "stdout");
  route("debug", "stdout");
  route("warn", "stderr");
  route("error", "stderr");
}
