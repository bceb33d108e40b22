/**
 * The mesh's allreduce across processes: 4 meshes over tcp (loopback), each in its
 * own child process, reduce (sum) an 8 MiB Float64Array; next to the time to send the
 * same 8 MiB once over tcp between two processes with a plain Push/Pull.
 *
 *   node --import tsx bench/cluster-allreduce.ts [MiB=8] [runs=7] [ranks=4]
 *
 * allreduce: every rank enters a barrier, then times its allreduce; a run's time is
 * the slowest rank's; the table shows the median over the runs (after one warm-up),
 * for the ring, the tree and recursive doubling, each forced.
 * CPU: each rank's user and system time per allreduce (barrier and warm-up included),
 * averaged over the ranks.
 * Push/Pull: the sender stamps the time before send(), the receiver after receive()
 * (performance.timeOrigin + now(), same machine); median over the same number of runs.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as zmq from "../src/index.js";
import { Mesh, type CommOptions, type PeerInfo } from "../src/cluster/mesh.js";
import { Session } from "../src/cluster/session.js";

const ROLES = ["rank", "pull", "push"];
const role = ROLES.includes(process.argv[2] ?? "") ? process.argv[2] : undefined;
const args = process.argv.slice(role ? 3 : 2);
const MIB = Number(args[0] ?? 8);
const RUNS = Number(args[1] ?? 7);
const RANKS = Number(args[2] ?? 4);
const KEY = "bench-key";
const WAIT_MS = 120_000;
const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The algorithms compared, each forced: the ring (the default at this size across hosts,
 * or on a host with a core per rank), the tree (the default here: 4 ranks on one host
 * with fewer cores; see ringThresholdFor) and recursive doubling (the small-array default).
 */
const REGIMES = ["ring", "tree", "doubling"] as const;
type Regime = (typeof REGIMES)[number];
const REGIME_OPTIONS: Record<Regime, CommOptions> = {
  ring: { ringThreshold: 0 },
  tree: { ringThreshold: Infinity, smallAllreduce: "tree" },
  doubling: { ringThreshold: Infinity, smallAllreduce: "doubling" },
};
const REGIME_LABEL: Record<Regime, string> = {
  ring: "allreduce sum, ring (forced; the default across hosts)",
  tree: "allreduce sum, tree reduce + broadcast (forced; the default on a host with fewer cores than ranks)",
  doubling: "allreduce sum, recursive doubling (forced)",
};

/** CPU time per allreduce in one rank (ms). */
interface Cpu {
  user: number;
  system: number;
}

type ToChild =
  | { kind: "table"; id: number; peers: PeerInfo[] }
  | { kind: "pull-bind" }
  | { kind: "push-connect"; endpoint: string }
  | { kind: "go" };
type FromChild =
  | { kind: "bound"; uuid: string; endpoint: string }
  | { kind: "times"; times: Record<Regime, number[]>; cpu: Record<Regime, Cpu>; check: boolean }
  | { kind: "pull-bound"; endpoint: string }
  | { kind: "received"; at: number; ok: boolean }
  | { kind: "sent"; at: number };

