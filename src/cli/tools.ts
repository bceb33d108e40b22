/** monitor, keygen, bench. */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Push, Pull, curveKeyPair, createCertificates, eventIds, type Event, type EventType, type Subscriber } from "../index.js";
import {
  Cleanup, CliError, ENDPOINT_HELP, ENDPOINT_OPTIONS, EXIT_HELP, EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, GLOBAL_HELP, Progress,
  SECURITY_HELP, SECURITY_OPTIONS, guarded, info, interrupted, intOption, numberOption, openSocket, out, parse, print,
  printJson, printMessage, usage,
} from "./common.js";
import type { Command } from "./messaging.js";

// ---- monitor --------------------------------------------------------------------------------

function describe(event: Event): { text: string; fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = { type: "event", event: event.type };
  let text = event.type;
  if ("address" in event && event.address !== undefined) {
    fields.address = event.address;
    text += ` ${event.address}`;
  }
  if ("interval" in event) {
    fields.interval = event.interval;
    text += ` interval=${event.interval}ms`;
  }
  if ("error" in event && event.error) {
    const err = event.error as Error & { code?: string; errno?: number; status?: number };
    fields.error = {
      message: err.message,
      ...(err.code !== undefined ? { code: err.code } : {}),
      ...(err.errno !== undefined ? { errno: err.errno } : {}),
      ...(err.status !== undefined ? { status: err.status } : {}),
    };
    text += ` error=${JSON.stringify(err.message)}${err.code ? ` (${err.code})` : ""}${err.status ? ` status=${err.status}` : ""}`;
  }
  return { text, fields };
}

export const monitor: Command = {
  summary: "print a socket's events while it binds/connects",
  help: `Usage: zmq-ts monitor [options]

Creates the socket, binds/connects it, and prints its events (connect, connect:delay,
connect:retry, bind, accept, handshake, handshake:error:*, disconnect, close, ...), one
per line: "<event> <address> [details]", or with --json
{"type":"event","event":"connect","address":"tcp://..."}.

${ENDPOINT_HELP}
      --topic PREFIX         sub socket: subscribe to PREFIX (repeatable; default everything)
      --messages             also print the messages the socket receives
      --event TYPE           only print these events (repeatable)
  -n, --count N              stop after N printed events
  -d, --duration MS          stop after MS (exit 0; with --count not reached: exit 2)
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts monitor --type sub --connect tcp://127.0.0.1:5556 --duration 5000`,
  run: async (args) => {
    const cleanup = new Cleanup();
    try {
      const { values: v, positionals } = parse(args, {
        ...ENDPOINT_OPTIONS, ...SECURITY_OPTIONS,
        topic: { type: "string", multiple: true },
        messages: { type: "boolean" },
        event: { type: "string", multiple: true },
        count: { type: "string", short: "n" },
        duration: { type: "string", short: "d" },
        timeout: { type: "string", short: "T" },
        hex: { type: "boolean", short: "x" },
      });
      if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
      if (v.type === undefined) throw usage("--type is required");
      const count = intOption(v, "count", { min: 1 });
      const duration = intOption(v, "duration") ?? intOption(v, "timeout");
      const known = Object.keys(eventIds).filter((t) => t !== "unknown") as EventType[];
      const wanted = (v.event as string[] | undefined) ?? known.filter((t) => t !== "end");
      for (const w of wanted) if (!known.includes(w as EventType)) throw usage(`unknown event ${JSON.stringify(w)}; one of: ${known.join(" ")}`);
      let printed = 0;
      let reached!: () => void;
      const enough = new Promise<"done">((r) => (reached = () => r("done")));
      const { socket } = await openSocket(v, cleanup, {
        tolerateFailures: true,
        beforeAttach: (s) => {
          for (const type of wanted as EventType[]) {
            s.events.on(type, (event: Event) => {
              if (count !== undefined && printed >= count) return;
              const { text, fields } = describe(event);
              if (out.json) printJson(fields);
              else print(text);
              printed++;
              if (count !== undefined && printed >= count) reached();
            });
          }
          const topics = (v.topic as string[] | undefined) ?? [];
          const sub = s as Subscriber;
          if (typeof sub.subscribe === "function") sub.subscribe(...topics);
          else if (topics.length > 0) throw usage("--topic needs a sub socket");
        },
      });
      if (v.messages && socket.readable !== undefined) {
        void (async () => {
          try {
            for (;;) printMessage(await socket.receive(), { hex: Boolean(v.hex), separator: "\t" }, { });
          } catch {
            // closed, or a type that cannot receive
          }
        })();
      }
      const sig = interrupted();
      let timer: NodeJS.Timeout | undefined;
      const stop = duration === undefined ? new Promise<never>(() => {}) : new Promise<"time">((r) => (timer = setTimeout(() => r("time"), duration)));
      try {
        const why = await guarded(Promise.race([enough, stop]), new Promise<never>(() => {}), sig.promise);
        if (why === "time" && count !== undefined && printed < count) {
          throw new CliError(EXIT_TIMEOUT, `saw ${printed} of ${count} events in ${duration} ms`);
        }
        return EXIT_OK;
      } finally {
        clearTimeout(timer);
        sig.dispose();
      }
    } finally {
      await cleanup.run();
    }
  },
};

