/**
 * zmq-ts/cluster against IPython parallel itself (Debian's python3-ipyparallel), same
 * machine, same run, same engine count (4 engine processes, controller in its own
 * process for IPython and in this process for ours), over tcp on 127.0.0.1:
 *
 *   - round-trip latency of one no-op task, one at a time: direct view and load-balanced view
 *   - throughput of no-op tasks through the load-balanced view: N submitted at once,
 *     tasks per second until the last result is in (median of --repeat runs). Both
 *     schedulers keep at most 1 task outstanding per engine (IPython's default hwm).
 *
 *   node --import tsx bench/cluster.ts [--engines 4] [--tasks 5000] [--latency 300] [--repeat 3] [--skip-ipyparallel]
 *
 * Writes bench/cluster-results.json and prints a markdown table.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { LocalCluster, type AsyncResult } from "../src/cluster/index.js";

const { values } = parseArgs({
  options: {
    engines: { type: "string", default: "4" },
    tasks: { type: "string", default: "5000" },
    latency: { type: "string", default: "300" },
    repeat: { type: "string", default: "3" },
    "skip-ipyparallel": { type: "boolean", default: false },
  },
});
const ENGINES = Number(values.engines);
const TASKS = Number(values.tasks);
const LATENCY = Number(values.latency);
const REPEAT = Number(values.repeat);
const here = fileURLToPath(new URL(".", import.meta.url));
const NOOP = `${join(here, "..", "examples", "cluster", "cg-tasks.ts")}#noop`;

interface Figures {
  impl: string;
  engines: number;
  startup_s: number;
  direct_p50_ms: number;
  direct_p99_ms: number;
  lb_p50_ms: number;
  lb_p99_ms: number;
  tasks_per_s: number;
  /** CPU (user + system) per task in the throughput runs, µs: this process (controller + client) and all engines together. */
  cpu_controller_us?: number;
  cpu_engines_us?: number;
}

/** utime + stime of a process, µs (Linux /proc; 0 elsewhere). */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

const pct = (samples: number[], p: number): number => {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))]!;
};

async function ours(): Promise<Figures> {
  const t0 = performance.now();
  const cluster = await LocalCluster.start({ engines: ENGINES, mode: "process", transport: "tcp", log: false, engine: { log: false } });
  const startup = (performance.now() - t0) / 1000;
  try {
    const client = await cluster.client({ log: false });
    const direct = client.view(client.ids[0]!);
    const lb = client.loadBalancedView();
    for (let i = 0; i < 20; i++) {
      await direct.apply(NOOP);
      await lb.apply(NOOP);
    }
    const d: number[] = [];
    const l: number[] = [];
    for (let i = 0; i < LATENCY; i++) {
      const t = performance.now();
      await direct.apply(NOOP);
      d.push(performance.now() - t);
    }
    for (let i = 0; i < LATENCY; i++) {
      const t = performance.now();
      await lb.apply(NOOP);
      l.push(performance.now() - t);
    }
    const rates: number[] = [];
    const pids = cluster.engineIds.map((id) => cluster.engine(id)?.pid ?? 0).filter((p) => p > 0);
    const engineCpu0 = pids.reduce((a, p) => a + processCpuUs(p), 0);
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < REPEAT; r++) {
      const t = performance.now();
      const results: AsyncResult<unknown>[] = [];
      for (let i = 0; i < TASKS; i++) results.push(lb.apply(NOOP));
      await Promise.all(results);
      rates.push(TASKS / ((performance.now() - t) / 1000));
    }
    const cpu = process.cpuUsage(cpu0);
    const engineCpu = pids.reduce((a, p) => a + processCpuUs(p), 0) - engineCpu0;
    return {
      impl: "zmq-ts/cluster", engines: ENGINES, startup_s: startup,
      direct_p50_ms: pct(d, 50), direct_p99_ms: pct(d, 99), lb_p50_ms: pct(l, 50), lb_p99_ms: pct(l, 99),
      tasks_per_s: pct(rates, 50),
      cpu_controller_us: (cpu.user + cpu.system) / (TASKS * REPEAT),
      cpu_engines_us: engineCpu / (TASKS * REPEAT),
    };
  } finally {
    await cluster.stop();
  }
}

function ipyparallel(): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const py = spawn("/usr/bin/python3", [join(here, "cluster-ipyparallel.py"),
      "--engines", String(ENGINES), "--tasks", String(Math.min(TASKS, 2000)), "--latency", String(LATENCY), "--repeat", String(REPEAT)],
    { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    py.stdout.on("data", (d: Buffer) => (out += d.toString()));
    py.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => py.kill("SIGKILL"), 600_000);
    py.on("exit", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(line) as Figures);
      } catch (e) {
        reject(new Error(`ipyparallel bench failed (${(e as Error).message}): ${err.slice(-2000)}`));
      }
    });
  });
}

const started = new Date().toISOString();
const loadStart = loadavg().map((x) => x.toFixed(2)).join(" ");
const a = await ours();
console.error(`zmq-ts/cluster: ${JSON.stringify(a)}`);
const b = values["skip-ipyparallel"] ? null : await ipyparallel().catch((e: Error) => {
  console.error(e.message);
  return null;
});
if (b) console.error(`${b.impl}: ${JSON.stringify(b)}`);

const f2 = (x: number) => x.toFixed(2);
const ratio = (x: number, y: number | undefined) => (y === undefined ? "" : `${(x / y).toFixed(2)}x`);
const rows = [
  `| | zmq-ts/cluster | ${b?.impl ?? "IPython parallel (not run)"} | zmq-ts / IPython |`,
  "|---|---|---|---|",
  `| no-op tasks/s, load-balanced, ${TASKS} at once | ${Math.round(a.tasks_per_s)} | ${b ? Math.round(b.tasks_per_s) : ""} | ${ratio(a.tasks_per_s, b?.tasks_per_s)} |`,
  `| one task round trip, direct, p50 / p99 ms | ${f2(a.direct_p50_ms)} / ${f2(a.direct_p99_ms)} | ${b ? `${f2(b.direct_p50_ms)} / ${f2(b.direct_p99_ms)}` : ""} | ${ratio(a.direct_p50_ms, b?.direct_p50_ms)} (p50) |`,
  `| one task round trip, load-balanced, p50 / p99 ms | ${f2(a.lb_p50_ms)} / ${f2(a.lb_p99_ms)} | ${b ? `${f2(b.lb_p50_ms)} / ${f2(b.lb_p99_ms)}` : ""} | ${ratio(a.lb_p50_ms, b?.lb_p50_ms)} (p50) |`,
  `| CPU per task in the throughput runs, µs: controller + client process / engines | ${Math.round(a.cpu_controller_us ?? 0)} / ${Math.round(a.cpu_engines_us ?? 0)} | | |`,
  `| cluster start (controller + ${ENGINES} engines registered), s | ${f2(a.startup_s)} | ${b ? f2(b.startup_s) : ""} | |`,
];
const text = [
  `### Cluster vs IPython parallel — ${started}`,
  "",
  `${ENGINES} engine processes each, tcp on 127.0.0.1, median of ${REPEAT} throughput runs, latency over ${LATENCY} tasks; load average at start ${loadStart}.`,
  "`node --import tsx bench/cluster.ts`",
  "",
  ...rows,
].join("\n");
console.log(text);
writeFileSync(join(here, "cluster-results.json"), JSON.stringify({ started, engines: ENGINES, tasks: TASKS, repeat: REPEAT, ours: a, ipyparallel: b, table: text }, null, 2) + "\n");
