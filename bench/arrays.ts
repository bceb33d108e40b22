/**
 * How long it takes to move a 64 MiB Float64Array with sendArray/receiveArray over
 * inproc, ipc and tcp (sender and receiver in one thread), and between two worker
 * threads (over ipc and tcp), next to a plain memcpy of the same size measured in
 * the same run (Buffer.copy and TypedArray.set into a preallocated array).
 *
 *   node --import tsx bench/arrays.ts [MiB=64] [reps=5]
 *
 * Time is from just before sendArray() to receiveArray() resolving (same thread), or
 * between timestamps taken in the two threads (performance.timeOrigin + now()).
 * The receiver checks the elements after stopping the clock.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import * as zmq from "../src/index.js";
import { sendArray, receiveArray } from "../src/arrays/index.js";

const MIB = Number(process.argv[2] ?? workerData?.mib ?? 64);
const REPS = Number(process.argv[3] ?? 5);
const ELEMENTS = (MIB << 20) / 8;
const WAIT_MS = 60_000;

const now = () => performance.timeOrigin + performance.now();
const valueAt = (i: number, seed: number) => i * 0.5 + seed;

function fill(a: Float64Array, seed: number): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] = valueAt(i, seed);
  return a;
}

function verify(a: Float64Array, seed: number): boolean {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== valueAt(i, seed)) return false;
  return true;
}

function bounded<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const ipcEndpoint = () => `ipc://${join(tmpdir(), `zmq-ts-bench-arrays-${randomBytes(6).toString("hex")}`)}`;

// ---- worker side -----------------------------------------------------------------

interface Role {
  role: "receiver" | "sender";
  endpoint: string;
  mib: number;
}

async function workerMain(): Promise<void> {
  const port = parentPort!;
  const { role, endpoint } = workerData as Role;
  if (role === "receiver") {
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind(endpoint);
    port.on("message", (m: { close?: boolean }) => {
      if (m.close) pull.close();
    });
    port.postMessage({ ready: true, endpoint: pull.lastEndpoint });
    for (;;) {
      let got;
      try {
        got = await receiveArray(pull);
      } catch (e) {
        if (pull.closed) break;
        throw e;
      }
      const at = now();
      port.postMessage({ received: true, at, ok: verify(got.array as Float64Array, Number(got.metadata.seed)), copied: got.copied });
    }
    port.close();
  } else {
    const push = new zmq.Push({ linger: 0 });
    push.connect(endpoint);
    const a = new Float64Array(ELEMENTS);
    port.on("message", (m: { close?: boolean; seed?: number }) => {
      if (m.close) {
        push.close();
        port.close();
        return;
      }
      fill(a, m.seed!);
      const at = now();
      void sendArray(push, a, { metadata: { seed: m.seed } }).then(() => port.postMessage({ sent: true, at }));
    });
    port.postMessage({ ready: true });
  }
}

// ---- main side -------------------------------------------------------------------

function startWorker(data: Role): Worker {
  const api = import.meta.resolve("tsx/esm/api");
  const src =
    `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })` +
    `.catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(src, { eval: true, workerData: data });
}

function message<T extends Record<string, unknown>>(w: Worker, key: string, what: string): Promise<T> {
  return bounded(
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: T) => {
        if (!m[key]) return;
        w.off("message", onMessage);
        w.off("error", reject);
        resolve(m);
      };
      w.on("message", onMessage);
      w.on("error", reject);
    }),
    what,
  );
}

interface Row {
  path: string;
  times: number[];
  note: string;
}

async function timeSameThread(transport: "inproc" | "ipc" | "tcp"): Promise<Row> {
  const push = new zmq.Push({ linger: 0 });
  const pull = new zmq.Pull({ linger: 0 });
  const times: number[] = [];
  let copied = false;
  try {
    const ep = transport === "inproc" ? `inproc://bench-arrays-${randomBytes(4).toString("hex")}` : transport === "ipc" ? ipcEndpoint() : "tcp://127.0.0.1:*";
    await pull.bind(ep);
    push.connect(pull.lastEndpoint!);
    const a = new Float64Array(ELEMENTS);
    for (let rep = 0; rep <= REPS; rep++) {
      fill(a, rep);
      const t0 = now();
      const received = receiveArray(pull);
      await bounded(sendArray(push, a, { metadata: { seed: rep } }), `${transport} send`);
      const got = await bounded(received, `${transport} receive`);
      const t1 = now();
      if (!verify(got.array as Float64Array, rep)) throw new Error(`${transport}: wrong data`);
      if (transport === "inproc" && got.array.buffer !== a.buffer) throw new Error("inproc copied");
      copied ||= got.copied;
      if (rep > 0) times.push(t1 - t0); // rep 0 warms up (and connects)
    }
  } finally {
    push.close();
    pull.close();
  }
  return {
    path: `${transport}, one thread`,
    times,
    note: transport === "inproc" ? "same memory (zero copy)" : copied ? "received copy realigned" : "received frame used in place",
  };
}

async function timeThreads(transport: "ipc" | "tcp"): Promise<Row> {
  const receiver = startWorker({ role: "receiver", endpoint: transport === "ipc" ? ipcEndpoint() : "tcp://127.0.0.1:*", mib: MIB });
  let sender: Worker | undefined;
  const times: number[] = [];
  try {
    const ready = await message<{ endpoint: string }>(receiver, "ready", "receiver ready");
    sender = startWorker({ role: "sender", endpoint: ready.endpoint, mib: MIB });
    await message(sender, "ready", "sender ready");
    for (let rep = 0; rep <= REPS; rep++) {
      const got = message<{ at: number; ok: boolean }>(receiver, "received", `${transport} thread receive`);
      const sent = message<{ at: number }>(sender, "sent", `${transport} thread send`);
      sender.postMessage({ seed: rep });
      const [s, r] = await Promise.all([sent, got]);
      if (!r.ok) throw new Error(`${transport} threads: wrong data`);
      if (rep > 0) times.push(r.at - s.at);
    }
  } finally {
    sender?.postMessage({ close: true });
    receiver.postMessage({ close: true });
    await Promise.all([sender?.terminate(), receiver.terminate()]);
  }
  return { path: `${transport}, worker -> worker`, times, note: "verified in the receiving thread" };
}

/** Context for the socket rows: the same bytes over a bare node:net connection (no ZMTP), assembled into one buffer. */
async function timeRawNet(transport: "ipc" | "tcp"): Promise<Row> {
  const { createServer, connect } = await import("node:net");
  const bytes = MIB << 20;
  const data = Buffer.from(fill(new Float64Array(ELEMENTS), 1).buffer);
  const times: number[] = [];
  const path = join(tmpdir(), `zmq-ts-bench-raw-${randomBytes(6).toString("hex")}`);
  let onDone: ((t1: number) => void) | null = null;
  const server = createServer((s) => {
    let dst = Buffer.allocUnsafe(bytes);
    let got = 0;
    s.on("data", (c: Buffer) => {
      c.copy(dst, got);
      got += c.length;
      if (got === bytes) {
        got = 0;
        dst = Buffer.allocUnsafe(bytes);
        onDone?.(now());
      }
    });
  });
  await new Promise<void>((resolve) => (transport === "ipc" ? server.listen(path, resolve) : server.listen(0, "127.0.0.1", resolve)));
  const address = server.address();
  const client = transport === "ipc" ? connect(path) : connect((address as { port: number }).port, "127.0.0.1");
  try {
    await bounded(new Promise((resolve) => client.once("connect", resolve)), "raw connect");
    for (let rep = 0; rep <= REPS; rep++) {
      const done = new Promise<number>((resolve) => (onDone = resolve));
      const t0 = now();
      client.write(data);
      const t1 = await bounded(done, `raw ${transport}`);
      if (rep > 0) times.push(t1 - t0);
    }
  } finally {
    client.destroy();
    server.close();
  }
  return { path: `node:net bare ${transport}, one thread`, times, note: "no ZMTP: write + copy chunks into one buffer" };
}

