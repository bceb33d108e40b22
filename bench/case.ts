/**
 * Runs benchmark cases in this process, one after another, and prints one result line
 * per case (RESULT_PREFIX + JSON) on stdout. bench/run.ts starts it as a fresh child
 * process per case (per library and section with --quick); it can be run by hand to
 * profile one case:
 *
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/case.ts \
 *     "$(npm run -s bench -- --print-specs --only=pushpull/tcp/16B --lib=ours)"
 *
 * (argv[2] is one CaseSpec or an array of them; `--print-specs` prints one per line.)
 * `npm run bench -- --cpu-prof --only=... --lib=...` does this and summarises the main
 * thread's profile over the measured window (bench/profile-top.ts).
 *
 * Every loop is the zeromq.js pattern: the sender `await`s each send(), each receiver
 * `await`s each receive(); sender and receivers share this one thread. Sockets are made
 * with linger 0 and default high-water marks (1000).
 */
import { performance } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import type * as net from "node:net";
import { FramedReader, FramedWriter, connectPairs } from "./raw.js";
import { RESULT_PREFIX, type CaseResult, type CaseSpec } from "./spec.js";

// ---- the two ZeroMQ libraries behind one structural type -----------------------------

interface ZSock {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  close(): void;
  readonly lastEndpoint: string | null;
  send(msg: Buffer | Buffer[]): Promise<void>;
  receive(): Promise<Buffer[]>;
}
interface ZSub extends ZSock {
  subscribe(...topics: string[]): void;
}
type Ctor<T> = new (options?: Record<string, unknown>) => T;
interface ZMod {
  Push: Ctor<ZSock>;
  Pull: Ctor<ZSock>;
  Publisher: Ctor<ZSock>;
  Subscriber: Ctor<ZSub>;
  Dealer: Ctor<ZSock>;
  Router: Ctor<ZSock>;
  Request: Ctor<ZSock>;
  Reply: Ctor<ZSock>;
  version: string;
}

async function loadLib(lib: CaseSpec["lib"]): Promise<ZMod | null> {
  if (lib === "ours") return (await import("../src/index.js")) as unknown as ZMod;
  if (lib === "zeromq") return (await import("zeromq")) as unknown as ZMod;
  return null;
}

interface Sender {
  send(b: Buffer): Promise<void>;
}
interface Receiver {
  receive(): Promise<unknown>;
}
interface Setup {
  sender: Sender;
  receivers: Receiver[];
  close(): void;
}

const OPTS = { linger: 0 };
/** How long past its window a case may go before it is declared stalled. */
const WATCHDOG_GRACE_MS = 4000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function ipcPath(): string {
  return join(tmpdir(), `zmq-ts-bench-${process.pid}-${randomBytes(4).toString("hex")}`);
}

function endpoint(transport: CaseSpec["transport"]): { address: string; path?: string } {
  if (transport === "tcp") return { address: "tcp://127.0.0.1:*" };
  if (transport === "ipc") {
    const path = ipcPath();
    return { address: `ipc://${path}`, path };
  }
  return { address: `inproc://bench-${randomBytes(6).toString("hex")}` };
}

function closeAll(socks: { close(): void }[]): void {
  for (const s of socks) {
    try {
      s.close();
    } catch {
      /* already closed */
    }
  }
}

function unlinkQuiet(path: string | undefined): void {
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    /* gone */
  }
}

/** CPU time of the whole process (all threads: libzmq's I/O thread too) as % of the wall time. */
function cpuShare(used: NodeJS.CpuUsage, wallUs: number): { userPct: number; sysPct: number } {
  return { userPct: (100 * used.user) / wallUs, sysPct: (100 * used.system) / wallUs };
}

/** process.hrtime in µs: the clock --cpu-prof stamps its samples with. */
const hrUs = () => Number(process.hrtime.bigint() / 1000n);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- setups ---------------------------------------------------------------------------

/** Binds `bound`, connects each of `connecting` to it. */
async function wire(z: ZSock, connecting: ZSock[], transport: CaseSpec["transport"]): Promise<string | undefined> {
  const ep = endpoint(transport);
  await z.bind(ep.address);
  const at = transport === "inproc" ? ep.address : z.lastEndpoint!;
  for (const c of connecting) c.connect(at);
  return ep.path;
}

