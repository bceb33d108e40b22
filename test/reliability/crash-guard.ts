/**
 * Import this first in every reliability test file. Anything that escapes — an uncaught
 * exception, an unhandled rejection, a MaxListenersExceededWarning (a listener leak) —
 * is recorded, and a final after() hook fails the run with the list of escapes.
 */
import { after } from "node:test";
import assert from "node:assert/strict";

export interface Escape {
  kind: "uncaughtException" | "unhandledRejection" | "warning";
  detail: string;
}

const escapes: Escape[] = [];

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ""}`;
  return String(e);
}

const g = globalThis as { __zmqCrashGuard?: boolean };
if (!g.__zmqCrashGuard) {
  g.__zmqCrashGuard = true;
  process.on("uncaughtException", (e) => escapes.push({ kind: "uncaughtException", detail: describe(e) }));
  process.on("unhandledRejection", (e) => escapes.push({ kind: "unhandledRejection", detail: describe(e) }));
  process.on("warning", (w) => {
    if (w.name === "MaxListenersExceededWarning") escapes.push({ kind: "warning", detail: describe(w) });
  });
  after(() => {
    assert.deepEqual(escapes, [], `escapes during the run:\n${escapes.map((e) => `${e.kind}: ${e.detail}`).join("\n")}`);
  });
}

/** What escaped so far (for tests that want to assert locally too). */
export function escapesSoFar(): readonly Escape[] {
  return escapes;
}

/** Seed for fast-check: FC_SEED env or a fresh one; printed so a failure can be replayed. */
export function seedFor(name: string): number {
  const fromEnv = process.env.FC_SEED;
  const seed = fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  console.log(`# ${name}: seed ${seed} (replay with FC_SEED=${seed})`);
  return seed;
}

export { rng } from "./crash-guard-free.js";
