/** cluster start | stop | status, and engine: the pieces of zmq-ts/cluster from the command line. */
import { resolve } from "node:path";
import { Client, Engine, LocalCluster, type Transport } from "../cluster/index.js";
import {
  CliError, EXIT_CONNECTION, EXIT_HELP, EXIT_OK, EXIT_USAGE, GLOBAL_HELP, info, interrupted, intOption, out, parse, print, printJson, usage,
} from "./common.js";
import type { Command } from "./messaging.js";

const FILE_HELP = `  -f, --file PATH            the connection file (default ./cluster.json)`;

function fileOf(v: Record<string, unknown>): string {
  return resolve(typeof v.file === "string" ? v.file : "cluster.json");
}

function transportOf(v: Record<string, unknown>): Transport {
  const t = v.transport ?? "tcp";
  if (t !== "tcp" && t !== "ipc") throw usage(`--transport must be tcp or ipc (engines in other processes cannot reach inproc), got ${JSON.stringify(t)}`);
  return t;
}

/** A client for one short request; connection problems are exit 3. */
async function withClient<T>(file: string, timeout: number, work: (c: Client) => Promise<T>): Promise<T> {
  let client: Client;
  try {
    client = await Client.connect(file, { timeout, log: false });
  } catch (e) {
    throw new CliError(EXIT_CONNECTION, `cannot reach the controller of ${file}: ${(e as Error).message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

async function start(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    engines: { type: "string", short: "n" }, file: { type: "string", short: "f" }, transport: { type: "string" },
    ip: { type: "string" }, "allow-source": { type: "boolean" }, "module-root": { type: "string" }, curve: { type: "boolean" },
  }, false);
  const engines = intOption(v, "engines") ?? 2;
  const file = fileOf(v);
  const sig = interrupted();
  const cluster = await LocalCluster.start({
    engines, transport: transportOf(v), connectionFile: file, mode: "process",
    ...(typeof v.ip === "string" ? { ip: v.ip } : {}),
    ...(v.curve === true ? { curve: true } : {}),
    engine: {
      allowSource: v["allow-source"] === true,
      moduleRoot: resolve(typeof v["module-root"] === "string" ? v["module-root"] : "."),
    },
  });
  try {
    info("started", `cluster: controller and engines ${cluster.engineIds.join(", ")} running; connection file ${file}`, {
      file, engines: cluster.engineIds,
    });
    if (!out.json) print(`cluster: "zmq-ts engine --file ${file}" adds an engine (from any machine that reaches it); "zmq-ts cluster stop --file ${file}" stops it`);
    const why = await Promise.race([sig.promise, cluster.controller.done.then(() => "shutdown" as const)]);
    info("stopping", `cluster: stopping (${why === "signal" ? "interrupted" : "shutdown requested"})`, { reason: why });
    return EXIT_OK;
  } finally {
    sig.dispose();
    await cluster.stop();
  }
}

async function stop(args: string[]): Promise<number> {
  const { values: v } = parse(args, { file: { type: "string", short: "f" }, timeout: { type: "string", short: "t" } }, false);
  const file = fileOf(v);
  const told = await withClient(file, intOption(v, "timeout") ?? 5000, (c) => c.shutdown({ hub: true }));
  info("stopped", `cluster: shutdown sent to the controller and engines ${told.join(", ") || "(none)"}`, { engines: told });
  return EXIT_OK;
}

async function status(args: string[]): Promise<number> {
  const { values: v } = parse(args, { file: { type: "string", short: "f" }, timeout: { type: "string", short: "t" } }, false);
  const file = fileOf(v);
  const { engines, queue } = await withClient(file, intOption(v, "timeout") ?? 5000, async (c) => ({
    engines: c.engines, queue: await c.queueStatus(),
  }));
  if (out.json) {
    printJson({ type: "status", engines, queue });
  } else {
    print(`cluster: ${engines.length} engine(s); ${queue.unassigned} task(s) waiting for an engine`);
    for (const e of engines) {
      const q = queue.engines[e.id];
      print(`  engine ${e.id}  ${e.uuid}  peer ${e.peer_endpoint}  queued ${q?.queue ?? 0}, completed ${q?.completed ?? 0}`);
    }
  }
  return EXIT_OK;
}

export const cluster: Command = {
  summary: "start, stop or inspect a local cluster (controller + engines; see docs/CLUSTER.md)",
  help: `Usage: zmq-ts cluster start [-n N] [--file PATH] [--transport tcp|ipc] [--ip ADDR] [--curve] [--allow-source] [--module-root DIR]
       zmq-ts cluster stop [--file PATH]
       zmq-ts cluster status [--file PATH]

start   runs a controller and N engine processes (default 2) until interrupted or
        stopped, and writes the connection file clients and more engines read
stop    asks the controller of the connection file to shut its engines and itself down
status  lists the registered engines and their queues

Options:
  -n, --engines N            engines to start with (default 2; 0 for a controller alone)
${FILE_HELP}
      --transport T          tcp (default) or ipc
      --ip ADDR              tcp: the interface to bind (default 127.0.0.1; 0.0.0.0 for engines on other machines)
      --curve                encrypt every connection with CURVE (the connection file carries the server's public key;
                             engines and clients bring key pairs of their own; engines' peer endpoints are CURVE too)
      --allow-source         engines run functions sent as source text (interactive use: it runs what clients send)
      --module-root DIR      where engines resolve "./tasks.js#fn" (default the current directory)
  -t, --timeout MS           stop/status: how long to wait for the controller (default 5000)
${GLOBAL_HELP}
${EXIT_HELP}`,
  run: async (args) => {
    const [sub, ...rest] = args;
    if (sub === "start") return start(rest);
    if (sub === "stop") return stop(rest);
    if (sub === "status") return status(rest);
    throw usage(sub === undefined ? "cluster needs a subcommand: start, stop or status" : `unknown cluster subcommand ${JSON.stringify(sub)} (start, stop, status)`);
  },
};

export const engine: Command = {
  summary: "run an engine for the cluster of a connection file (from any machine that reaches it)",
  help: `Usage: zmq-ts engine [--file PATH] [--allow-source] [--module-root DIR]

Registers with the controller of the connection file, runs tasks until the cluster
shuts it down or it is interrupted, then unregisters.

Options:
${FILE_HELP}
      --allow-source         run functions sent as source text (interactive use: it runs what clients send)
      --module-root DIR      where "./tasks.js#fn" resolves (default the current directory)
      --ip ADDR              tcp: the interface to bind this engine's peer endpoint on (default the controller's)
${GLOBAL_HELP}
${EXIT_HELP}`,
  run: async (args) => {
    const { values: v } = parse(args, {
      file: { type: "string", short: "f" }, "allow-source": { type: "boolean" }, "module-root": { type: "string" }, ip: { type: "string" },
    }, false);
    const file = fileOf(v);
    const sig = interrupted();
    let e: Engine;
    try {
      e = await Engine.start(file, {
        allowSource: v["allow-source"] === true,
        moduleRoot: resolve(typeof v["module-root"] === "string" ? v["module-root"] : "."),
        echo: !out.json,
        ...(typeof v.ip === "string" ? { ip: v.ip } : {}),
      });
    } catch (err) {
      sig.dispose();
      const code = (err as { code?: unknown }).code;
      throw new CliError(code === "EINVAL" ? EXIT_USAGE : EXIT_CONNECTION, `engine: ${(err as Error).message}`);
    }
    try {
      info("registered", `engine: registered as engine ${e.id} (${e.uuid})`, { id: e.id, uuid: e.uuid });
      const why = await Promise.race([sig.promise, e.done]);
      info("stopping", `engine ${e.id}: stopping (${why === "signal" ? "interrupted" : why})`, { id: e.id, reason: why });
      return EXIT_OK;
    } finally {
      sig.dispose();
      await e.stop();
    }
  },
};
