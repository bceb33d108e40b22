/**
 * The long reliability tier (not part of `npm test`). Each phase is bounded by a flag:
 *   --decoder=N     fuzzed frame-decoder inputs (default 50,000,000)
 *   --parsers=N     fuzzed metadata/command/PING/greeting inputs (default 5,000,000)
 *   --reconnects=N  DEALER→ROUTER close/rebind cycles with fd + heap accounting (default 100,000)
 *   --mutations=N   mutated libzmq NULL conversations per socket type (default 20,000)
 *   --seed=S        PRNG seed (default: time-based; printed)
 *   --minutes=M     stop any phase after M minutes (default 120)
 * Run: node --expose-gc --import tsx bench/soak.ts [--decoder=1e7 ...]
 * Exit code 1 on the first invariant violation (the failing input is printed in hex).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WireError } from "../src/wire/errors.js";
import { FrameDecoder } from "../src/wire/frame-decoder.js";
import { parseCommand, parseMetadata, parsePing } from "../src/wire/commands.js";
import { parseGreeting } from "../src/wire/greeting.js";
import { rng } from "../test/reliability/crash-guard-free.js";

const args = new Map(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, "").split("="); return [k!, v ?? "1"]; }));
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
const SEED = num("seed", (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
const DEADLINE = Date.now() + num("minutes", 120) * 60_000;
console.log(`soak: seed ${SEED}`);
process.on("uncaughtException", (e) => { console.error("ESCAPE uncaughtException", e); process.exit(1); });
process.on("unhandledRejection", (e) => { console.error("ESCAPE unhandledRejection", e); process.exit(1); });

function phase(name: string, n: number, body: (i: number, r: () => number, buf: Buffer) => void): void {
  const r = rng(SEED);
  const buf = Buffer.alloc(256);
  const t0 = performance.now();
  let i = 0;
  for (; i < n && (i % 65536 !== 0 || Date.now() < DEADLINE); i++) body(i, r, buf);
  const s = (performance.now() - t0) / 1000;
  console.log(`${name}: ${i} inputs in ${s.toFixed(1)} s (${Math.round(i / s)}/s)`);
}

function fill(r: () => number, buf: Buffer, len: number): Buffer {
  for (let j = 0; j < len; j += 4) {
    const x = (r() * 4294967296) >>> 0;
    buf[j] = x; buf[j + 1] = x >>> 8; buf[j + 2] = x >>> 16; buf[j + 3] = x >>> 24;
  }
  const bias = r();
  if (bias < 0.3) buf[0] = Math.floor(bias * 26.6);
  if (bias < 0.15) buf[1] = 0xff;
  return buf.subarray(0, len);
}

const onlyWire = (input: Buffer, f: () => unknown) => {
  try { f(); } catch (e) {
    if (!(e instanceof WireError)) { console.error(`ESCAPE on input ${input.toString("hex")}:`, e); process.exit(1); }
  }
};

const sink = { onFrame() {}, onCommand() {} };
phase("frame decoder", num("decoder", 50_000_000), (_i, r, buf) => {
  const input = fill(r, buf, 1 + Math.floor(r() * 128));
  const split = Math.floor(r() * input.length);
  const d = new FrameDecoder(sink, r() < 0.5 ? -1 : Math.floor(r() * 128));
  onlyWire(input, () => { d.push(input.subarray(0, split)); d.push(input.subarray(split)); });
});
phase("metadata/command/PING/greeting parsers", num("parsers", 5_000_000), (_i, r, buf) => {
  const input = fill(r, buf, Math.floor(r() * 128));
  onlyWire(input, () => parseMetadata(input));
  onlyWire(input, () => parseCommand(input));
  onlyWire(input, () => parsePing(input));
  onlyWire(input, () => parseGreeting(input));
});

// Socket phases run the CI test files with large counts in a child (fresh process, gc exposed).
const root = fileURLToPath(new URL("..", import.meta.url));
function child(file: string, env: Record<string, string>): void {
  const res = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "--test", "--test-timeout=86400000", file], {
    cwd: root, env: { ...process.env, ...env, FC_SEED: String(SEED) }, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8",
  });
  for (const line of res.stdout.split("\n")) if (/^# \\?# |^not ok|^# (pass|fail)/.test(line)) console.log(line);
  if (res.status !== 0) { console.error(`${file} failed (status ${res.status})`); process.exit(1); }
}
child("test/reliability/churn.test.ts", { RECONNECT_CYCLES: String(num("reconnects", 100_000)) });
child("test/reliability/hostile-peers.test.ts", { MUTATIONS: String(num("mutations", 20_000)) });
console.log("soak: all phases passed");