// ---- keygen ---------------------------------------------------------------------------------

export const keygen: Command = {
  summary: "make a CURVE key pair (Z85), optionally as certificate files",
  help: `Usage: zmq-ts keygen [--cert DIR NAME] [--metadata KEY=VALUE ...]

Prints a new CURVE key pair, each key 40 Z85 characters:
  public-key: <key>
  secret-key: <key>
or with --json {"type":"keypair","publicKey":"...","secretKey":"..."}.
With --cert DIR NAME, writes DIR/NAME.key (public) and DIR/NAME.key_secret (mode 0600)
in the ZPL format pyzmq and czmq read, and prints their paths too.

Options:
      --cert DIR             write certificate files into DIR (created if missing)
      --metadata KEY=VALUE   certificate metadata (repeatable)
${GLOBAL_HELP}
${EXIT_HELP}`,
  run: async (args) => {
    const { values: v, positionals } = parse(args, { cert: { type: "string" }, metadata: { type: "string", multiple: true } });
    const metadata: Record<string, string> = {};
    for (const m of (v.metadata as string[] | undefined) ?? []) {
      const eq = m.indexOf("=");
      if (eq <= 0) throw usage(`--metadata wants KEY=VALUE, got ${JSON.stringify(m)}`);
      metadata[m.slice(0, eq)] = m.slice(eq + 1);
    }
    if (v.cert === undefined) {
      if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])} (NAME goes with --cert DIR)`);
      if (Object.keys(metadata).length > 0) throw usage("--metadata goes with --cert");
      const { publicKey, secretKey } = curveKeyPair();
      if (out.json) printJson({ type: "keypair", publicKey, secretKey });
      else print(`public-key: ${publicKey}\nsecret-key: ${secretKey}`);
      return EXIT_OK;
    }
    if (positionals.length !== 1) throw usage("--cert DIR needs one NAME: zmq-ts keygen --cert DIR NAME");
    const dir = v.cert as string;
    const name = positionals[0]!;
    if (name === "" || /[\\/]/.test(name)) throw usage(`bad certificate name ${JSON.stringify(name)}`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new CliError(EXIT_USAGE, `cannot create ${dir}: ${(e as Error).message}`);
    }
    const c = createCertificates(dir, name, Object.keys(metadata).length > 0 ? metadata : undefined);
    if (out.json) printJson({ type: "keypair", publicKey: c.publicKey, secretKey: c.secretKey, publicFile: c.publicFile, secretFile: c.secretFile });
    else print(`public-key: ${c.publicKey}\nsecret-key: ${c.secretKey}\npublic-file: ${c.publicFile}\nsecret-file: ${c.secretFile}`);
    return EXIT_OK;
  },
};

// ---- bench ----------------------------------------------------------------------------------

/** The zmq-ts source checkout holding bench/run.ts, looked for above the CLI script and the working directory. */
function findBenchScript(): string | null {
  const starts = [process.argv[1] ? dirname(resolve(process.argv[1])) : null, process.cwd()];
  for (const start of starts) {
    let dir = start;
    while (dir) {
      const pkg = join(dir, "package.json");
      if (existsSync(pkg)) {
        try {
          if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "zmq-ts" && existsSync(join(dir, "bench", "run.ts"))) {
            return join(dir, "bench", "run.ts");
          }
        } catch {
          // not ours
        }
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return null;
}

async function builtinBench(size: number, seconds: number): Promise<number> {
  const push = new Push({ linger: 0, sendHighWaterMark: 10000 });
  const pull = new Pull({ linger: 0, receiveHighWaterMark: 10000 });
  const sig = interrupted();
  try {
    await push.bind("tcp://127.0.0.1:*");
    pull.connect(push.lastEndpoint!);
    const payload = Buffer.alloc(size, 0x61);
    let sending = true;
    const sender = (async () => {
      while (sending) await push.send(payload);
    })().catch(() => {});
    // Warm up: the first message, so connecting is not measured.
    await pull.receive();
    const progress = new Progress("received", true);
    const start = performance.now();
    const end = start + seconds * 1000;
    let stopped = false;
    void sig.promise.then(() => (stopped = true));
    while (!stopped && performance.now() < end) {
      await pull.receive();
      progress.count++;
      progress.bytes += size;
    }
    const elapsed = (performance.now() - start) / 1000;
    progress.stop();
    sending = false;
    const rate = progress.count / elapsed;
    const mb = progress.bytes / 1e6 / elapsed;
    if (out.json) {
      printJson({ type: "bench", transport: "tcp", pattern: "push/pull", size, messages: progress.count, seconds: +elapsed.toFixed(3), msgPerSec: Math.round(rate), mbPerSec: +mb.toFixed(2) });
    } else {
      print(`push/pull tcp ${size} B: ${Math.round(rate)} msg/s, ${mb.toFixed(2)} MB/s (${progress.count} messages in ${elapsed.toFixed(2)} s)`);
    }
    push.close();
    pull.close();
    await sender;
    return EXIT_OK;
  } finally {
    sig.dispose();
    if (!push.closed) push.close();
    if (!pull.closed) pull.close();
  }
}

export const bench: Command = {
  summary: "throughput benchmark (bench/run.ts in a checkout, else built-in push/pull over tcp)",
  help: `Usage: zmq-ts bench [--size BYTES] [--seconds S] [--builtin] [-- BENCH-ARGS...]

