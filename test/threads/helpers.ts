/** Worker threads for the MessagePort transport tests: start one under tsx, wait on its messages (bounded). */
import { Worker } from "node:worker_threads";
import type { TransferListItem } from "node:worker_threads";
import { within } from "../helpers/util.js";

export const START_MS = 15000;

/**
 * A Worker running the .ts module `file`, handed `workerData` (and the MessagePorts in
 * `transferList`). Node 20 workers do not inherit `--import tsx`, so a small eval'd
 * bootstrap registers tsx in the worker, then imports the module.
 */
export function startWorker(file: URL, workerData: unknown, transferList: TransferListItem[] = []): Worker {
  const api = import.meta.resolve("tsx/esm/api");
  const src =
    `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); })` +
    `.catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(src, { eval: true, workerData, transferList });
}

/** The first message from `worker` that `match` accepts, within `ms`; rejects if the worker fails or exits first. */
export function nextMessage<T = Record<string, unknown>>(
  worker: Worker, match: (m: T) => boolean, ms: number, what: string,
): Promise<T> {
  let cleanup = () => {};
  const p = new Promise<T>((resolve, reject) => {
    const onMessage = (m: T) => {
      if (!match(m)) return;
      cleanup();
      resolve(m);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(new Error(`worker failed while waiting for ${what}: ${e.message}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`worker exited (code ${code}) while waiting for ${what}`));
    };
    cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
  return within(p, ms, what).finally(cleanup);
}

/** Ends a worker, whatever state it is in. */
export async function stop(worker: Worker | undefined): Promise<void> {
  if (!worker) return;
  await worker.terminate();
}

/** performance.timeOrigin + performance.now(): comparable across the threads of one process. */
export { now } from "./clock.js";
