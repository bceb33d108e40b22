/**
 * zeromq.js settles every send and receive through libuv, so a loop of awaited sends
 * lets timers and I/O run. Ours settle at once when the message fits, which would
 * starve the event loop in a tight `await send()` loop. So after BUDGET immediate
 * completions within one turn of the loop, the next completion is deferred to
 * setImmediate: timers and I/O get their turn, at the cost of one setImmediate per
 * BUDGET messages.
 */
const BUDGET = 64;
let streak = 0;
let resetScheduled = false;

function reset(): void {
  streak = 0;
  resetScheduled = false;
}

/** True while immediate completions are still within this turn's budget. */
export function withinLoopBudget(): boolean {
  if (!resetScheduled) {
    resetScheduled = true;
    setImmediate(reset);
  }
  return ++streak <= BUDGET;
}

/** A promise that resolves with `value` after the loop has had a turn. */
export function afterLoopTurn<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value));
}
