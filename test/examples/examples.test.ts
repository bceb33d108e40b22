/**
 * Runs every example in examples/ as its own process and checks that it exits 0 and
 * prints its key line, so the examples cannot go stale. Two at a time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tsCommand } from "../helpers/runtime.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const TIMEOUT = 15_000;

/** [example file, a line (regexp) its stdout must contain]. */
const examples: [string, RegExp][] = [
  ["request-reply", /^request-reply: 3 requests answered$/m],
  ["pub-sub", /^xpub fix: received all 10 \[0,1,2,3,4,5,6,7,8,9\]$/m],
  ["pipeline", /^sink: 30 results, 165 ms of work \(expected 165\)/m],
  ["broker", /^served per worker: w1=3 w2=3$/m],
  ["lazy-pirate", /^lazy pirate: 8\/8 requests answered/m],
  ["heartbeating", /^heartbeating: dead connection detected and replaced$/m],
  ["monitored-queue", /^monitor: out \| client-A \| engine-1 \| engine-1: cube 3 = 27$/m],
  ["numpy-arrays", /^numpy arrays: numpy's result matches$/m],
  ["curve-auth", /^curve: alice accepted, mallory refused$/m],
  ["intro", /^done: every socket closed$/m],
];

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

function run(name: string): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(...tsCommand(join("examples", `${name}.ts`)), {
      cwd: root, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** At most two examples run at once: their timings stay honest on a 2-core machine. */
let slots = 2;
const waiting: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => waiting.push(r));
  else slots--;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next(); else slots++;
  }
}

// Start them all now (two at a time); each test awaits its own result.
const results = new Map(examples.map(([name]) => [name, limited(() => run(name))]));

for (const [name, expected] of examples) {
  test(`examples/${name}.ts`, { timeout: TIMEOUT * examples.length }, async () => {
    const r = await results.get(name)!;
    const detail = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
    assert.equal(r.signal, null, `killed after ${TIMEOUT} ms${detail}`);
    assert.equal(r.code, 0, `exit code ${r.code}${detail}`);
    assert.match(r.stdout, expected, `key line missing${detail}`);
  });
}

test("every examples/*.ts is listed here", async () => {
  const { readdirSync } = await import("node:fs");
  const files = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(files, examples.map(([name]) => name).sort());
});
