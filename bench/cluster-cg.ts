/**
 * The main job's inner loop, timed: conjugate gradients on an n × n grid split by rows
 * across the engines (examples/cluster/cg-tasks.ts: per iteration a halo exchange with
 * the neighbours and 2 scalar allreduces over the mesh).
 *
 *   node --import tsx bench/cluster-cg.ts [--mode inline|process] [--transport inproc|ipc|tcp] [--engines 4] [--n 128] [--repeat 3]
 *
 * Prints µs per iteration (the job's wall time / iterations, median of --repeat runs)
 * and, for inline engines, the CPU of this process per iteration; the engines' own
 * split (compute / halo / allreduce) of the last run.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { LocalCluster, type EngineMode, type Transport } from "../src/cluster/index.js";
import type { SlabResult } from "../examples/cluster/cg-tasks.js";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "inline" },
    transport: { type: "string", default: "" },
    engines: { type: "string", default: "4" },
    n: { type: "string", default: "128" },
    repeat: { type: "string", default: "3" },
  },
});
const mode = values.mode as EngineMode;
const transport = (values.transport || (mode === "inline" ? "inproc" : "ipc")) as Transport;
const n = Number(values.n);
const here = fileURLToPath(new URL(".", import.meta.url));
const SOLVE = `${join(here, "..", "examples", "cluster", "cg-tasks.ts")}#solveSlab`;

const cluster = await LocalCluster.start({
  engines: Number(values.engines), mode, transport, log: false,
  engine: { log: false, ...(mode === "inline" ? { heart: "inline" as const } : {}) },
});
try {
  const client = await cluster.client({ log: false });
  const all = client.view("all");
  await all.apply(SOLVE, { n, tolerance: 1e-8, maxIterations: 5000, progressEvery: 0 }); // warm-up (the JIT, the connections)
  const per: number[] = [];
  const cpu: number[] = [];
  let last: SlabResult[] = [];
  for (let r = 0; r < Number(values.repeat); r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = (await all.apply(SOLVE, { n, tolerance: 1e-8, maxIterations: 5000, progressEvery: 0 })) as SlabResult[];
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const it = Math.max(1, last[0]!.iterations);
    per.push((t * 1000) / it);
    cpu.push((c.user + c.system) / it);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const r0 = last[0]!;
  console.log(`CG n=${n}, ${values.engines} ${mode} engines over ${transport}, ${r0.iterations} iterations, load ${loadavg()[0]!.toFixed(2)}: `
    + `${median(per).toFixed(0)} µs per iteration (runs: ${per.map((x) => x.toFixed(0)).join(", ")})`
    + (mode === "inline" ? `, CPU ${median(cpu).toFixed(0)} µs per iteration` : ""));
  for (const r of last) {
    console.log(`  rank ${r.rank}: compute ${r.ms.compute.toFixed(0)} ms, halo ${r.ms.halo.toFixed(0)} ms, allreduce ${r.ms.allreduce.toFixed(0)} ms, total ${r.ms.total.toFixed(0)} ms`);
  }
} finally {
  await cluster.stop();
}
