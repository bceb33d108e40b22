/**
 * The main job (`npm start`: examples/cluster/main.ts) on a small grid: a controller and 4
 * engine processes solve by conjugate gradients with a halo exchange and allreduces over
 * the mesh; the job must converge, agree with the exact solution, show progress, and
 * stop every process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { tsCommand } from "../helpers/runtime.js";

test("npm start's job: CG on 4 engines converges, reports timings and shuts down", { timeout: 120_000 }, async () => {
  const [cmd, args] = tsCommand(join("examples", "cluster", "main.ts"), "--n", "48", "--transport", "ipc");
  const child = spawn(cmd, args, { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.match(stdout, /^cluster: engines 0, 1, 2, 3 registered/m);
  assert.match(stdout, /^progress: iteration 50, relative residual/m);
  const m = stdout.match(/^result: converged in (\d+) iterations, relative residual (\S+), max error vs the exact solution (\S+)$/m);
  assert.ok(m, stdout);
  assert.ok(Number(m[2]) <= 1e-8, `residual ${m[2]}`);
  assert.ok(Number(m[3]) < 1e-6, `max error ${m[3]}`);
  for (let rank = 0; rank < 4; rank++) assert.match(stdout, new RegExp(`^  engine ${rank} `, "m"));
  assert.match(stdout, /^job: ok$/m);
  assert.match(stdout, /^cluster: stopped in /m);
});
