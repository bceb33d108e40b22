/**
 * CPU per no-op task, the steadier measure on a busy machine: the controller, one or more
 * inline engines and a client all in this one process, so process.cpuUsage() counts
 * every hop (client → queue → engine → queue → client, and the hub's copies).
 *
 *   node --import tsx bench/cluster-cpu.ts [--transport tcp|ipc|inproc] [--engines 1] [--tasks 3000] [--repeat 3] [--only direct|load]
 *
 * Prints, per mode (direct one at a time, load-balanced one at a time, load-balanced
 * all at once), the µs of CPU (user + system) per task and the wall time per task, as
 * the median of --repeat runs.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { LocalCluster, type Transport } from "../src/cluster/index.js";

const { values } = parseArgs({
  options: {
    transport: { type: "string", default: "tcp" },
    engines: { type: "string", default: "1" },
    tasks: { type: "string", default: "3000" },
    repeat: { type: "string", default: "3" },
    only: { type: "string", default: "" },
  },
});
const TASKS = Number(values.tasks);
const REPEAT = Number(values.repeat);
const here = fileURLToPath(new URL(".", import.meta.url));
const NOOP = `${join(here, "..", "examples", "cluster", "cg-tasks.ts")}#noop`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cluster = await LocalCluster.start({
  engines: Number(values.engines), mode: "inline", transport: values.transport as Transport, log: false, engine: { log: false, heart: "inline" },
});
const client = await cluster.client({ log: false });
const direct = client.view(client.ids[0]!);
const lb = client.loadBalancedView();

async function measure(what: string, run: () => Promise<void>): Promise<void> {
  if (values.only && !what.startsWith(values.only)) return;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / TASKS);
    wall.push((t * 1000) / TASKS);
  }
  console.log(`${what.padEnd(28)} cpu ${median(cpu).toFixed(0).padStart(5)} µs/task   wall ${median(wall).toFixed(0).padStart(5)} µs/task   (${(1e6 / median(wall)).toFixed(0)} tasks/s)`);
}

for (let i = 0; i < 200; i++) {
  await direct.apply(NOOP);
  await lb.apply(NOOP);
}
console.log(`transport ${values.transport}, ${values.engines} inline engine(s), ${TASKS} tasks, median of ${REPEAT}; load ${loadavg()[0]!.toFixed(2)}`);
await measure("direct, one at a time", async () => {
  for (let i = 0; i < TASKS; i++) await direct.apply(NOOP);
});
await measure("load-balanced, one at a time", async () => {
  for (let i = 0; i < TASKS; i++) await lb.apply(NOOP);
});
await measure("load-balanced, all at once", async () => {
  const all = [];
  for (let i = 0; i < TASKS; i++) all.push(lb.apply(NOOP));
  await Promise.all(all);
});
await cluster.stop();