async function setupZmq(m: ZMod, spec: CaseSpec): Promise<Setup> {
  switch (spec.kind) {
    case "pushpull":
    case "memory": {
      const pull = new m.Pull(OPTS);
      const push = new m.Push(OPTS);
      const path = await wire(pull, [push], spec.transport);
      return { sender: push, receivers: [pull], close: () => (closeAll([push, pull]), unlinkQuiet(path)) };
    }
    case "dealer-router": {
      const router = new m.Router(OPTS);
      const dealer = new m.Dealer(OPTS);
      const path = await wire(router, [dealer], spec.transport);
      return { sender: dealer, receivers: [router], close: () => (closeAll([dealer, router]), unlinkQuiet(path)) };
    }
    case "pubsub": {
      const pub = new m.Publisher(OPTS);
      const subs = Array.from({ length: spec.subscribers ?? 4 }, () => new m.Subscriber(OPTS));
      for (const s of subs) s.subscribe();
      const path = await wire(pub, subs, spec.transport);
      await primeSubscribers(pub, subs);
      return { sender: pub, receivers: subs, close: () => (closeAll([pub, ...subs]), unlinkQuiet(path)) };
    }
    default:
      throw new Error(`no throughput setup for ${spec.kind}`);
  }
}

/** PUB drops until a subscription arrives: publish probes until every subscriber has one. */
async function primeSubscribers(pub: ZSock, subs: Receiver[]): Promise<void> {
  let got = 0;
  for (const s of subs) void s.receive().then(() => got++);
  const probe = Buffer.from("probe");
  const deadline = performance.now() + WATCHDOG_GRACE_MS;
  while (got < subs.length) {
    if (performance.now() > deadline) throw new Error(`only ${got}/${subs.length} subscribers joined`);
    await pub.send(probe);
    await sleep(5);
  }
  // Drain any probes still in flight so the measured stream starts clean enough.
  await sleep(20);
}

async function setupRaw(spec: CaseSpec): Promise<Setup> {
  if (spec.transport === "inproc") throw new Error("raw has no inproc");
  const path = spec.transport === "ipc" ? ipcPath() : "";
  const n = spec.kind === "pubsub" ? (spec.subscribers ?? 4) : 1;
  const { server, serverSide, clientSide } = await connectPairs(spec.transport, path, n);
  const all: net.Socket[] = [...serverSide, ...clientSide];
  // The server side sends (as a bound PUB would); for one pair the direction does not matter.
  const writer = new FramedWriter(serverSide);
  const readers = clientSide.map((c) => new FramedReader(c));
  return {
    sender: writer,
    receivers: readers,
    close: () => {
      for (const s of all) s.destroy();
      server.close();
      unlinkQuiet(path || undefined);
    },
  };
}

// ---- measurement ----------------------------------------------------------------------

/** Counts received messages; warm-up, then a window bounded by count and time. */
class Meter {
  count = 0;
  private phase: 0 | 1 | 2 = 0;
  private readonly start = performance.now();
  t0 = 0;
  c0 = 0;
  hr0 = hrUs();
  hr1 = 0;
  cpu0 = process.cpuUsage();
  cpu1: NodeJS.CpuUsage = { user: 0, system: 0 };
  t1 = 0;
  c1 = 0;
  perRecv: number[];
  perRecv0: number[] = [];
  stalled = false;
  private readonly mask: number;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(
    private readonly spec: CaseSpec,
    receivers: number,
  ) {
    this.perRecv = new Array<number>(receivers).fill(0);
    // Read the clock every (mask+1) messages: cheap for small messages, exact for big ones.
    this.mask = spec.size <= 256 ? 63 : spec.size <= 4096 ? 15 : 0;
  }

  get finished(): boolean {
    return this.phase === 2;
  }

  tick(i: number): void {
    this.perRecv[i]!++;
    if ((++this.count & this.mask) !== 0 || this.phase === 2) return;
    const now = performance.now();
    if (this.phase === 0) {
      if (this.count >= this.spec.warmMsgs || now - this.start >= this.spec.warmMs) {
        this.phase = 1;
        this.hr0 = hrUs();
        this.cpu0 = process.cpuUsage();
        this.t0 = now;
        this.c0 = this.count;
        this.perRecv0 = this.perRecv.slice();
      }
    } else if (this.count - this.c0 >= this.spec.maxMsgs || now - this.t0 >= this.spec.timeMs) {
      this.end(now);
    }
  }

