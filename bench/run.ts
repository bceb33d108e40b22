/**
 * The benchmark: zmq-ts (../src) against zeromq.js (the npm `zeromq` package, native
 * libzmq 4.3.5) and the raw-socket ceiling (plain node:net streams carrying length-
 * prefixed messages with the same await pattern, bench/raw.ts), all measured in this one
 * run, with the ratios and the targets.
 *
 *   npm run bench                          # everything, about 2-3 minutes on 2 cores
 *   npm run bench -- --quick               # short windows, one child per library (< 40 s; a smoke test,
 *                                          # its numbers are dominated by start-up effects)
 *   npm run bench -- --only=tcp/16B,reqrep # cases whose id contains any of these
 *   npm run bench -- --lib=ours            # only these libraries (ours, zeromq, raw)
 *   npm run bench -- --repeat=3            # every case 3 times (in rounds); the table shows the best of each
 *   npm run bench -- --cpu-prof            # profile each child (bench/profiles/), print the top functions
 *                                          # by self time inside the measured window
 *   npm run bench -- --print-specs         # print each case's CaseSpec JSON (for bench/case.ts) and stop
 *   npm run bench -- --out=file.json       # where the JSON goes
 *
 * The JSON goes to bench/results.json (a full run), bench/results-quick.json (--quick)
 * or bench/results-partial.json (--only / --lib), unless --out says otherwise.
 *
 * Each case of each library runs in a fresh child process (bench/case.ts), one at a time,
 * never two at once. Cases:
 *   PUSH->PULL throughput at 16 B .. 1 MiB over tcp and ipc; inproc 16 B (no raw line);
 *   PUB->4 SUB 16 B tcp (messages/s delivered to each subscriber; raw: one writer fanning
 *   out to 4 streams, lossless); DEALER->ROUTER 16 B tcp (raw: the PUSH/PULL ceiling);
 *   REQ/REP 16 B tcp round-trip latency (raw: ping-pong); memory of 1M 16 B messages
 *   through a tcp PUSH/PULL pair (ours only).
 * Throughput is counted at the receiver, after a warm-up (500 ms or N messages, whichever
 * first), over a window bounded by time (1.5 s) and by message count. MB/s is payload
 * bytes, 1 MB = 1e6 bytes. The raw ceiling is single-threaded like us; zeromq.js moves
 * bytes on libzmq's I/O thread, so with large messages it can beat the raw line.
 * The "cpu %" column is the child's CPU over the window (all threads): on a shared
 * machine, a single-threaded case well under 100 did not get a whole core.
 */
import { spawn, execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem, platform, release, arch } from "node:os";
import { writeFileSync, mkdirSync, readFileSync, readdirSync, statSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { summarise, format as formatProfile } from "./profile-top.js";
import { RESULT_PREFIX, sizeLabel, type CaseResult, type CaseSpec, type Kind, type Lib, type Transport } from "./spec.js";

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
const REPEAT = Math.max(1, Math.floor(Number(value("repeat") ?? 1)));
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
  /** Which library's line stands in as the raw ceiling, when raw runs another shape. */
  title: string;
}

