/**
 * The benchmark: zmq-ts (../src) against zeromq.js (the npm `zeromq` package, native
 * libzmq 4.3.5) and the raw-socket ceiling (plain node:net streams carrying length-
 * prefixed messages, written in batches, with the same await pattern: bench/raw.ts), all
 * measured in this one run, with the ratios and the targets.
 *
 *   npm run bench                          # everything, 3 rounds, medians (about 8-10 minutes on 2 cores)
 *   npm run bench -- --quick               # short windows, one round (under 2 minutes; a smoke test:
 *                                          # its numbers are dominated by start-up effects)
 *   npm run bench -- --only=tcp/16B,reqrep # cases whose id contains any of these
 *   npm run bench -- --lib=ours            # only these libraries (ours, zeromq, raw)
 *   npm run bench -- --repeat=5            # rounds (default 3, --quick 1); the table shows each cell's median
 *   npm run bench -- --cpu-prof            # profile the measuring process of each case (bench/profiles/),
 *                                          # print the top functions by self time inside the measured window
 *   npm run bench -- --print-specs         # print each case's CaseSpec JSON (for bench/case.ts) and stop
 *   npm run bench -- --out=file.json       # where the JSON goes
 *
 * The JSON goes to bench/results.json (a full run), bench/results-quick.json (--quick)
 * or bench/results-partial.json (--only / --lib), unless --out says otherwise. A full run
 * (no --only, --lib or --quick) also writes docs/BENCHMARKS.md (the tables) and
 * docs/bench.svg (the chart); the README's figures are copied from there.
 *
 * Over tcp and ipc every case runs in two fresh processes (bench/case.ts), the binding
 * side and the connecting side, as real peers would; inproc and the memory case run in
 * one. One case at a time, never two at once; the libraries alternate within each round.
 * Cases:
 *   PUSH->PULL throughput at 16 B .. 1 MiB over tcp and ipc; inproc 16 B (no raw line);
 *   PUB->1 SUB and PUB->4 SUB 16 B tcp (messages/s delivered to each subscriber, and what
 *   the PUB dropped, from sequence numbers; raw: one writer fanning out to the streams,
 *   lossless); DEALER->ROUTER 16 B tcp (raw: the PUSH/PULL ceiling); REQ/REP 16 B tcp
 *   round-trip latency (raw: ping-pong); CURVE PUSH->PULL 1 KiB tcp (no raw line);
 *   scale: one ROUTER echoing for 1,000 DEALERs (tcp), an XPUB whose SUB holds 10,000
 *   subscriptions (tcp, messages cycling through the topics), and memory while 10 million
 *   16 B messages stream through a tcp PUSH/PULL pair (ours only, one process).
 * Throughput is counted at the receiver, after a warm-up (500 ms or N messages, whichever
 * first, from the first message), over a window bounded by time (1.5 s) and by message
 * count. MB/s is payload bytes, 1 MB = 1e6 bytes. Our library and the raw line are
 * single-threaded per process; zeromq.js moves bytes on libzmq's I/O thread as well.
 * The "cpu %" column is the measuring process's CPU over the window (all threads): on
 * this 2-core machine, a single-threaded case well under 100 did not get a whole core.
 */
import { spawn, execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem, platform, release, arch } from "node:os";
import { writeFileSync, mkdirSync, readFileSync, readdirSync, statSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { summarise, format as formatProfile } from "./profile-top.js";
import { ENDPOINT_PREFIX, RESULT_PREFIX, sizeLabel, type CaseResult, type CaseSpec, type Kind, type Lib, type PeerInfo, type Role, type Transport } from "./spec.js";
import { chart } from "./chart.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

// ---- flags ----------------------------------------------------------------------------

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const known = ["quick", "cpu-prof", "print-specs", "only", "lib", "out", "repeat", "help"];
for (const a of args) {
  const name = a.replace(/^--/, "").replace(/=.*/, "");
  if (!a.startsWith("--") || !known.includes(name)) {
    console.error(`unknown argument ${a}; known: ${known.map((k) => `--${k}`).join(" ")}`);
    process.exit(2);
  }
}
if (flag("help")) {
  console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0]);
  process.exit(0);
}
const QUICK = flag("quick");
const ONLY = value("only")?.split(",").filter(Boolean) ?? [];
const LIBS = (value("lib")?.split(",").filter(Boolean) ?? ["ours", "zeromq", "raw"]) as Lib[];
const CPU_PROF = flag("cpu-prof");
const REPEAT = Math.max(1, Math.floor(Number(value("repeat") ?? (QUICK ? 1 : 3))));
const OUT = value("out") ?? join(here, QUICK ? "results-quick.json" : ONLY.length || value("lib") ? "results-partial.json" : "results.json");