  end(now: number, stalled = false): void {
    if (this.phase === 2) return;
    if (this.phase === 0) {
      this.t0 = this.start;
      this.perRecv0 = this.perRecv.map(() => 0);
    }
    this.phase = 2;
    this.hr1 = hrUs();
    this.cpu1 = process.cpuUsage(this.cpu0);
    this.t1 = now;
    this.c1 = this.count;
    this.stalled = stalled;
    this.resolveDone();
  }
}

async function throughput(spec: CaseSpec, s: Setup): Promise<Partial<CaseResult>> {
  const buf = Buffer.alloc(spec.size, 0x61);
  const meter = new Meter(spec, s.receivers.length);
  let stop = false;
  const sender = s.sender;
  void (async () => {
    try {
      while (!stop) await sender.send(buf);
    } catch {
      /* closed under us */
    }
  })();
  s.receivers.forEach((r, i) => {
    void (async () => {
      try {
        while (!meter.finished) {
          await r.receive();
          meter.tick(i);
        }
      } catch {
        /* closed under us */
      }
    })();
  });
  const watchdog = setTimeout(() => meter.end(performance.now(), true), spec.warmMs + spec.timeMs + WATCHDOG_GRACE_MS);
  await meter.done;
  clearTimeout(watchdog);
  stop = true;
  const seconds = (meter.t1 - meter.t0) / 1000;
  const msgs = meter.c1 - meter.c0;
  const perSubscriber = meter.perRecv.map((c, i) => (c - meter.perRecv0[i]!) / seconds);
  const msgPerSec = msgs / seconds / s.receivers.length;
  return {
    msgs,
    seconds,
    msgPerSec,
    mbPerSec: (msgPerSec * spec.size) / 1e6,
    hrWindowUs: [meter.hr0, meter.hr1],
    cpu: cpuShare(meter.cpu1, meter.hr1 - meter.hr0),
    ...(s.receivers.length > 1 ? { perSubscriber } : {}),
    ...(meter.stalled ? { stalled: true } : {}),
  };
}

/** REQ/REP (or the raw echo): round trips, one at a time. */
async function latency(spec: CaseSpec, m: ZMod | null): Promise<Partial<CaseResult>> {
  let req: Sender & Receiver;
  let close: () => void;
  if (m) {
    const rep = new m.Reply(OPTS);
    const r = new m.Request(OPTS);
    const path = await wire(rep, [r], spec.transport);
    void (async () => {
      try {
        for (;;) {
          const msg = await rep.receive();
          await rep.send(msg[0]!);
        }
      } catch {
        /* closed */
      }
    })();
    req = r;
    close = () => (closeAll([r, rep]), unlinkQuiet(path));
  } else {
    const path = spec.transport === "ipc" ? ipcPath() : "";
    const { server, serverSide, clientSide } = await connectPairs(spec.transport as "tcp" | "ipc", path, 1);
    const echoIn = new FramedReader(serverSide[0]!);
    const echoOut = new FramedWriter(serverSide);
    void (async () => {
      for (;;) await echoOut.send(await echoIn.receive());
    })();
    const w = new FramedWriter(clientSide);
    const rd = new FramedReader(clientSide[0]!);
    req = { send: (b) => w.send(b), receive: () => rd.receive() };
    close = () => {
      serverSide[0]!.destroy();
      clientSide[0]!.destroy();
      server.close();
      unlinkQuiet(path || undefined);
    };
  }
  const buf = Buffer.alloc(spec.size, 0x61);
  // A stalled exchange would await forever: past the deadline, close (the awaits reject).
  let stalled = false;
  const watchdog = setTimeout(() => {
    stalled = true;
    close();
  }, spec.warmMs + spec.timeMs + WATCHDOG_GRACE_MS);
  const start = performance.now();
  let warm = 0;
  const lat = new Float64Array(spec.maxMsgs);
  let n = 0;
  let t0 = performance.now();
  let last = t0;
  let hr0 = hrUs();
  let cpu0 = process.cpuUsage();
  try {
    while (warm < spec.warmMsgs && performance.now() - start < spec.warmMs) {
      await req.send(buf);
      await req.receive();
      warm++;
    }
    t0 = last = performance.now();
    hr0 = hrUs();
    cpu0 = process.cpuUsage();
    while (n < spec.maxMsgs && last - t0 < spec.timeMs) {
      await req.send(buf);
      await req.receive();
      const now = performance.now();
      lat[n++] = now - last;
      last = now;
    }
  } catch (e) {
    if (!stalled) throw e;
  }
  const hr1 = hrUs();
  const cpu = cpuShare(process.cpuUsage(cpu0), hr1 - hr0);
  clearTimeout(watchdog);
  if (!stalled) close();
  if (n === 0) throw new Error(`no round trip completed (${warm} in warm-up)${stalled ? ", stalled" : ""}`);
  const sorted = lat.subarray(0, n).sort();
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]! * 1000;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    msgs: n,
    seconds: (last - t0) / 1000,
    msgPerSec: n / ((last - t0) / 1000),
    p50Us: q(0.5),
    p90Us: q(0.9),
    p99Us: q(0.99),
    meanUs: (sum / n) * 1000,
    minUs: sorted[0]! * 1000,
    hrWindowUs: [hr0, hr1],
    cpu,
    ...(stalled ? { stalled: true } : {}),
  };
}

