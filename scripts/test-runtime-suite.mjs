#!/usr/bin/env node
// Runs the node:test suite (test/*.test.ts test/*/*.test.ts, the same files as `npm test`)
// under another JavaScript runtime: Node 22, Bun or Deno. Each test file runs in its own
// process of that runtime (as `node --test` does), at most --concurrency at a time, each
// bounded by --file-timeout; the runtime's own output is parsed into per-file counts.
//
//   node22: <node22> --import tsx --test --test-reporter=spec --test-timeout=300000 FILE
//   bun:    <bun> test --timeout=300000 ./FILE          (Bun's node:test shim)
//   deno:   <deno> test -A --no-check --sloppy-imports --no-lock FILE   (Deno's node:test shim;
//           sloppy imports resolve the sources' "./x.js" specifiers to ./x.ts as tsc does)
//
// Usage: node scripts/test-runtime-suite.mjs RUNTIME BIN [--concurrency N] [--file-timeout S]
//                                            [--logs DIR] [FILE...]
// Prints one line per file, then "RUNTIME: N passed, M failed, K skipped (W s)".
// Exit 0 only when every file ran to its end with no failing test.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync, statSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const runtime = argv.shift();
const bin = argv.shift();
let concurrency = 2;
let fileTimeout = 600;
let logs = join("/tmp", `zmq-ts-suite-${runtime}`);
const files = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--concurrency") concurrency = Number(argv[++i]);
  else if (a === "--file-timeout") fileTimeout = Number(argv[++i]);
  else if (a === "--logs") logs = argv[++i];
  else files.push(a);
}
if (!["node22", "bun", "deno", "node20"].includes(runtime) || !bin) {
  console.error("usage: test-runtime-suite.mjs node20|node22|bun|deno BIN [--concurrency N] [--file-timeout S] [--logs DIR] [FILE...]");
  process.exit(2);
}

/** test/*.test.ts and test/*\/*.test.ts, sorted: the glob `npm test` expands. */
function suiteFiles() {
  const out = [];
  const testDir = join(root, "test");
  for (const e of readdirSync(testDir).sort()) {
    const p = join(testDir, e);
    if (e.endsWith(".test.ts") && statSync(p).isFile()) out.push(`test/${e}`);
  }
  for (const d of readdirSync(testDir).sort()) {
    const p = join(testDir, d);
    if (!statSync(p).isDirectory()) continue;
    for (const e of readdirSync(p).sort()) {
      if (e.endsWith(".test.ts") && statSync(join(p, e)).isFile()) out.push(`test/${d}/${e}`);
    }
  }
  return out;
}

function commandFor(file) {
  switch (runtime) {
    case "node20":
    case "node22":
      return [bin, ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=300000", file]];
    case "bun":
      return [bin, ["test", "--timeout=300000", `./${file}`]];
    case "deno":
      return [bin, ["test", "-A", "--no-check", "--sloppy-imports", "--no-lock", file]];
  }
}

/** Counts from one file's output: { passed, failed, skipped } or null when no summary was found. */
function parse(raw) {
  const out = raw.replace(/\x1b\[[0-9;]*m/g, "");
  const num = (re) => { const m = out.match(re); return m ? Number(m[1]) : null; };
  if (runtime === "node20" || runtime === "node22") {
    const pass = num(/^ℹ pass (\d+)$/m);
    if (pass === null) return null;
    return { passed: pass, failed: num(/^ℹ fail (\d+)$/m) + num(/^ℹ cancelled (\d+)$/m), skipped: num(/^ℹ skipped (\d+)$/m) + num(/^ℹ todo (\d+)$/m) };
  }
  if (runtime === "bun") {
    const pass = num(/^ *(\d+) pass$/m);
    if (pass === null) return null;
    return { passed: pass, failed: num(/^ *(\d+) fail$/m) ?? 0, skipped: (num(/^ *(\d+) skip$/m) ?? 0) + (num(/^ *(\d+) todo$/m) ?? 0) };
  }
  // Deno prints "name ..." when a test with steps (or with output) starts, and
  // "name ... ok (Nms)" when any test ends. Leaves (the counts Node and Bun give) are the
  // results of tests that had no steps.
  if (!/^(ok|FAILED) \| \d+ passed/m.test(out)) return null;
  const open = []; // { key, steps }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const count = (status) => {
    if (status === "ok") counts.passed++;
    else if (status === "ignored") counts.skipped++;
    else counts.failed++;
  };
  for (const line of out.split("\n")) {
    const r = line.match(/^(\s*)(.*) \.\.\. (ok|FAILED|ignored)\b/);
    if (r) {
      const key = r[1] + r[2];
      const top = open[open.length - 1];
      if (top && top.key === key) {
        open.pop();
        if (top.steps === 0) count(r[3]);
        continue;
      }
      if (top) top.steps++;
      count(r[3]);
      continue;
    }
    const o = line.match(/^(\s*)(.*) \.\.\.$/);
    if (o) {
      if (open.length) open[open.length - 1].steps++;
      open.push({ key: o[1] + o[2], steps: 0 });
    }
  }
  return counts;
}

function runFile(file) {
  return new Promise((done) => {
    const [cmd, args] = commandFor(file);
    const start = Date.now();
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout kills the whole tree
      env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", DO_NOT_TRACK: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    let timedOut = false;
    const killTree = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree("SIGTERM");
      setTimeout(() => killTree("SIGKILL"), 5000).unref();
    }, fileTimeout * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      killTree("SIGKILL"); // leftovers of the file (peers it spawned and did not reap)
      const secs = (Date.now() - start) / 1000;
      done({ file, code, signal, timedOut, secs, out, counts: parse(out) });
    });
  });
}

const list = files.length ? files : suiteFiles();
mkdirSync(logs, { recursive: true });
const t0 = Date.now();
const results = [];
let next = 0;
async function worker() {
  while (next < list.length) {
    const file = list[next++];
    const r = await runFile(file);
    results.push(r);
    writeFileSync(join(logs, file.replace(/\//g, "__") + ".log"), r.out);
    const c = r.counts;
    const bad = r.timedOut || r.code !== 0 || !c || c.failed > 0;
    r.bad = bad;
    const what = c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped` : "no summary";
    const why = r.timedOut ? ` TIMED OUT after ${fileTimeout}s` : r.code !== 0 ? ` exit ${r.code ?? r.signal}` : "";
    console.log(`${bad ? "FAIL" : "ok  "} ${runtime} ${file}: ${what}${why} (${r.secs.toFixed(1)} s)`);
  }
}
await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));

let passed = 0, failed = 0, skipped = 0;
for (const r of results) {
  passed += r.counts?.passed ?? 0;
  skipped += r.counts?.skipped ?? 0;
  // A file that died without its summary, or timed out, counts as (at least) one failure.
  failed += Math.max(r.counts?.failed ?? 0, r.bad ? 1 : 0);
}
const bad = results.filter((r) => r.bad);
for (const r of bad) {
  console.log(`\n---- ${runtime} ${r.file} (full log: ${join(logs, r.file.replace(/\//g, "__") + ".log")}); its last 60 lines:`);
  console.log(r.out.split("\n").slice(-60).join("\n"));
}
const wall = ((Date.now() - t0) / 1000).toFixed(0);
console.log(`\n${runtime}: ${list.length} files, ${passed} passed, ${failed} failed, ${skipped} skipped (${wall} s)`);
process.exit(bad.length ? 1 : 0);