// ---- the cases ------------------------------------------------------------------------

const SIZES = [16, 256, 4096, 65536, 1 << 20];
const ALL_LIBS: Lib[] = ["ours", "zeromq", "raw"];

interface Line {
  id: string;
  kind: Kind;
  transport: Transport;
  size: number;
  libs: Lib[];
  subscribers?: number;
  dealers?: number;
  topics?: number;
  /** Which library's line stands in as the raw ceiling, when raw runs another shape. */
  title: string;
}

function windowFor(kind: Kind, size: number): Pick<CaseSpec, "warmMsgs" | "warmMs" | "maxMsgs" | "timeMs"> {
  const scale = QUICK ? 0.1 : 1;
  if (kind === "memory") return { warmMsgs: 10_000, warmMs: 0, maxMsgs: QUICK ? 200_000 : 10_000_000, timeMs: 0 };
  if (kind === "reqrep") return { warmMsgs: 2000, warmMs: QUICK ? 50 : 500, maxMsgs: Math.round(200_000 * scale), timeMs: QUICK ? 250 : 1500 };
  const max = size <= 16 ? 20_000_000 : size <= 256 ? 10_000_000 : size <= 4096 ? 2_000_000 : size <= 65536 ? 100_000 : 6000;
  const warm = size <= 4096 ? 20_000 : size <= 65536 ? 1000 : 60;
  return {
    warmMsgs: Math.max(10, Math.round(warm * scale)),
    warmMs: QUICK ? 50 : 500,
    maxMsgs: Math.max(100, Math.round(max * scale)),
    timeMs: QUICK ? 250 : 1500,
  };
}

function lines(): Line[] {
  const out: Line[] = [];
  for (const t of ["tcp", "ipc"] as const) {
    for (const size of SIZES) {
      out.push({ id: `pushpull/${t}/${sizeLabel(size)}`, kind: "pushpull", transport: t, size, libs: ALL_LIBS, title: `PUSH→PULL ${t} ${sizeLabel(size)}` });
    }
  }
  out.push({ id: "pushpull/inproc/16B", kind: "pushpull", transport: "inproc", size: 16, libs: ["ours", "zeromq"], title: "PUSH→PULL inproc 16B" });
  out.push({ id: "pubsub1/tcp/16B", kind: "pubsub", transport: "tcp", size: 16, libs: ALL_LIBS, subscribers: 1, title: "PUB→SUB tcp 16B" });
  out.push({ id: "pubsub4/tcp/16B", kind: "pubsub", transport: "tcp", size: 16, libs: ALL_LIBS, subscribers: 4, title: "PUB→4×SUB tcp 16B (per sub)" });
  out.push({ id: "dealer-router/tcp/16B", kind: "dealer-router", transport: "tcp", size: 16, libs: ALL_LIBS, title: "DEALER→ROUTER tcp 16B" });
  out.push({ id: "reqrep/tcp/16B", kind: "reqrep", transport: "tcp", size: 16, libs: ALL_LIBS, title: "REQ/REP tcp 16B round trip" });
  out.push({ id: "curve/tcp/1KiB", kind: "curve", transport: "tcp", size: 1024, libs: ["ours", "zeromq"], title: "CURVE PUSH→PULL tcp 1KiB" });
  out.push({ id: "router-fanin/tcp/16B", kind: "router-fanin", transport: "tcp", size: 16, libs: ["ours", "zeromq"], dealers: 1000, title: "ROUTER echoing for 1,000 DEALERs tcp 16B" });
  out.push({ id: "xpub-topics/tcp/16B", kind: "xpub-topics", transport: "tcp", size: 16, libs: ["ours", "zeromq"], topics: 10_000, title: "XPUB→SUB with 10,000 subscriptions tcp 16B" });
  out.push({ id: "memory/tcp/16B", kind: "memory", transport: "tcp", size: 16, libs: ["ours"], title: `memory, ${QUICK ? "200k" : "10M"} × 16B tcp PUSH/PULL` });
  return out;
}