function next<T extends FromChild["kind"]>(child: ChildProcess, kind: T): Promise<Extract<FromChild, { kind: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${kind}`)), WAIT_MS);
    const onMessage = (m: FromChild) => {
      if (m.kind !== kind) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m as Extract<FromChild, { kind: T }>);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => code !== 0 && reject(new Error(`child exited with ${code}`)));
  });
}

// ---- child roles -----------------------------------------------------------------

/** The parent's messages, queued: two can arrive in one read, before anyone awaits the second. */
const inbox: ToChild[] = [];
const inboxWaiters: Array<(m: ToChild) => void> = [];
if (role) process.on("message", (m: ToChild) => (inboxWaiters.length > 0 ? inboxWaiters.shift()!(m) : inbox.push(m)));
const fromParent = (): Promise<ToChild> => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => inboxWaiters.push(resolve)));

async function meshRank(): Promise<void> {
  const uuid = randomUUID();
  const mesh = await Mesh.bind({ session: new Session({ key: KEY }), uuid, endpoint: "tcp://127.0.0.1:*" });
  process.send!({ kind: "bound", uuid, endpoint: mesh.endpoint } satisfies FromChild);
  const table = (await fromParent()) as Extract<ToChild, { kind: "table" }>;
  mesh.setSelf(table.id);
  mesh.setPeers(table.peers);
  const group = table.peers.map((p) => p.id);
  const n = (MIB << 20) / 8;
  const input = Float64Array.from({ length: n }, (_, i) => (i % 1000) + table.id);
  const times = {} as Record<Regime, number[]>;
  let check = true;
  const cpu = {} as Record<Regime, Cpu>;
  // Every connection up before anything is timed or counted.
  const warm = mesh.comm(group, "bench-warm-up", { timeout: WAIT_MS });
  await warm.barrier();
  await warm.allreduce(new Float64Array(1024));
  for (const regime of REGIMES) {
    times[regime] = [];
    const cpu0 = process.cpuUsage();
    const comm = mesh.comm(group, `bench-${regime}`, { timeout: WAIT_MS, ...REGIME_OPTIONS[regime] });
    for (let run = 0; run <= RUNS; run++) {
      await comm.barrier();
      const t0 = performance.now();
      const out = await comm.allreduce(input);
      const dt = performance.now() - t0;
      if (run > 0) times[regime].push(dt); // run 0 warms up (JIT, connections)
      const p = group.length;
      if (out[n - 1] !== p * ((n - 1) % 1000) + (p * (p - 1)) / 2) check = false;
    }
    const used = process.cpuUsage(cpu0); // includes the barriers and the warm-up
    cpu[regime] = { user: used.user / 1000 / (RUNS + 1), system: used.system / 1000 / (RUNS + 1) };
  }
  process.send!({ kind: "times", times, cpu, check } satisfies FromChild);
  await mesh.close();
  process.disconnect();
}

async function pullSide(): Promise<void> {
  const pull = new zmq.Pull({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:*");
  process.send!({ kind: "pull-bound", endpoint: pull.lastEndpoint! } satisfies FromChild);
  for (let run = 0; run <= RUNS; run++) {
    const [frame] = await pull.receive();
    const at = now();
    process.send!({ kind: "received", at, ok: frame!.length === MIB << 20 } satisfies FromChild);
  }
  pull.close();
  process.disconnect();
}

async function pushSide(): Promise<void> {
  const { endpoint } = (await fromParent()) as Extract<ToChild, { kind: "push-connect" }>;
  const push = new zmq.Push({ linger: 1000 });
  push.connect(endpoint);
  const payload = Buffer.alloc(MIB << 20, 1);
  for (let run = 0; run <= RUNS; run++) {
    await fromParent(); // "go"
    const at = now();
    await push.send(payload);
    process.send!({ kind: "sent", at } satisfies FromChild);
  }
  push.close();
  process.disconnect();
}

// ---- the parent --------------------------------------------------------------------

const self = fileURLToPath(import.meta.url);
const spawnChild = (role: string): ChildProcess => fork(self, [role, String(MIB), String(RUNS), String(RANKS)], { execArgv: ["--import", "tsx"] });

async function benchAllreduce(): Promise<{ time: Record<Regime, number>; cpu: Record<Regime, Cpu>; check: boolean }> {
  const children = Array.from({ length: RANKS }, () => spawnChild("rank"));
  try {
    const bound = await Promise.all(children.map((c) => next(c, "bound")));
    const peers = bound.map((b, id) => ({ id, uuid: b.uuid, peer_endpoint: b.endpoint }));
    const results = children.map((c) => next(c, "times"));
    children.forEach((c, id) => c.send({ kind: "table", id, peers } satisfies ToChild));
    const times = await Promise.all(results);
    const slowest = (regime: Regime) => times[0]!.times[regime].map((_, run) => Math.max(...times.map((t) => t.times[regime][run]!)));
    const meanCpu = (regime: Regime): Cpu => ({
      user: times.reduce((a, t) => a + t.cpu[regime].user, 0) / times.length,
      system: times.reduce((a, t) => a + t.cpu[regime].system, 0) / times.length,
    });
    const time = {} as Record<Regime, number>;
    const cpu = {} as Record<Regime, Cpu>;
    for (const r of REGIMES) {
      time[r] = median(slowest(r));
      cpu[r] = meanCpu(r);
    }
    return { time, cpu, check: times.every((t) => t.check) };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

async function benchPushPull(): Promise<number> {
  const puller = spawnChild("pull");
  const pusher = spawnChild("push");
  try {
    const { endpoint } = await next(puller, "pull-bound");
    pusher.send({ kind: "push-connect", endpoint } satisfies ToChild);
    const times: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const received = next(puller, "received");
      const sent = next(pusher, "sent");
      pusher.send({ kind: "go" } satisfies ToChild);
      const [r, s] = await Promise.all([received, sent]);
      if (!r.ok) throw new Error("the Pull side got the wrong size");
      if (run > 0) times.push(r.at - s.at);
    }
    return median(times);
  } finally {
    for (const c of [puller, pusher]) if (c.exitCode === null) c.kill();
  }
}

async function main(): Promise<void> {
  if (role === "rank") return meshRank();
  if (role === "pull") return pullSide();
  if (role === "push") return pushSide();
  const allreduce = await benchAllreduce();
  const pushPull = await benchPushPull();
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const gbs = (bytes: number, t: number) => `${((bytes / (t / 1000)) / 1e9).toFixed(2)} GB/s`;
  const bytes = MIB << 20;
  console.log(`\n${RANKS} processes over tcp (loopback), ${MIB} MiB float64, median of ${RUNS} runs (after a warm-up); node ${process.version}\n`);
  const cpu = (c: Cpu) => `${c.user.toFixed(0)} + ${c.system.toFixed(0)} ms`;
  console.log("| operation | time (median) | array bytes / time | CPU per rank per call (user + sys) |");
  console.log("|---|---|---|---|");
  for (const r of REGIMES) console.log(`| ${REGIME_LABEL[r]} | ${ms(allreduce.time[r])} | ${gbs(bytes, allreduce.time[r])} | ${cpu(allreduce.cpu[r])} |`);
  console.log(`| Push → Pull, the same bytes once, 2 processes | ${ms(pushPull)} | ${gbs(bytes, pushPull)} | — |`);
  console.log(`\nring / one transfer: ${(allreduce.time.ring / pushPull).toFixed(2)}x, tree / one transfer: ${(allreduce.time.tree / pushPull).toFixed(2)}x${allreduce.check ? "" : "   (RESULTS WRONG)"}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
