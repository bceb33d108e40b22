/**
 * A whole cluster on this machine, for tests, examples and interactive use: a controller
 * in this process and `engines` engines — child processes, worker threads, or (inline)
 * in this very thread.
 *
 *   const cluster = await LocalCluster.start({ engines: 4, mode: "process", transport: "ipc" });
 *   const client = await cluster.client();
 *   ...
 *   await cluster.stop();    // engines shut down cleanly, then the controller; clients closed
 *
 * Modes: "process" (the default; any transport but inproc), "thread" (worker threads;
 * tcp or ipc: inproc does not cross threads), "inline" (Engine objects in this thread;
 * any transport, the only one for inproc). killEngine() makes an engine die abruptly
 * (SIGKILL, thread termination, or an inline engine's kill()) to exercise fault handling.
 */
import { randomUUID } from "node:crypto";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Client, type ClientOptions } from "./client.js";
import { Controller, type ControllerOptions } from "./controller.js";
import { Engine } from "./engine.js";
import type { FromEngineMain, PortableEngineOptions, ToEngineMain } from "./engine-main.js";
import { engineEntry, tsWorkerCode, tsxFiles } from "./entry.js";
import { ClusterError } from "./errors.js";

export type EngineMode = "process" | "thread" | "inline";

export interface LocalClusterOptions extends ControllerOptions {
  /** Engines to start (default 2). */
  engines?: number;
  /** Where engines run (default "process", "inline" over inproc). */
  mode?: EngineMode;
  /** Options of every engine (what can cross to a thread or process). */
  engine?: PortableEngineOptions;
  /** How long start() / addEngine() wait for an engine to register (default 30000 ms). */
  startTimeout?: number;
  /** The engine entry, when engine-main cannot be found next to this module (a bundle). */
  engineEntry?: string | URL;
  /** Where to write the connection file (default: a fresh temp dir, removed at stop). */
  connectionFile?: string;
}

/** One engine the cluster started. */
export interface LocalEngine {
  id: number;
  uuid: string;
  mode: EngineMode;
  /** The child's pid (process mode). */
  pid: number | null;
  /** Resolves once the engine's thread / process has exited (or the inline engine stopped). */
  exited: Promise<void>;
}

interface Handle extends LocalEngine {
  stop(): void;
  kill(): void;
}

const STOP_GRACE_MS = 3000;

export class LocalCluster {
  readonly controller: Controller;
  /** The connection file engines and clients read. */
  readonly connectionFile: string;
  readonly #options: LocalClusterOptions;
  readonly #mode: EngineMode;
  readonly #handles = new Map<number, Handle>();
  readonly #clients = new Set<Client>();
  readonly #tempDir: string | null;
  #stopping: Promise<void> | null = null;

  private constructor(controller: Controller, file: string, tempDir: string | null, options: LocalClusterOptions, mode: EngineMode) {
    this.controller = controller;
    this.connectionFile = file;
    this.#tempDir = tempDir;
    this.#options = options;
    this.#mode = mode;
  }

  /** Starts the controller and the engines; resolves once every engine has registered. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const transport = options.transport ?? "tcp";
    const mode = options.mode ?? (transport === "inproc" ? "inline" : "process");
    if (mode !== "inline" && transport === "inproc") {
      throw new ClusterError("EINVAL", `${mode} engines cannot reach an inproc controller (inproc stays in one thread); use tcp or ipc, or mode "inline"`);
    }
    const count = options.engines ?? 2;
    if (!Number.isInteger(count) || count < 0) throw new ClusterError("EINVAL", "engines must be an integer ≥ 0");
    const controller = await Controller.start(options);
    let tempDir: string | null = null;
    let file = options.connectionFile;
    if (file === undefined) {
      tempDir = mkdtempSync(join(tmpdir(), "zmq-ts-local-cluster-"));
      file = join(tempDir, "cluster.json");
    }
    controller.writeConnectionFile(file);
    const cluster = new LocalCluster(controller, file, tempDir, options, mode);
    try {
      await Promise.all(Array.from({ length: count }, () => cluster.addEngine()));
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  get connectionInfo() {
    return this.controller.connectionInfo;
  }

  /** The ids of the engines this cluster started and that have not exited, ascending. */
  get engineIds(): number[] {
    return [...this.#handles.keys()].sort((a, b) => a - b);
  }

  /** An engine this cluster started. */
  engine(id: number): LocalEngine | undefined {
    const h = this.#handles.get(id);
    return h && { id: h.id, uuid: h.uuid, mode: h.mode, pid: h.pid, exited: h.exited };
  }

  /** A client connected to this cluster (closed by stop()). */
  async client(options: ClientOptions = {}): Promise<Client> {
    const client = await Client.connect(this.connectionInfo, {
      ...(this.#options.context ? { context: this.#options.context } : {}),
      ...(this.#options.log !== undefined ? { log: this.#options.log } : {}),
      ...options,
    });
    this.#clients.add(client);
    return client;
  }

  /** Starts one more engine; resolves with its id once registered. */
  async addEngine(): Promise<number> {
    if (this.#stopping) throw new ClusterError("ECLOSED", "the cluster is stopping");
    const uuid = randomUUID();
    const timeout = this.#options.startTimeout ?? 30_000;
    const portable: PortableEngineOptions = { registrationTimeout: timeout, ...this.#options.engine, uuid };
    if (this.#options.log === false) portable.log = false;
    let handle: Handle;
    switch (this.#mode) {
      case "inline":
        handle = await this.#startInline(uuid, portable, timeout);
        break;
      case "thread":
        handle = await this.#startThread(portable, timeout);
        break;
      case "process":
        handle = await this.#startProcess(portable, timeout);
        break;
    }
    this.#handles.set(handle.id, handle);
    void handle.exited.then(() => this.#handles.delete(handle.id));
    return handle.id;
  }

  async #startInline(uuid: string, portable: PortableEngineOptions, timeout: number): Promise<Handle> {
    const engine = await Engine.start(this.connectionInfo, {
      ...portable,
      ...(this.#options.context ? { context: this.#options.context } : {}),
      ...(portable.log === false ? { log: false } : this.#options.log !== undefined ? { log: this.#options.log } : {}),
    });
    return {
      id: engine.id, uuid, mode: "inline", pid: null,
      exited: engine.done.then(() => {}),
      stop: () => void engine.stop("stopped by the local cluster"),
      kill: () => engine.kill(),
    };
  }

  /** Waits for the entry's report; the thread / process is killed if it does not come. */
  #awaitRegistration(
    on: (handler: (msg: FromEngineMain) => void) => void, exited: Promise<string>, kill: () => void, timeout: number, what: string,
  ): Promise<{ id: number; uuid: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        kill();
        reject(new ClusterError("ETIMEDOUT", `the engine ${what} did not register within ${timeout} ms`));
      }, timeout);
      on((msg) => {
        if (msg.t === "registered") {
          clearTimeout(timer);
          resolve({ id: msg.id, uuid: msg.uuid });
        } else if (msg.t === "failed") {
          clearTimeout(timer);
          const code = msg.error.code === "ETIMEDOUT" || msg.error.code === "EPROTO" ? msg.error.code : "EINVAL";
          reject(new ClusterError(code, `the engine ${what} failed to start: ${msg.error.message}`));
        }
      });
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new ClusterError("EENGINEDIED", `the engine ${what} ${how} before registering`));
      });
    });
  }