function specFor(line: Line, lib: Lib): CaseSpec {
  // The raw ceiling for DEALER->ROUTER is the plain stream (no envelope): PUSH/PULL's shape.
  const kind: Kind = lib === "raw" && line.kind === "dealer-router" ? "pushpull" : line.kind;
  return {
    id: line.id,
    kind,
    transport: line.transport,
    size: line.size,
    lib,
    ...(line.subscribers ? { subscribers: line.subscribers } : {}),
    ...(line.dealers ? { dealers: line.dealers } : {}),
    ...(line.topics ? { topics: line.topics } : {}),
    ...windowFor(line.kind, line.size),
  };
}

const selected = lines()
  .filter((l) => ONLY.length === 0 || ONLY.some((f) => l.id.includes(f) || l.title.includes(f)))
  .map((l) => ({ ...l, libs: l.libs.filter((x) => LIBS.includes(x)) }))
  .filter((l) => l.libs.length > 0);

if (flag("print-specs")) {
  for (const l of selected) for (const lib of l.libs) console.log(JSON.stringify(specFor(l, lib)));
  process.exit(0);
}
if (selected.length === 0) {
  console.error(`no case matches --only=${ONLY.join(",")} --lib=${LIBS.join(",")}`);
  process.exit(2);
}

// ---- running children -----------------------------------------------------------------

/** Where a child's profiles go: one directory per case, since --cpu-prof writes a file
 * per thread (the main thread, and tsx's module-loader thread). */
const profileDir = (spec: CaseSpec, role: Role = spec.role ?? "both") => join(here, "profiles", `${spec.id.replace(/\//g, "_")}.${spec.lib}.${role}`);

/** The main thread's profile: the one whose call frames include bench/case.ts itself. */
function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const marker = JSON.stringify(pathToFileURL(join(here, "case.ts")).href);
  return files.find((f) => readFileSync(f, "utf8").includes(`"url":${marker}`)) ?? files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

/** Split cases: which side measures (and so prints the result, and is profiled). */
const measuringRole = (kind: Kind): Role => (kind === "pubsub" || kind === "xpub-topics" || kind === "reqrep" ? "connect" : "bind");

interface Child {
  /** Resolves with the first line that starts with `prefix` (its rest), or rejects on exit. */
  line(prefix: string): Promise<string>;
  stderr(): string;
  kill(graceMs?: number): Promise<void>;
}

