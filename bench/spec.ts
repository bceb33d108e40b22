/** What the harness (bench/run.ts) and the case runner (bench/case.ts) exchange. */

export type Lib = "ours" | "zeromq" | "raw";
export type Kind = "pushpull" | "pubsub" | "dealer-router" | "reqrep" | "memory";
export type Transport = "tcp" | "ipc" | "inproc";

export interface CaseSpec {
  /** e.g. "pushpull/tcp/16B". */
  id: string;
  kind: Kind;
  transport: Transport;
  /** Message size in bytes. */
  size: number;
  lib: Lib;
  /** Subscribers (pubsub). */
  subscribers?: number;
  /** Warm-up: until this many messages (round trips) or this long, whichever first. */
  warmMsgs: number;
  warmMs: number;
  /** Measurement: until this many messages (round trips) or this long, whichever first. */
  maxMsgs: number;
  timeMs: number;
}

export interface CaseResult {
  id: string;
  lib: Lib;
  ok: boolean;
  error?: string;
  /** The library's own version string (libzmq's for zeromq.js). */
  libVersion?: string;
  /** Messages (round trips for reqrep) counted in the measured window, and its length. */
  msgs?: number;
  seconds?: number;
  /** Throughput kinds: messages/s received (per subscriber for pubsub) and payload MB/s (1 MB = 1e6 bytes). */
  msgPerSec?: number;
  mbPerSec?: number;
  /** pubsub: each subscriber's rate. */
  perSubscriber?: number[];
  /** Ended by the watchdog (traffic stalled) rather than by count or time. */
  stalled?: boolean;
  /** reqrep: round-trip latency in microseconds. */
  p50Us?: number;
  p90Us?: number;
  p99Us?: number;
  meanUs?: number;
  minUs?: number;
  /** memory: process.memoryUsage() snapshots in bytes. */
  memory?: {
    messages: number;
    seconds: number;
    before: NodeJS.MemoryUsage;
    afterNoGc: NodeJS.MemoryUsage;
    afterGc: NodeJS.MemoryUsage;
    peakRssDuring: number;
  };
  /** The measured window on process.hrtime's clock, in µs (the clock of --cpu-prof's timestamps). */
  hrWindowUs?: [number, number];
  /** CPU used by the whole process in the window (user, kernel), % of wall time; 100 = one core. */
  cpu?: { userPct: number; sysPct: number };
  /** Peak RSS of the child process (bytes), whole lifetime. */
  maxRss?: number;
}

export const RESULT_PREFIX = "BENCH-RESULT ";

export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10}KiB`;
  return `${n}B`;
}