/** Memory before/after streaming spec.maxMsgs messages through one PUSH/PULL pair. */
async function memory(spec: CaseSpec, s: Setup): Promise<Partial<CaseResult>> {
  const buf = Buffer.alloc(spec.size, 0x61);
  const sender = s.sender;
  const recv = s.receivers[0]!;
  const pump = async (n: number, onEvery?: () => void) => {
    const sending = (async () => {
      for (let i = 0; i < n; i++) await sender.send(buf);
    })();
    for (let i = 1; i <= n; i++) {
      await recv.receive();
      if (onEvery && (i & 0xffff) === 0) onEvery();
    }
    await sending;
  };
  await pump(Math.min(spec.warmMsgs, 10_000));
  gc();
  gc();
  await sleep(50);
  const before = process.memoryUsage();
  let peakRssDuring = before.rss;
  const t0 = performance.now();
  const hr0 = hrUs();
  await pump(spec.maxMsgs, () => {
    peakRssDuring = Math.max(peakRssDuring, process.memoryUsage.rss());
  });
  const seconds = (performance.now() - t0) / 1000;
  const hr1 = hrUs();
  const afterNoGc = process.memoryUsage();
  peakRssDuring = Math.max(peakRssDuring, afterNoGc.rss);
  gc();
  gc();
  await sleep(50);
  const afterGc = process.memoryUsage();
  return {
    msgs: spec.maxMsgs,
    seconds,
    msgPerSec: spec.maxMsgs / seconds,
    mbPerSec: (spec.maxMsgs * spec.size) / seconds / 1e6,
    hrWindowUs: [hr0, hr1],
    memory: { messages: spec.maxMsgs, seconds, before, afterNoGc, afterGc, peakRssDuring },
  };
}

async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const base: CaseResult = { id: spec.id, lib: spec.lib, ok: false };
  try {
    const m = await loadLib(spec.lib);
    if (m) base.libVersion = m.version;
    gc();
    let out: Partial<CaseResult>;
    if (spec.kind === "reqrep") {
      out = await latency(spec, m);
    } else {
      const s = m ? await setupZmq(m, spec) : await setupRaw(spec);
      try {
        out = spec.kind === "memory" ? await memory(spec, s) : await throughput(spec, s);
      } finally {
        s.close();
      }
    }
    return { ...base, ...out, ok: true, maxRss: process.resourceUsage().maxRSS * 1024 };
  } catch (e) {
    return { ...base, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error("usage: bench/case.ts '<CaseSpec JSON or array>'");
  const parsed = JSON.parse(arg) as CaseSpec | CaseSpec[];
  const specs = Array.isArray(parsed) ? parsed : [parsed];
  for (const spec of specs) {
    const r = await runCase(spec);
    process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + "\n");
    await sleep(20); // let closes settle before the next case
  }
  process.exit(0);
}

await main();