function windowFor(kind: Kind, size: number): Pick<CaseSpec, "warmMsgs" | "warmMs" | "maxMsgs" | "timeMs"> {
  const scale = QUICK ? 0.1 : 1;
  if (kind === "memory") return { warmMsgs: 10_000, warmMs: 0, maxMsgs: QUICK ? 100_000 : 1_000_000, timeMs: 0 };
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
  out.push({ id: "pubsub4/tcp/16B", kind: "pubsub", transport: "tcp", size: 16, libs: ALL_LIBS, subscribers: 4, title: "PUB→4×SUB tcp 16B (per sub)" });
  out.push({ id: "dealer-router/tcp/16B", kind: "dealer-router", transport: "tcp", size: 16, libs: ALL_LIBS, title: "DEALER→ROUTER tcp 16B" });
  out.push({ id: "reqrep/tcp/16B", kind: "reqrep", transport: "tcp", size: 16, libs: ALL_LIBS, title: "REQ/REP tcp 16B round trip" });
  out.push({ id: "memory/tcp/16B", kind: "memory", transport: "tcp", size: 16, libs: ["ours"], title: "memory, 1M × 16B tcp PUSH/PULL" });
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

/** Where a child's profiles go: one directory per child, since --cpu-prof writes a file
 * per thread (the main thread, and tsx's module-loader thread). */
const profileDir = (specs: CaseSpec[]) => join(here, "profiles", specs.map((s) => `${s.id.replace(/\//g, "_")}.${s.lib}`).join("+").slice(0, 150));

/** The main thread's profile: the one whose call frames include bench/case.ts itself. */
function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const marker = JSON.stringify(pathToFileURL(join(here, "case.ts")).href);
  return files.find((f) => readFileSync(f, "utf8").includes(`"url":${marker}`)) ?? files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

function runChild(specs: CaseSpec[]): Promise<CaseResult[]> {
  const nodeArgs = ["--expose-gc", "--import", "tsx"];
  if (CPU_PROF) {
    const dir = profileDir(specs);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  // Start-up, plus each case's window and its watchdog grace (4 s), plus slack; the
  // memory case has no window (it streams a fixed count).
  const budget = 15_000 + specs.reduce((a, s) => a + s.warmMs + s.timeMs + 8_000 + (s.kind === "memory" ? 60_000 : 0), 0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, join(here, "case.ts"), JSON.stringify(specs)], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), budget);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const got = new Map<string, CaseResult>();
      for (const line of stdout.split("\n")) {
        if (!line.startsWith(RESULT_PREFIX)) continue;
        const r = JSON.parse(line.slice(RESULT_PREFIX.length)) as CaseResult;
        got.set(`${r.id} ${r.lib}`, r);
      }
      resolve(
        specs.map(
          (s) =>
            got.get(`${s.id} ${s.lib}`) ?? {
              id: s.id,
              lib: s.lib,
              ok: false,
              error: `child exited (code ${String(code)}, signal ${String(signal)}) without a result${stderr ? `: ${stderr.slice(-2000)}` : ""}`,
            },
        ),
      );
    });
  });
}

