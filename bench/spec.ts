/** What the harness (bench/run.ts) and the case runner (bench/case.ts) exchange. */

export type Lib = "ours" | "zeromq" | "raw";
export type Kind =
  | "pushpull"
  | "pubsub"
  | "dealer-router"
  | "reqrep"
  | "memory"
  /** PUSH->PULL with CURVE (the PULL is the CURVE server). */
  | "curve"
  /** One ROUTER echoing for `dealers` DEALERs, each with one request in flight. */
  | "router-fanin"
  /** XPUB -> one SUB holding `topics` distinct subscriptions; messages cycle through them. */
  | "xpub-topics";
/**
 * Where a case runs: "both" sides in one process (inproc, memory), or split over two
 * processes: "bind" binds (and prints its endpoint), "connect" connects to `endpoint`.
 */
export type Role = "both" | "bind" | "connect";
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
  /** router-fanin: how many DEALERs. */
  dealers?: number;
  /** xpub-topics: how many distinct subscriptions. */
  topics?: number;
  /** Which side of a split case this process is (default "both"). */
  role?: Role;
  /** For role "connect": what the "bind" process printed (ENDPOINT_PREFIX line). */
  peer?: PeerInfo;
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
  /** pubsub / xpub-topics: messages the publisher sent that a subscriber never got
   * (gaps in the sequence numbers), summed over subscribers, in the window; and as a
   * fraction of what was sent to them. */
  lost?: number;
  lossFraction?: number;
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
    /** RSS at (about) each tenth of the stream. */
    trail?: number[];
  };
  /** The measured window on process.hrtime's clock, in µs (the clock of --cpu-prof's timestamps). */
  hrWindowUs?: [number, number];
  /** CPU used by the whole process in the window (user, kernel), % of wall time; 100 = one core. */
  cpu?: { userPct: number; sysPct: number };
  /** Peak RSS of the child process (bytes), whole lifetime. */
  maxRss?: number;
}

export const RESULT_PREFIX = "BENCH-RESULT ";
/** The line a "bind" process prints once it is ready for its peer: ENDPOINT_PREFIX + PeerInfo JSON. */
export const ENDPOINT_PREFIX = "BENCH-ENDPOINT ";

export interface PeerInfo {
  endpoint: string;
  /** curve: the server's public key (Z85). */
  serverKey?: string;
}

export function sizeLabel(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10}KiB`;
  return `${n}B`;
}
