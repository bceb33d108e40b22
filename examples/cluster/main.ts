/**
 * The main job (`npm start`): a local cluster — a controller and 4 engines, each engine
 * its own process — solves the 2-D Poisson equation by conjugate gradients, the grid
 * split by rows across the engines. The engines talk to each other directly: a halo
 * exchange with their neighbours and two allreduces per iteration, over the mesh; the
 * client only starts the job, shows rank 0's progress (published on iopub) and prints
 * the result. Then everything is shut down.
 *
 *   node dist/examples/cluster/main.js [--engines 4] [--n 256] [--transport ipc|tcp] [--tolerance 1e-8]
 */
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LocalCluster, type Transport } from "../../src/cluster/index.js";
import type { SlabResult } from "./cg-tasks.js";

const { values } = parseArgs({
  options: {
    engines: { type: "string", default: "4" },
    n: { type: "string", default: "256" },
    transport: { type: "string", default: "ipc" },
    tolerance: { type: "string", default: "1e-8" },
    "max-iterations": { type: "string", default: "5000" },
  },
});
const engines = Number(values.engines);
const n = Number(values.n);
const transport = values.transport as Transport;
const tolerance = Number(values.tolerance);
const maxIterations = Number(values["max-iterations"]);

// The engines load the task module by path: the .ts source under tsx, the .js in dist.
const own = fileURLToPath(import.meta.url);
const tasks = fileURLToPath(new URL(`./cg-tasks${extname(own)}`, import.meta.url));

const tty = process.stdout.isTTY === true;
const ms = (t: number) => `${t.toFixed(t < 10 ? 2 : 0)} ms`;

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`cluster: starting a controller and ${engines} engine processes over ${transport}`);
  const cluster = await LocalCluster.start({ engines, mode: "process", transport, log: false });
  const started = performance.now() - t0;
  try {
    const client = await cluster.client();
    console.log(`cluster: engines ${client.ids.join(", ")} registered in ${ms(started)}`);
    console.log(`job: conjugate gradients on a ${n} x ${n} grid (${n * n} unknowns), rows split across ${engines} engines`);
    let last = "";
    client.on("data", (ev) => {
      const d = ev.data as { iteration: number; relativeResidual: number };
      last = `progress: iteration ${d.iteration}, relative residual ${d.relativeResidual.toExponential(2)}`;
      if (tty) process.stdout.write(`\r${last}   `);
      else console.log(last);
    });
    const t1 = performance.now();
    const run = client.view("all").apply<SlabResult>(`${tasks}#solveSlab`, { n, tolerance, maxIterations, progressEvery: 50 });
    const results = (await run) as SlabResult[];
    const wall = performance.now() - t1;
    if (tty && last) process.stdout.write("\n");
    const r0 = results[0]!;
    console.log(`result: converged in ${r0.iterations} iterations, relative residual ${r0.relativeResidual.toExponential(2)}, `
      + `max error vs the exact solution ${r0.maxError.toExponential(2)}`);
    console.log("timing (per engine): rows        compute      halo exchange   allreduce    total");
    for (const r of results) {
      console.log(`  engine ${String(r.rank).padEnd(2)}          ${`${r.rows[0]}-${r.rows[1] - 1}`.padEnd(10)}  ${ms(r.ms.compute).padStart(10)}  ${ms(r.ms.halo).padStart(12)}  `
        + `${ms(r.ms.allreduce).padStart(10)}  ${ms(r.ms.total).padStart(10)}`);
    }
    const perIteration = wall / Math.max(1, r0.iterations);
    console.log(`timing: job ${ms(wall)} (${(perIteration * 1000).toFixed(0)} µs per iteration: a halo exchange and 2 allreduces), cluster start ${ms(started)}`);
    const ok = r0.relativeResidual <= tolerance && results.every((r) => r.iterations === r0.iterations);
    console.log(ok ? "job: ok" : "job: did NOT converge");
    process.exitCode = ok ? 0 : 1;
  } finally {
    const t2 = performance.now();
    await cluster.stop();
    console.log(`cluster: stopped in ${ms(performance.now() - t2)}`);
  }
}

main().catch((e: unknown) => {
  console.error("job failed:", e);
  process.exitCode = 1;
});