  async #startThread(portable: PortableEngineOptions, timeout: number): Promise<Handle> {
    const entry = engineEntry(this.#options.engineEntry);
    const workerData = { connection: this.connectionFile, options: portable };
    const worker = entry.ts
      ? new Worker(tsWorkerCode(entry), { eval: true, execArgv: [], workerData })
      : new Worker(entry.path, { execArgv: [], workerData });
    const exited = new Promise<string>((resolve) => worker.once("exit", (code) => resolve(`exited (code ${code})`)));
    worker.on("error", () => {});
    const { id, uuid } = await this.#awaitRegistration(
      (h) => worker.on("message", h), exited, () => void worker.terminate(), timeout, "thread",
    );
    const send = (msg: ToEngineMain) => worker.postMessage(msg);
    return {
      id, uuid, mode: "thread", pid: null,
      exited: exited.then(() => {}),
      stop: () => send({ t: "stop" }),
      kill: () => void worker.terminate(),
    };
  }

  async #startProcess(portable: PortableEngineOptions, timeout: number): Promise<Handle> {
    const entry = engineEntry(this.#options.engineEntry);
    const execArgv = entry.ts ? ["--import", tsxFiles(entry.path).loader] : [];
    const child: ChildProcess = fork(entry.path, [this.connectionFile, JSON.stringify(portable)], {
      execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const exited = new Promise<string>((resolve) => {
      child.once("close", (code, signal) => resolve(signal ? `was killed (${signal})` : `exited (code ${code})`));
      child.once("error", (e) => {
        if (child.pid === undefined) resolve(`could not be spawned: ${e.message}`);
      });
    });
    const { id, uuid } = await this.#awaitRegistration(
      (h) => child.on("message", (m) => h(m as FromEngineMain)), exited, () => void child.kill("SIGKILL"), timeout, "process",
    );
    return {
      id, uuid, mode: "process", pid: child.pid ?? null,
      exited: exited.then(() => {}),
      stop: () => {
        if (child.connected) child.send({ t: "stop" } satisfies ToEngineMain);
        else child.kill("SIGTERM");
      },
      kill: () => void child.kill("SIGKILL"),
    };
  }

  /**
   * Makes an engine die abruptly, as a crash would: no unregistration; the hub notices by
   * heartbeat within controller.detectionBound ms. Resolves once its thread / process is gone.
   */
  async killEngine(id: number): Promise<void> {
    const h = this.#handles.get(id);
    if (!h) throw new ClusterError("EINVAL", `engine ${id} is not one of this cluster's running engines`);
    h.kill();
    await h.exited;
  }

  /** Stops an engine cleanly (it unregisters); resolves once it has exited. */
  async stopEngine(id: number, grace = STOP_GRACE_MS): Promise<void> {
    const h = this.#handles.get(id);
    if (!h) return;
    h.stop();
    await this.#within(h, grace);
  }

  async #within(h: Handle, grace: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), grace)));
    const how = await Promise.race([h.exited.then(() => "ok" as const), late]);
    clearTimeout(timer);
    if (how === "late") {
      h.kill();
      await h.exited;
    }
  }

  /** Closes the clients it made, stops every engine (killed after a grace), then the controller. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all([...this.#clients].map((c) => c.close()));
      this.#clients.clear();
      await Promise.all([...this.#handles.values()].map((h) => {
        h.stop();
        return this.#within(h, STOP_GRACE_MS);
      }));
      await this.controller.stop();
      if (this.#tempDir) rmSync(this.#tempDir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }
}