function startChild(spec: CaseSpec, profile: boolean): Child {
  const nodeArgs = ["--expose-gc", "--import", "tsx"];
  if (profile) {
    const dir = profileDir(spec);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  const child = spawn(process.execPath, [...nodeArgs, join(here, "case.ts"), JSON.stringify(spec)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let exited = false;
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on("data", (d: Buffer) => ((out += d.toString()), poke()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const closed = new Promise<void>((r) => child.on("close", () => ((exited = true), poke(), r())));
  return {
    async line(prefix) {
      for (;;) {
        const at = out.indexOf(prefix);
        const eol = at >= 0 ? out.indexOf("\n", at) : -1;
        if (eol >= 0) return out.slice(at + prefix.length, eol);
        if (exited) throw new Error(`exited without a ${prefix.trim()} line${err ? `: ${err.slice(-2000)}` : ""}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    stderr: () => err,
    async kill(graceMs = 0) {
      if (exited) return;
      // The measuring side exits by itself after its result (and --cpu-prof writes its
      // profile only on a normal exit): give it graceMs. The other side runs until ended.
      const term = setTimeout(() => child.kill("SIGTERM"), graceMs);
      const hard = setTimeout(() => child.kill("SIGKILL"), graceMs + 3000);
      await closed;
      clearTimeout(term);
      clearTimeout(hard);
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

/** One case of one library: in one process (inproc, memory) or two (tcp, ipc). */
async function runCase(spec: CaseSpec): Promise<CaseResult> {
  // Start-up (two processes with tsx), the window, the watchdog's grace, slack; the
  // memory case streams a fixed count instead of a window.
  const budget = 30_000 + spec.warmMs + spec.timeMs + (spec.kind === "memory" ? 120_000 : 0);
  const split = spec.transport !== "inproc" && spec.kind !== "memory";
  const children: Child[] = [];
  let measurer: Child | null = null;
  try {
    if (!split) {
      measurer = startChild({ ...spec, role: "both" }, CPU_PROF);
      children.push(measurer);
    } else {
      const measures = measuringRole(spec.kind);
      const binder = startChild({ ...spec, role: "bind" }, CPU_PROF);
      children.push(binder);
      const peer = JSON.parse(await withTimeout(binder.line(ENDPOINT_PREFIX), 20_000, "the binding side's endpoint")) as PeerInfo;
      const connector = startChild({ ...spec, role: "connect", peer }, CPU_PROF);
      children.push(connector);
      measurer = measures === "bind" ? binder : connector;
      // If the other side dies first, say so instead of waiting for the budget.
      const other = measures === "bind" ? connector : binder;
      void other.line(RESULT_PREFIX).catch(() => {});
    }
    const line = await withTimeout(measurer!.line(RESULT_PREFIX), budget, "the result");
    return JSON.parse(line) as CaseResult;
  } catch (e) {
    const err = children.map((c) => c.stderr()).filter(Boolean).join("\n---\n");
    return { id: spec.id, lib: spec.lib, ok: false, error: `${e instanceof Error ? e.message : String(e)}${err ? `\n${err.slice(-2000)}` : ""}` };
  } finally {
    await Promise.all(children.map((c) => c.kill(c === measurer ? 5000 : 0)));
  }
}

function describe(r: CaseResult): string {
  if (!r.ok) return `FAILED: ${(r.error ?? "").split("\n")[0]}`;
  if (r.memory) return `${fmtBytes(r.memory.afterGc.rss - r.memory.before.rss)} RSS growth, ${fmtRate(r.msgPerSec!)} msg/s`;
  const cpu = r.cpu ? `, cpu ${r.cpu.userPct.toFixed(0)}% user + ${r.cpu.sysPct.toFixed(0)}% sys` : "";
  if (r.p50Us !== undefined) return `p50 ${r.p50Us.toFixed(1)} µs, p99 ${r.p99Us!.toFixed(1)} µs (${r.msgs} round trips${cpu})`;
  const loss = r.lossFraction !== undefined ? `, ${fmtLoss(r.lossFraction)} lost` : "";
  return `${fmtRate(r.msgPerSec!)} msg/s, ${r.mbPerSec!.toFixed(1)} MB/s${loss} (${r.msgs} msgs in ${r.seconds!.toFixed(2)} s${cpu})${r.stalled ? " STALLED" : ""}`;
}

// ---- formatting -----------------------------------------------------------------------

function fmtRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}
function fmtBytes(b: number): string {
  const sign = b < 0 ? "-" : "";
  const a = Math.abs(b);
  if (a >= 1 << 20) return `${sign}${(a / (1 << 20)).toFixed(1)} MiB`;
  if (a >= 1024) return `${sign}${(a / 1024).toFixed(1)} KiB`;
  return `${sign}${a} B`;
}
function fmtLoss(f: number): string {
  return f === 0 ? "0%" : f < 0.001 ? `${(f * 100).toFixed(3)}%` : `${(f * 100).toFixed(1)}%`;
}
function cell(r: CaseResult | undefined): string {
  if (!r) return "—";
  if (!r.ok) return "failed";
  if (r.p50Us !== undefined) return `${r.p50Us.toFixed(1)} / ${r.p99Us!.toFixed(1)} µs`;
  let s = `${fmtRate(r.msgPerSec!)}/s · ${r.mbPerSec! >= 100 ? r.mbPerSec!.toFixed(0) : r.mbPerSec!.toFixed(1)} MB/s`;
  if (r.lossFraction !== undefined) s += ` · ${fmtLoss(r.lossFraction)} lost`;
  if ((r.id.startsWith("router-fanin") || r.id.startsWith("xpub-topics")) && r.maxRss) s += ` · peak RSS ${fmtBytes(r.maxRss)}`;
  return r.stalled ? `${s} (stalled)` : s;
}
/** CPU (user + sys, all threads) over the window, % of one core: below ~90 the case did not get a whole core. */
const cpuPct = (r: CaseResult | undefined) => (r?.cpu ? (r.cpu.userPct + r.cpu.sysPct).toFixed(0) : "—");
const ratio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`);

interface Target {
  text: string;
  check(vsZmq: number | undefined, vsRaw: number | undefined): boolean | undefined;
}
function targetFor(l: Line): Target | undefined {
  const all = (...c: (boolean | undefined)[]) => (c.some((x) => x === undefined) ? undefined : c.every(Boolean));
  if (l.kind === "pushpull" && l.transport !== "inproc") {
    if (l.size === 16) return { text: "≥10x zmq, ≥0.5x raw", check: (z, r) => all(z === undefined ? undefined : z >= 10, r === undefined ? undefined : r >= 0.5) };
    if (l.size <= 4096) return { text: "≥0.5x raw", check: (_z, r) => (r === undefined ? undefined : r >= 0.5) };
    return { text: "≥0.9x raw, ≥1x zmq", check: (z, r) => all(z === undefined ? undefined : z >= 1, r === undefined ? undefined : r >= 0.9) };
  }
  if (l.kind === "pushpull") return { text: "≥20x zmq", check: (z) => (z === undefined ? undefined : z >= 20) };
  if ((l.kind === "pubsub" && (l.subscribers ?? 1) === 4) || l.kind === "dealer-router") return { text: "≥5x zmq", check: (z) => (z === undefined ? undefined : z >= 5) };
  if (l.kind === "curve") return { text: "≥1x zmq", check: (z) => (z === undefined ? undefined : z >= 1) };
  if (l.kind === "reqrep") return { text: "p50 ≤0.6x zmq", check: (z) => (z === undefined ? undefined : z <= 0.6) };
  return undefined;
}

// ---- main -----------------------------------------------------------------------------

const cpu = cpus();
const zmqPkg = JSON.parse(readFileSync(join(root, "node_modules/zeromq/package.json"), "utf8")) as { version: string };
const ourPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const direct = ["node", ...process.execArgv, relative(root, fileURLToPath(import.meta.url)), ...args].join(" ");
const command = process.env.npm_lifecycle_event === "bench" ? `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}  (${direct})` : direct;
/** Which source was measured: the commit, and the files under src/ that differ from it (read-only git). */
function sourceState(): string {
  try {
    const git = (...a: string[]) => execFileSync("git", a, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trimEnd();
    const head = git("rev-parse", "--short", "HEAD");
    const dirty = git("status", "--porcelain", "--", "src").split("\n").filter(Boolean).map((l) => l.slice(3));
    return dirty.length ? `${head} + uncommitted changes in ${dirty.join(", ")}` : head;
  } catch {
    return "unknown (no git)";
  }
}

const env = {
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  platform: `${platform()} ${release()} ${arch()}`,
  cpu: `${cpu[0]?.model ?? "?"} × ${cpu.length}`,
  memory: fmtBytes(totalmem()),
  loadavgStart: loadavg().map((x) => x.toFixed(2)).join(" "),
  command,
  ours: `zmq-ts ${ourPkg.version}`,
  zeromq: `zeromq ${zmqPkg.version}`,
  mode: QUICK ? "quick" : "full",
  source: sourceState(),
};

console.log(`# zmq-ts benchmark (${env.mode})`);
console.log(`date ${env.date} · node ${env.node} (V8 ${env.v8}) · ${env.platform}`);
console.log(`cpu ${env.cpu} · ${env.memory} RAM · load average at start ${env.loadavgStart}`);
console.log(`command: ${env.command}`);
console.log(`source: ${env.source}`);
console.log(`${env.ours} vs ${env.zeromq} vs raw node:net; each case in a fresh child process, one at a time\n`);

const t0 = performance.now();
const results: CaseResult[] = [];

const jobs: CaseSpec[] = [];
for (const l of selected) for (const lib of l.libs) jobs.push(specFor(l, lib));

const samples: CaseResult[] = [];
for (let round = 1; round <= REPEAT; round++) {
  if (REPEAT > 1) console.log(`round ${round} of ${REPEAT}`);
  // The memory case streams a fixed 10 million messages: once is enough.
  for (const spec of jobs) if (round === 1 || spec.kind !== "memory") await runJob(spec);
}

/**
 * Each cell is the median of its rounds (by rate, or by p50 for latency); a failed
 * round counts as the worst. With an even count, the lower middle.
 */
function median(rs: CaseResult[]): CaseResult {
  const score = (r: CaseResult) => (!r.ok ? -Infinity : r.p50Us !== undefined ? -r.p50Us : (r.msgPerSec ?? 0));
  const sorted = [...rs].sort((a, b) => score(b) - score(a));
  return sorted[Math.floor((sorted.length - 1) / 2) + ((sorted.length - 1) % 2)]!;
}
for (const spec of jobs) {
  const rs = samples.filter((r) => r.id === spec.id && r.lib === spec.lib);
  if (rs.length) results.push(median(rs));
}

async function runJob(spec: CaseSpec): Promise<void> {
  const started = performance.now();
  const r = await runCase(spec);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  samples.push(r);
  console.log(`  ${r.id.padEnd(24)} ${r.lib.padEnd(6)} ${describe(r)}  [${secs} s]`);
  if (CPU_PROF && r.hrWindowUs) {
    // Both sides of a split case (process.hrtime is one clock for the whole machine).
    const split = spec.transport !== "inproc" && spec.kind !== "memory";
    for (const role of split ? (["bind", "connect"] as const) : (["both"] as const)) {
      try {
        const file = mainThreadProfile(profileDir(spec, role));
        const text = formatProfile(summarise(file, r.hrWindowUs[0], r.hrWindowUs[1], 20));
        const side = role === "both" ? "" : ` (${role === measuringRole(spec.kind) ? "measuring" : "other"} side: ${role})`;
        console.log(`  profile of ${r.id} ${r.lib}${side}, measured window only (${relative(root, file)}):\n${text.replace(/^/gm, "    ")}`);
      } catch (e) {
        console.log(`  (no profile for ${role}: ${String(e)})`);
      }
    }
  }
}

const elapsed = (performance.now() - t0) / 1000;
const find = (id: string, lib: Lib) => results.find((r) => r.id === id && r.lib === lib && r.ok);

// ---- the table ------------------------------------------------------------------------

const rows: string[] = [];
const summary: Record<string, unknown>[] = [];
rows.push("| case | zmq-ts | zeromq.js | raw node:net | ours / zeromq.js | ours / raw | target | met | cpu % ours / zmq / raw |");
rows.push("|---|---|---|---|---|---|---|---|---|");
for (const l of selected) {
  if (l.kind === "memory") continue;
  const o = find(l.id, "ours");
  const z = find(l.id, "zeromq");
  const r = find(l.id, "raw");
  let vsZ: number | undefined;
  let vsR: number | undefined;
  if (l.kind === "reqrep") {
    vsZ = o && z ? o.p50Us! / z.p50Us! : undefined;
    vsR = o && r ? o.p50Us! / r.p50Us! : undefined;
  } else {
    vsZ = o && z ? o.msgPerSec! / z.msgPerSec! : undefined;
    vsR = o && r ? o.msgPerSec! / r.msgPerSec! : undefined;
  }
  const target = targetFor(l);
  const met = target?.check(vsZ, vsR);
  const title = l.kind === "reqrep" ? `${l.title}, p50 / p99` : l.title;
  const hasRaw = lines().find((x) => x.id === l.id)!.libs.includes("raw");
  const rawCell = !hasRaw ? "n/a" : l.kind === "dealer-router" && r ? `${cell(r)} (plain stream)` : cell(r);
  rows.push(
    `| ${title} | ${cell(o)} | ${cell(z)} | ${rawCell} | ${ratio(vsZ)}${l.kind === "reqrep" ? " (p50)" : ""} | ${ratio(vsR)}${l.kind === "reqrep" ? " (p50)" : ""} | ${target?.text ?? ""} | ${met === undefined ? "?" : met ? "yes" : "**no**"} | ${[o, z, r].map(cpuPct).join(" / ")} |`,
  );
  summary.push({ id: l.id, title: l.title, ours: o, zeromq: z, raw: r, oursOverZeromq: vsZ, oursOverRaw: vsR, target: target?.text, met });
}

const mem = find("memory/tcp/16B", "ours");
const memRows: string[] = [];
if (selected.some((l) => l.kind === "memory")) {
  memRows.push("| memory (ours, tcp PUSH/PULL 16B) | before | after (no GC) | after GC | growth (after GC) |");
  memRows.push("|---|---|---|---|---|");
  if (mem?.memory) {
    const m = mem.memory;
    for (const k of ["rss", "heapUsed", "heapTotal", "external", "arrayBuffers"] as const) {
      memRows.push(`| ${k} | ${fmtBytes(m.before[k])} | ${fmtBytes(m.afterNoGc[k])} | ${fmtBytes(m.afterGc[k])} | ${fmtBytes(m.afterGc[k] - m.before[k])} |`);
    }
    memRows.push(`| peak RSS while streaming | ${fmtBytes(m.before.rss)} | ${fmtBytes(m.peakRssDuring)} | | ${fmtBytes(m.peakRssDuring - m.before.rss)} |`);
    if (m.trail?.length) memRows.push(`| RSS at each tenth of the stream | ${m.trail.map(fmtBytes).join(", ")} | | | ${fmtBytes(m.trail[m.trail.length - 1]! - m.trail[0]!)} (last − first tenth) |`);
    memRows.push(`\n${m.messages.toLocaleString("en-US")} messages in ${m.seconds.toFixed(2)} s (${fmtRate(m.messages / m.seconds)} msg/s)`);
  } else {
    memRows.push(`| failed: ${(results.find((x) => x.id === "memory/tcp/16B")?.error ?? "").split("\n")[0]} | | | | |`);
  }
}

/** "Matching stays fast": the XPUB case against the one-subscription PUB/SUB line. */
const scaleNotes: string[] = [];
for (const lib of ["ours", "zeromq"] as const) {
  const x = find("xpub-topics/tcp/16B", lib);
  const one = find("pubsub1/tcp/16B", lib);
  if (x && one) scaleNotes.push(`${lib === "ours" ? "zmq-ts" : "zeromq.js"}: with 10,000 subscriptions the subscriber gets ${((100 * x.msgPerSec!) / one.msgPerSec!).toFixed(0)}% of the one-subscription rate (${fmtRate(x.msgPerSec!)}/s vs ${fmtRate(one.msgPerSec!)}/s).`);
}

const loadEnd = loadavg().map((x) => x.toFixed(2)).join(" ");
const failures = samples.filter((r) => !r.ok);
const text = [
  "",
  `## Results (${env.mode}) — ${env.date}`,
  "",
  `node ${env.node} · ${env.cpu} · ${env.platform} · \`${env.command}\` · source ${env.source}`,
  "",
  `Throughput: messages/s received (per subscriber for PUB/SUB) · payload MB/s · for PUB/SUB, the share of published messages a subscriber never got (a PUB drops at its high-water mark; the raw fan-out is lossless). Latency: round trip p50 / p99.${REPEAT > 1 ? ` Median of ${REPEAT} rounds per cell.` : ""} Over tcp and ipc the two sides run in two processes.`,
  "cpu %: the measuring process's CPU time (user + sys, every thread, so libzmq's I/O thread too) over the window, 100 = one core; well under 100 for a single-threaded case means it was waiting (for the kernel, or for a core taken by another process).",
  "",
  ...rows,
  "",
  ...scaleNotes,
  ...(scaleNotes.length ? [""] : []),
  ...memRows,
  "",
  `took ${elapsed.toFixed(1)} s · load average start ${env.loadavgStart}, end ${loadEnd}${failures.length ? ` · ${failures.length} case(s) FAILED` : ""}`,
].join("\n");
console.log(text);

const json = { env: { ...env, loadavgEnd: loadEnd, seconds: elapsed, repeat: REPEAT }, lines: summary, memory: mem ?? null, results, ...(REPEAT > 1 ? { samples } : {}), table: text };
writeFileSync(OUT, JSON.stringify(json, null, 2) + "\n");
console.log(`\nwrote ${relative(process.cwd(), OUT)}`);
if (!QUICK && ONLY.length === 0 && !value("lib") && !value("out")) {
  const md = join(root, "docs", "BENCHMARKS.md");
  const svg = join(root, "docs", "bench.svg");
  writeFileSync(md, `# Benchmarks\n\nWritten by \`npm run bench\` (bench/run.ts) from its last full run; the chart is [bench.svg](bench.svg). What was tried and what it bought: [PERFORMANCE.md](PERFORMANCE.md).\n\n![throughput, log scale](bench.svg)\n${text}\n`);
  writeFileSync(svg, chart(summary as never, `${env.date.slice(0, 10)} · ${env.cpu} · node ${env.node} · ${env.zeromq}`));
  console.log(`wrote ${relative(process.cwd(), md)} and ${relative(process.cwd(), svg)}`);
}
if (failures.length) {
  for (const f of failures) console.error(`\n${f.id} ${f.lib}: ${f.error}`);
  process.exitCode = 1;
}