function timeMemcpy(): Row[] {
  const src = fill(new Float64Array(ELEMENTS), 1);
  const dst = new Float64Array(ELEMENTS);
  const sb = Buffer.from(src.buffer);
  const db = Buffer.from(dst.buffer);
  const copy: number[] = [];
  const set: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    let t0 = now();
    sb.copy(db);
    let t1 = now();
    if (rep > 0) copy.push(t1 - t0);
    t0 = now();
    dst.set(src);
    t1 = now();
    if (rep > 0) set.push(t1 - t0);
  }
  if (dst[ELEMENTS - 1] !== src[ELEMENTS - 1]) throw new Error("memcpy?");
  return [
    { path: "memcpy: Buffer.copy", times: copy, note: "baseline, preallocated target" },
    { path: "memcpy: Float64Array.set", times: set, note: "baseline, preallocated target" },
  ];
}

function table(rows: Row[], memcpyMs: number): string {
  const stat = (t: number[]) => {
    const s = [...t].sort((a, b) => a - b);
    return { best: s[0]!, median: s[s.length >> 1]! };
  };
  const head = ["path", "best ms", "median ms", "GiB/s (best)", "x memcpy (best)", "note"];
  const body = rows.map((r) => {
    const { best, median } = stat(r.times);
    return [r.path, best.toFixed(3), median.toFixed(3), (MIB / 1024 / (best / 1000)).toFixed(2), (best / memcpyMs).toFixed(2), r.note];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 || i === 5 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  console.log(`# ${MIB} MiB Float64Array, ${REPS} timed reps after 1 warm-up; node ${process.version}, ${process.platform}/${process.arch}\n`);
  const rows: Row[] = [];
  const memcpy = timeMemcpy();
  rows.push(...memcpy);
  for (const t of ["inproc", "ipc", "tcp"] as const) rows.push(await timeSameThread(t));
  for (const t of ["ipc", "tcp"] as const) rows.push(await timeRawNet(t));
  for (const t of ["ipc", "tcp"] as const) rows.push(await timeThreads(t));
  const memcpyBest = Math.min(...memcpy[0]!.times);
  console.log(table(rows, memcpyBest));
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  void workerMain();
}