In a zmq-ts source checkout (bench/run.ts next to package.json) runs the full benchmark
(node --import tsx bench/run.ts BENCH-ARGS, e.g. -- --quick). Otherwise, or with
--builtin, --size or --seconds, runs a small built-in one: push -> pull over loopback tcp
in this process, printing the rate on stderr every second and the result on stdout.

Options:
      --size BYTES           message size (default 16)
      --seconds S            how long to measure (default 3)
      --builtin              the built-in benchmark even in a checkout
${GLOBAL_HELP}
${EXIT_HELP}`,
  run: async (args) => {
    const { values: v, positionals } = parse(args, {
      size: { type: "string" }, seconds: { type: "string" }, builtin: { type: "boolean" },
    });
    const size = intOption(v, "size") ?? 16;
    const seconds = numberOption(v, "seconds") ?? 3;
    if (seconds <= 0) throw usage("--seconds must be more than 0");
    const script = v.builtin || v.size !== undefined || v.seconds !== undefined ? null : findBenchScript();
    if (script === null) {
      if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
      return builtinBench(size, seconds);
    }
    info("bench", `running ${script}`, { script });
    const child = spawn(process.execPath, ["--import", "tsx", script, ...positionals], { cwd: dirname(dirname(script)), stdio: "inherit" });
    const sig = interrupted();
    try {
      const code = await new Promise<number>((resolveCode, reject) => {
        child.once("error", reject);
        child.once("exit", (c, s) => resolveCode(c ?? (s ? 130 : 3)));
        void sig.promise.then(() => child.kill("SIGINT"));
      });
      return code;
    } finally {
      sig.dispose();
    }
  },
};
