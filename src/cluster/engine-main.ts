/**
 * The entry of an engine in its own thread or process: runs one Engine until it stops
 * (a client's shutdown, the parent's "stop", the parent going away, SIGINT / SIGTERM),
 * then exits.
 *
 *   node engine-main.js <connection-file> ['{"moduleRoot": "...", "allowSource": true}']
 *
 * Started by LocalCluster it is a worker thread (workerData: {connection, options}) or a
 * forked child (argv as above, and an IPC channel); to the parent it reports
 * {t: "registered", id, uuid}, {t: "failed", error} or {t: "stopped", reason}, and it
 * takes {t: "stop"}. Run by hand it needs no parent.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { Engine, type EngineOptions } from "./engine.js";
import type { ConnectionSource } from "./connection.js";

/** The options that can cross to a thread or a process (no functions, no context; `log: false` silences it). */
export type PortableEngineOptions = Omit<EngineOptions, "context" | "log"> & { log?: false };

export type ToEngineMain = { t: "stop" };
export type FromEngineMain =
  | { t: "registered"; id: number; uuid: string }
  | { t: "failed"; error: { name: string; message: string; code?: string } }
  | { t: "stopped"; reason: string };

interface Channel {
  send(msg: FromEngineMain): void;
  listen(handler: (msg: ToEngineMain) => void): void;
  /** Called when the parent goes away (child processes only). */
  onParentGone(handler: () => void): void;
  release(): void;
}

function openChannel(): Channel | null {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    // Handlers are removed one by one: Deno's parentPort has no removeAllListeners.
    const handlers: Array<(msg: ToEngineMain) => void> = [];
    return {
      send: (msg) => port.postMessage(msg),
      listen: (handler) => {
        handlers.push(handler);
        port.on("message", handler);
      },
      onParentGone: () => {},
      release: () => {
        for (const h of handlers.splice(0)) port.off("message", h);
        port.unref();
      },
    };
  }
  if (typeof process.send === "function") {
    return {
      send: (msg) => {
        if (process.connected) process.send!(msg);
      },
      listen: (handler) => process.on("message", (m) => handler(m as ToEngineMain)),
      onParentGone: (handler) => process.on("disconnect", handler),
      release: () => {
        process.removeAllListeners("message");
        if (process.connected) process.disconnect();
      },
    };
  }
  return null;
}

function parseArgs(): { connection: ConnectionSource; options: PortableEngineOptions } {
  if (!isMainThread && workerData && typeof workerData === "object" && "connection" in workerData) {
    const data = workerData as { connection: ConnectionSource; options?: PortableEngineOptions };
    return { connection: data.connection, options: data.options ?? {} };
  }
  const [file, json] = process.argv.slice(2);
  if (!file) throw new Error("usage: engine-main <connection-file> [options-json]");
  return { connection: file, options: json ? (JSON.parse(json) as PortableEngineOptions) : {} };
}

async function main(): Promise<void> {
  const channel = openChannel();
  let engine: Engine;
  try {
    const { connection, options } = parseArgs();
    engine = await Engine.start(connection, options);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (channel) {
      channel.send({ t: "failed", error: { name: err.name, message: err.message, ...(typeof err.code === "string" ? { code: err.code } : {}) } });
      channel.release();
    } else {
      process.stderr.write(`engine failed to start: ${err.message}\n`);
    }
    process.exitCode = 1;
    return;
  }
  channel?.send({ t: "registered", id: engine.id, uuid: engine.uuid });
  channel?.listen((msg) => {
    if (msg?.t === "stop") void engine.stop("stopped by its parent");
  });
  channel?.onParentGone(() => void engine.stop("its parent went away"));
  if (isMainThread) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void engine.stop(`received ${signal}`));
  }
  const reason = await engine.done;
  if (channel) {
    channel.send({ t: "stopped", reason });
    channel.release();
  }
  // Lingering handles (a peer still dialling) must not keep a stopped engine alive.
  setTimeout(() => process.exit(0), 500).unref();
}

main().catch((e: Error) => {
  process.stderr.write(`engine-main: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
