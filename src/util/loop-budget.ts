/**
 * zeromq.js settles every send and receive through libuv, so a loop of awaited sends
 * lets timers and I/O run. Ours settle at once when the message fits, which would
 * starve the event loop in a tight `await send()` loop. So once immediate completions
 * in one turn of the loop have gone on for TURN_MS (or MAX_STREAK of them), the next
 * one is deferred to setImmediate: timers and I/O get their turn. Measured by time
 * rather than count so that batches (and so writes to the kernel) stay large.
 */
const TURN_MS = 0.5;
const CHECK_EVERY = 32;
const MAX_STREAK = 4096;
let streak = 0;
let started = 0;
let resetScheduled = false;

function reset(): void {
  streak = 0;
  resetScheduled = false;
}

/** True while immediate completions are still within this turn's budget. */
export function withinLoopBudget(): boolean {
  if (!resetScheduled) {
    resetScheduled = true;
    started = performance.now();
    setImmediate(reset);
  }
  const n = ++streak;
  if (n >= MAX_STREAK) return false;
  return n % CHECK_EVERY !== 0 || performance.now() - started < TURN_MS;
}

/** A promise that resolves with `value` after the loop has had a turn. */
export function afterLoopTurn<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value));
}
