import { performance } from "node:perf_hooks";

/** A time in ms comparable across the threads of one process. */
export const now = (): number => performance.timeOrigin + performance.now();