function describe(r: CaseResult): string {
  if (!r.ok) return `FAILED: ${(r.error ?? "").split("\n")[0]}`;
  if (r.memory) return `${fmtBytes(r.memory.afterGc.rss - r.memory.before.rss)} RSS growth, ${fmtRate(r.msgPerSec!)} msg/s`;
  const cpu = r.cpu ? `, cpu ${r.cpu.userPct.toFixed(0)}% user + ${r.cpu.sysPct.toFixed(0)}% sys` : "";
  if (r.p50Us !== undefined) return `p50 ${r.p50Us.toFixed(1)} µs, p99 ${r.p99Us!.toFixed(1)} µs (${r.msgs} round trips${cpu})`;
  return `${fmtRate(r.msgPerSec!)} msg/s, ${r.mbPerSec!.toFixed(1)} MB/s (${r.msgs} msgs in ${r.seconds!.toFixed(2)} s${cpu})${r.stalled ? " STALLED" : ""}`;
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
function cell(r: CaseResult | undefined): string {
  if (!r) return "—";
  if (!r.ok) return "failed";
  if (r.p50Us !== undefined) return `${r.p50Us.toFixed(1)} / ${r.p99Us!.toFixed(1)} µs`;
  const s = `${fmtRate(r.msgPerSec!)}/s · ${r.mbPerSec! >= 100 ? r.mbPerSec!.toFixed(0) : r.mbPerSec!.toFixed(1)} MB/s`;
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
  if (l.kind === "pubsub" || l.kind === "dealer-router") return { text: "≥5x zmq", check: (z) => (z === undefined ? undefined : z >= 5) };
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

// Full: one child per case and library. Quick: one child per library, running that
// library's cases one after another (saves the start-up of ~40 processes).
type Job = CaseSpec[];
const jobs: Job[] = [];
if (QUICK) {
  for (const lib of ALL_LIBS) {
    const job = selected.filter((l) => l.libs.includes(lib)).map((l) => specFor(l, lib));
    if (job.length) jobs.push(job);
  }
} else {
  for (const l of selected) for (const lib of l.libs) jobs.push([specFor(l, lib)]);
}

const samples: CaseResult[] = [];
for (let round = 1; round <= REPEAT; round++) {
  if (REPEAT > 1) console.log(`round ${round} of ${REPEAT}`);
  for (const job of jobs) await runJob(job);
}

/** The best of the repeats: the highest rate, or the lowest p50; a success over a failure. */
function better(a: CaseResult, b: CaseResult): boolean {
  if (a.ok !== b.ok) return a.ok;
  if (!a.ok) return false;
  if (a.p50Us !== undefined) return a.p50Us < b.p50Us!;
  return (a.msgPerSec ?? 0) > (b.msgPerSec ?? 0);
}
for (const r of samples) {
  const i = results.findIndex((x) => x.id === r.id && x.lib === r.lib);
  if (i < 0) results.push(r);
  else if (better(r, results[i]!)) results[i] = r;
}

async function runJob(job: Job): Promise<void> {
  const started = performance.now();
  const rs = await runChild(job);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  for (const r of rs) {
    samples.push(r);
    console.log(`  ${r.id.padEnd(22)} ${r.lib.padEnd(6)} ${describe(r)}${rs.length === 1 ? `  [${secs} s]` : ""}`);
  }
  if (rs.length > 1) console.log(`  (${rs.length} cases in one child, ${secs} s)`);
  if (CPU_PROF) {
    for (const r of rs) {
      if (!r.hrWindowUs) continue;
      try {
        const file = mainThreadProfile(profileDir(job));
        const text = formatProfile(summarise(file, r.hrWindowUs[0], r.hrWindowUs[1], 20));
        console.log(`  profile of ${r.id} ${r.lib}, measured window only (${relative(root, file)}):\n${text.replace(/^/gm, "    ")}`);
      } catch (e) {
        console.log(`  (no profile: ${String(e)})`);
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
  const rawCell = l.kind === "dealer-router" && r ? `${cell(r)} (plain stream)` : l.libs.includes("raw") || LIBS.includes("raw") ? cell(r) : "n/a";
  rows.push(
    `| ${title} | ${cell(o)} | ${cell(z)} | ${l.transport === "inproc" ? "n/a" : rawCell} | ${ratio(vsZ)}${l.kind === "reqrep" ? " (p50)" : ""} | ${ratio(vsR)}${l.kind === "reqrep" ? " (p50)" : ""} | ${target?.text ?? ""} | ${met === undefined ? "?" : met ? "yes" : "**no**"} | ${[o, z, r].map(cpuPct).join(" / ")} |`,
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
    memRows.push(`\n${m.messages.toLocaleString("en-US")} messages in ${m.seconds.toFixed(2)} s (${fmtRate(m.messages / m.seconds)} msg/s)`);
  } else {
    memRows.push(`| failed: ${(results.find((x) => x.id === "memory/tcp/16B")?.error ?? "").split("\n")[0]} | | | | |`);
  }
}

const loadEnd = loadavg().map((x) => x.toFixed(2)).join(" ");
const failures = samples.filter((r) => !r.ok);
const text = [
  "",
  `## Results (${env.mode}) — ${env.date}`,
  "",
  `node ${env.node} · ${env.cpu} · ${env.platform} · \`${env.command}\` · source ${env.source}`,
  "",
  `Throughput: messages/s received (per subscriber for PUB/SUB) · payload MB/s. Latency: round trip p50 / p99.${REPEAT > 1 ? ` Best of ${REPEAT} runs per cell.` : ""}`,
  "cpu %: the child's CPU time (user + sys, every thread, so libzmq's I/O thread too) over the window, 100 = one core; well under 100 for a single-threaded case means it was waiting (for the kernel, or for a core taken by another process).",
  "",
  ...rows,
  "",
  ...memRows,
  "",
  `took ${elapsed.toFixed(1)} s · load average start ${env.loadavgStart}, end ${loadEnd}${failures.length ? ` · ${failures.length} case(s) FAILED` : ""}`,
].join("\n");
console.log(text);

const json = { env: { ...env, loadavgEnd: loadEnd, seconds: elapsed, repeat: REPEAT }, lines: summary, memory: mem ?? null, results, ...(REPEAT > 1 ? { samples } : {}), table: text };
writeFileSync(OUT, JSON.stringify(json, null, 2) + "\n");
console.log(`\nwrote ${relative(process.cwd(), OUT)}`);
if (failures.length) {
  for (const f of failures) console.error(`\n${f.id} ${f.lib}: ${f.error}`);
  process.exitCode = 1;
}
