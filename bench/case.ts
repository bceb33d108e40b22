/**
 * Runs one side (or both sides) of benchmark cases and prints one result line per case
 * (RESULT_PREFIX + JSON) on stdout. bench/run.ts starts it as fresh child processes:
 * for tcp and ipc the two sides run in two processes (role "bind" and role "connect"),
 * as real peers would; inproc and the memory case run in one (role "both"). It can be run
 * by hand to profile one side:
 *
 *   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/case.ts \
 *     "$(npm run -s bench -- --print-specs --only=pushpull/tcp/16B --lib=ours)"
 *
 * (argv[2] is one CaseSpec or an array of them; `--print-specs` prints one per line, as
 * role "both", which runs both sides here.) A "bind" process prints ENDPOINT_PREFIX +
 * PeerInfo JSON once bound; the harness starts the "connect" process with it. The
 * measuring side prints the result; the harness then ends the other.
 *
 * Which side measures: the receiver for PUSH/PULL, DEALER->ROUTER, CURVE and the
 * 1,000-dealer ROUTER (they bind); the subscribers for PUB/SUB and XPUB (the publisher
 * binds); the REQ for REQ/REP (the REP binds).
 *
 * Every loop is the zeromq.js pattern: the sender `await`s each send(), each receiver
 * `await`s each receive(). Sockets are made with linger 0 and default high-water marks
 * (1000).
 */
import { performance } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import * as net from "node:net";
import { FramedReader, FramedWriter, connectPairs, listen } from "./raw.js";
import { ENDPOINT_PREFIX, RESULT_PREFIX, type CaseResult, type CaseSpec, type PeerInfo } from "./spec.js";

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
  subscribe(...topics: (string | Buffer)[]): void;
}
type Ctor<T> = new (options?: Record<string, unknown>) => T;
interface ZMod {
  Push: Ctor<ZSock>;
  Pull: Ctor<ZSock>;
  Publisher: Ctor<ZSock>;
  XPublisher: Ctor<ZSock>;
  XSubscriber: Ctor<ZSock>;
  Subscriber: Ctor<ZSub>;
  Dealer: Ctor<ZSock>;
  Router: Ctor<ZSock>;
  Request: Ctor<ZSock>;
  Reply: Ctor<ZSock>;
  curveKeyPair(): { publicKey: string; secretKey: string };
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

const OPTS = { linger: 0 };
/** How long past its window a case may go before it is declared stalled. */
const WATCHDOG_GRACE_MS = 4000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function ipcPath(): string {
  return join(tmpdir(), `zmq-ts-bench-${process.pid}-${randomBytes(4).toString("hex")}`);
}

function bindAddress(transport: CaseSpec["transport"]): { address: string; path?: string } {
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

/** Things to undo when the case ends. */
class Cleanup {
  private readonly fns: (() => void)[] = [];
  add(fn: () => void): void {
    this.fns.push(fn);
  }
  socks(...s: { close(): void }[]): void {
    this.add(() => closeAll(s));
  }
  run(): void {
    for (const f of this.fns.splice(0).reverse()) {
      try {
        f();
      } catch {
        /* best effort */
      }
    }
  }
}

/** Binds and returns what the peer needs: the endpoint (tcp's real port, ipc's path). */
async function bindOne(z: ZSock, spec: CaseSpec, clean: Cleanup): Promise<string> {
  const a = bindAddress(spec.transport);
  await z.bind(a.address);
  clean.add(() => unlinkQuiet(a.path));
  return spec.transport === "inproc" ? a.address : z.lastEndpoint!;
}

/** A "bind" process announces it is ready; a "both" process hands the info to its other half. */
function announce(spec: CaseSpec, info: PeerInfo): PeerInfo {
  if (spec.role === "bind") process.stdout.write(ENDPOINT_PREFIX + JSON.stringify(info) + "\n");
  return info;
}

/** Runs until the process is ended (split) or `stop()` returns true (both). */
async function pump(sender: Sender, next: () => Buffer, stop: () => boolean): Promise<void> {
  try {
    while (!stop()) await sender.send(next());
  } catch {
    /* closed under us */
  }
}

// ---- measurement ----------------------------------------------------------------------

/** Counts received messages; warm-up, then a window bounded by count and time. */
class Meter {
  count = 0;
  private phase: 0 | 1 | 2 = 0;
  private start = performance.now();
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
  lost = 0;
  lost0 = 0;
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
  get measuring(): boolean {
    return this.phase === 1;
  }

  /** The warm-up starts now (the first message arrived: the peer process is up). */
  restart(): void {
    this.start = performance.now();
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
        this.lost0 = this.lost;
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
      this.lost0 = 0;
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

  result(receivers: number): Partial<CaseResult> {
    const seconds = (this.t1 - this.t0) / 1000;
    const msgs = this.c1 - this.c0;
    const perSubscriber = this.perRecv.map((c, i) => (c - this.perRecv0[i]!) / seconds);
    const msgPerSec = msgs / seconds / receivers;
    const lost = this.lost - this.lost0;
    return {
      msgs,
      seconds,
      msgPerSec,
      mbPerSec: (msgPerSec * this.spec.size) / 1e6,
      hrWindowUs: [this.hr0, this.hr1],
      cpu: cpuShare(this.cpu1, this.hr1 - this.hr0),
      ...(receivers > 1 ? { perSubscriber } : {}),
      ...(this.stalled ? { stalled: true } : {}),
      ...(this.spec.kind === "pubsub" || this.spec.kind === "xpub-topics" ? { lost, lossFraction: lost / (msgs + lost || 1) } : {}),
    };
  }
}

/** Receives on every receiver until the meter's window closes; `onMessage` may inspect each. */
async function measure(spec: CaseSpec, receivers: Receiver[], gaps?: (i: number, m: unknown) => number): Promise<Partial<CaseResult>> {
  const meter = new Meter(spec, receivers.length);
  let first = true;
  receivers.forEach((r, i) => {
    void (async () => {
      try {
        while (!meter.finished) {
          const m = await r.receive();
          if (first) {
            first = false;
            meter.restart();
          }
          if (gaps) meter.lost += gaps(i, m);
          meter.tick(i);
        }
      } catch {
        /* closed under us */
      }
    })();
  });
  // Start-up of the peer process is not the library's time: the watchdog allows for it.
  const watchdog = setTimeout(() => meter.end(performance.now(), true), 10_000 + spec.warmMs + spec.timeMs + WATCHDOG_GRACE_MS);
  await meter.done;
  clearTimeout(watchdog);
  return meter.result(receivers.length);
}

/**
 * Publisher messages carry a sequence number (first 4 bytes, big-endian), so subscribers
 * can count what a PUB dropped. Small messages are copied at send by every library here
 * (zeromq.js and ours copy frames up to 128 bytes; raw copies up to 8 KiB), so the one
 * buffer can be rewritten after each awaited send.
 */
function sequenced(size: number): () => Buffer {
  const buf = Buffer.alloc(Math.max(size, 4), 0x61);
  let seq = 0;
  return () => {
    buf.writeUInt32BE(seq++ >>> 0, 0);
    return buf;
  };
}

/** How many messages subscriber i missed before this one (a gap in the sequence numbers). */
function gapCounter(n: number, offset = 0): (i: number, m: unknown) => number {
  const next = new Array<number>(n).fill(-1);
  return (i, m) => {
    const b = (Array.isArray(m) ? m[0] : m) as Buffer;
    if (b.length < offset + 4) return 0;
    const seq = b.readUInt32BE(offset);
    const want = next[i]!;
    next[i] = seq + 1;
    return want >= 0 && seq > want ? seq - want : 0;
  };
}

// ---- the cases ------------------------------------------------------------------------

type Part = (spec: CaseSpec, clean: Cleanup) => Promise<Partial<CaseResult> | null>;

const constant = (size: number) => {
  const b = Buffer.alloc(size, 0x61);
  return () => b;
};

/** PUSH->PULL, DEALER->ROUTER, CURVE: the receiver binds and measures; the sender connects. */
function pipeline(m: ZMod): Part {
  return async (spec, clean) => {
    const role = spec.role ?? "both";
    const curve = spec.kind === "curve";
    const [RecvT, SendT] = spec.kind === "dealer-router" ? [m.Router, m.Dealer] : [m.Pull, m.Push];
    let info = spec.peer;
    let measuring: Promise<Partial<CaseResult>> | null = null;
    if (role !== "connect") {
      const keys = curve ? m.curveKeyPair() : null;
      const recv = new RecvT({ ...OPTS, ...(keys ? { curveServer: true, curveSecretKey: keys.secretKey } : {}) });
      clean.socks(recv);
      const endpoint = await bindOne(recv, spec, clean);
      info = announce(spec, { endpoint, ...(keys ? { serverKey: keys.publicKey } : {}) });
      measuring = measure(spec, [recv]);
    }
    if (role !== "bind") {
      const keys = curve ? m.curveKeyPair() : null;
      const send = new SendT({
        ...OPTS,
        ...(keys ? { curveServerKey: info!.serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey } : {}),
      });
      clean.socks(send);
      send.connect(info!.endpoint);
      let stop = false;
      clean.add(() => (stop = true));
      const pumping = pump(send, constant(spec.size), () => stop);
      if (!measuring) {
        await pumping;
        return null;
      }
    }
    return measuring!;
  };
}

/** PUB -> N SUB (or XPUB -> SUB with many topics): the publisher binds, the subscribers measure. */
function pubsub(m: ZMod): Part {
  return async (spec, clean) => {
    const role = spec.role ?? "both";
    const topics = spec.kind === "xpub-topics" ? topicNames(spec.topics ?? 10_000) : null;
    let info = spec.peer;
    let publishing: Promise<void> | null = null;
    if (role !== "connect") {
      const pub = topics ? new m.XPublisher(OPTS) : new m.Publisher(OPTS);
      clean.socks(pub);
      info = announce(spec, { endpoint: await bindOne(pub, spec, clean) });
      let stop = false;
      clean.add(() => (stop = true));
      let next = sequenced(spec.size);
      if (topics) {
        // XPUB: read the subscriptions as they come (libzmq queues them for reading), and
        // publish one message per topic in turn: [topic][seq][padding].
        const bodies = topics.map((t) => Buffer.concat([t, Buffer.alloc(4), Buffer.alloc(Math.max(0, spec.size - t.length - 4), 0x61)]));
        let seq = 0;
        let i = 0;
        next = () => {
          const b = bodies[i]!;
          b.writeUInt32BE(seq++ >>> 0, topics[0]!.length);
          i = i + 1 === bodies.length ? 0 : i + 1;
          return b;
        };
        void (async () => {
          try {
            for (;;) await pub.receive();
          } catch {
            /* closed */
          }
        })();
      }
      publishing = pump(pub, next, () => stop);
    }
    if (role === "bind") {
      await publishing;
      return null;
    }
    const n = spec.subscribers ?? 1;
    let subs: Receiver[];
    if (topics) {
      // A SUB hands its subscriptions to a new connection through its send pipe, and
      // libzmq drops those beyond the send high-water mark (1000) — a Subscriber cannot
      // raise it (zeromq.js has no sendHighWaterMark on it; nor do we). An XSUB can: with
      // no limit, all 10,000 subscription messages reach the XPUB.
      const xsub = new m.XSubscriber({ ...OPTS, sendHighWaterMark: 0 });
      clean.socks(xsub);
      for (const t of topics) await xsub.send(Buffer.concat([Buffer.from([1]), t]));
      xsub.connect(info!.endpoint);
      subs = [xsub];
    } else {
      const ss = Array.from({ length: n }, () => new m.Subscriber(OPTS));
      clean.socks(...ss);
      for (const s of ss) {
        s.subscribe();
        s.connect(info!.endpoint);
      }
      subs = ss;
    }
    return measure(spec, subs, gapCounter(n, topics ? topics[0]!.length : 0));
  };
}

function topicNames(n: number): Buffer[] {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => Buffer.from(`t${String(i).padStart(width, "0")}`));
}

/** ROUTER echoing for many DEALERs, each with one message in flight; the ROUTER measures. */
function routerFanin(m: ZMod): Part {
  return async (spec, clean) => {
    const role = spec.role ?? "both";
    let info = spec.peer;
    let measuring: Promise<Partial<CaseResult>> | null = null;
    if (role !== "connect") {
      const router = new m.Router(OPTS);
      clean.socks(router);
      info = announce(spec, { endpoint: await bindOne(router, spec, clean) });
      // The echo is the receive loop: measure() counts what the router receives, and each
      // message is sent straight back to its dealer.
      const echo: Receiver = {
        async receive() {
          const msg = await router.receive();
          await router.send(msg as unknown as Buffer);
          return msg;
        },
      };
      measuring = measure(spec, [echo]);
    }
    if (role !== "bind") {
      const dealers = Array.from({ length: spec.dealers ?? 1000 }, () => new m.Dealer(OPTS));
      clean.socks(...dealers);
      let stop = false;
      clean.add(() => (stop = true));
      const buf = Buffer.alloc(spec.size, 0x61);
      const loops = dealers.map(async (d) => {
        d.connect(info!.endpoint);
        try {
          while (!stop) {
            await d.send(buf);
            await d.receive();
          }
        } catch {
          /* closed */
        }
      });
      if (!measuring) {
        await Promise.all(loops);
        return null;
      }
    }
    return measuring!;
  };
}

/** REQ/REP round trips, one at a time: the REP binds and echoes; the REQ measures. */
function reqrep(m: ZMod): Part {
  return async (spec, clean) => {
    const role = spec.role ?? "both";
    let info = spec.peer;
    if (role !== "connect") {
      const rep = new m.Reply(OPTS);
      clean.socks(rep);
      info = announce(spec, { endpoint: await bindOne(rep, spec, clean) });
      const echoing = (async () => {
        try {
          for (;;) {
            const msg = await rep.receive();
            await rep.send(msg[0]!);
          }
        } catch {
          /* closed */
        }
      })();
      if (role === "bind") {
        await echoing;
        return null;
      }
    }
    const req = new m.Request(OPTS);
    clean.socks(req);
    req.connect(info!.endpoint);
    return latency(spec, { send: (b) => req.send(b), receive: () => req.receive() }, () => req.close());
  };
}

// ---- raw node:net ---------------------------------------------------------------------

/** The listening side of a raw case: accepts `count` connections. */
async function rawListen(spec: CaseSpec, count: number, clean: Cleanup): Promise<{ info: PeerInfo; accepted: Promise<net.Socket[]> }> {
  const path = spec.transport === "ipc" ? ipcPath() : "";
  const conns: net.Socket[] = [];
  let done!: (s: net.Socket[]) => void;
  const accepted = new Promise<net.Socket[]>((r) => (done = r));
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    conns.push(s);
    if (conns.length === count) done(conns);
  });
  const addr = await listen(server, spec.transport as "tcp" | "ipc", path);
  clean.add(() => {
    for (const s of conns) s.destroy();
    server.close();
    unlinkQuiet(path || undefined);
  });
  const endpoint = "path" in addr ? `ipc://${addr.path}` : `tcp://127.0.0.1:${(addr as net.TcpNetConnectOpts).port}`;
  return { info: announce(spec, { endpoint }), accepted };
}

async function rawConnect(endpoint: string, count: number, clean: Cleanup): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  clean.add(() => out.forEach((s) => s.destroy()));
  for (let i = 0; i < count; i++) {
    const opts: net.NetConnectOpts = endpoint.startsWith("ipc://")
      ? { path: endpoint.slice(6) }
      : { host: "127.0.0.1", port: Number(endpoint.slice(endpoint.lastIndexOf(":") + 1)) };
    const c = net.connect(opts);
    await new Promise<void>((resolve, reject) => {
      c.once("connect", resolve);
      c.once("error", reject);
    });
    c.setNoDelay(true);
    out.push(c);
  }
  return out;
}

/**
 * The raw ceiling. PUSH/PULL shape: the receiver listens and measures, the sender connects
 * and writes. PUB/SUB shape: the writer listens for N readers and writes every message to
 * each (a lossless fan-out). REQ/REP shape: an echo server, and a client measuring.
 */
const raw: Part = async (spec, clean) => {
  const role = spec.role ?? "both";
  if (spec.transport === "inproc") throw new Error("raw has no inproc");
  if (role === "both") return rawInOneProcess(spec, clean);
  if (spec.kind === "reqrep") {
    if (role === "bind") {
      const { accepted } = await rawListen(spec, 1, clean);
      const [s] = await accepted;
      const rd = new FramedReader(s!);
      const w = new FramedWriter([s!]);
      for (;;) await w.send(await rd.receive());
    }
    const [c] = await rawConnect(spec.peer!.endpoint, 1, clean);
    const w = new FramedWriter([c!]);
    const rd = new FramedReader(c!);
    return latency(spec, { send: (b) => w.send(b), receive: () => rd.receive() }, () => c!.destroy());
  }
  const fanOut = spec.kind === "pubsub";
  const n = fanOut ? (spec.subscribers ?? 1) : 1;
  const writerListens = fanOut;
  const iWrite = (role === "bind") === writerListens;
  let socks: net.Socket[];
  if (role === "bind") socks = await (await rawListen(spec, n, clean)).accepted;
  else socks = await rawConnect(spec.peer!.endpoint, fanOut ? n : 1, clean);
  if (iWrite) {
    const w = new FramedWriter(socks);
    await pump(w, fanOut ? sequenced(spec.size) : constant(spec.size), () => false);
    return null;
  }
  const readers = socks.map((s) => new FramedReader(s));
  return measure(spec, readers, fanOut ? gapCounter(n) : undefined);
};

/** Both raw sides here (only with --print-specs by hand: the harness splits raw cases). */
async function rawInOneProcess(spec: CaseSpec, clean: Cleanup): Promise<Partial<CaseResult>> {
  const path = spec.transport === "ipc" ? ipcPath() : "";
  const n = spec.kind === "pubsub" ? (spec.subscribers ?? 1) : 1;
  const { server, serverSide, clientSide } = await connectPairs(spec.transport as "tcp" | "ipc", path, n);
  clean.add(() => {
    for (const s of [...serverSide, ...clientSide]) s.destroy();
    server.close();
    unlinkQuiet(path || undefined);
  });
  if (spec.kind === "reqrep") {
    const echoIn = new FramedReader(serverSide[0]!);
    const echoOut = new FramedWriter(serverSide);
    void (async () => {
      for (;;) await echoOut.send(await echoIn.receive());
    })();
    const w = new FramedWriter(clientSide);
    const rd = new FramedReader(clientSide[0]!);
    return latency(spec, { send: (b) => w.send(b), receive: () => rd.receive() }, () => clientSide[0]!.destroy());
  }
  const w = new FramedWriter(serverSide);
  let stop = false;
  clean.add(() => (stop = true));
  void pump(w, constant(spec.size), () => stop);
  return measure(spec, clientSide.map((c) => new FramedReader(c)));
}

// ---- latency and memory ---------------------------------------------------------------

/** Round trips, one at a time, after a warm-up. */
async function latency(spec: CaseSpec, req: Sender & Receiver, abort: () => void): Promise<Partial<CaseResult>> {
  const buf = Buffer.alloc(spec.size, 0x61);
  // A stalled exchange would await forever: past the deadline, abort (the awaits reject).
  let stalled = false;
  const watchdog = setTimeout(() => {
    stalled = true;
    abort();
  }, 10_000 + spec.warmMs + spec.timeMs + WATCHDOG_GRACE_MS);
  let warm = 0;
  const lat = new Float64Array(spec.maxMsgs);
  let n = 0;
  let t0 = performance.now();
  let last = t0;
  let hr0 = hrUs();
  let cpu0 = process.cpuUsage();
  try {
    // The first round trip waits for the peer process: the warm-up starts after it.
    await req.send(buf);
    await req.receive();
    const start = performance.now();
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

/** Memory before/after streaming spec.maxMsgs messages through one PUSH/PULL pair (one process). */
function memory(m: ZMod): Part {
  return async (spec, clean) => {
    const pull = new m.Pull(OPTS);
    const push = new m.Push(OPTS);
    clean.socks(push, pull);
    push.connect(await bindOne(pull, spec, clean));
    const buf = Buffer.alloc(spec.size, 0x61);
    const run = async (n: number, onEvery?: () => void) => {
      const sending = (async () => {
        for (let i = 0; i < n; i++) await push.send(buf);
      })();
      for (let i = 1; i <= n; i++) {
        await pull.receive();
        if (onEvery && (i & 0xffff) === 0) onEvery();
      }
      await sending;
    };
    await run(Math.min(spec.warmMsgs, 10_000));
    gc();
    gc();
    await sleep(50);
    const before = process.memoryUsage();
    let peakRssDuring = before.rss;
    // RSS sampled every 65,536 messages for the peak, and at each tenth of the stream for
    // the trail: flat means no growth with the count.
    const trail: number[] = [];
    const tenth = Math.max(1, Math.floor(spec.maxMsgs / 10 / 65536));
    let samples = 0;
    const t0 = performance.now();
    const hr0 = hrUs();
    await run(spec.maxMsgs, () => {
      const rss = process.memoryUsage.rss();
      peakRssDuring = Math.max(peakRssDuring, rss);
      if (++samples % tenth === 0) trail.push(rss);
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
      memory: { messages: spec.maxMsgs, seconds, before, afterNoGc, afterGc, peakRssDuring, trail },
    };
  };
}

// ---- main -----------------------------------------------------------------------------

async function runCase(spec: CaseSpec): Promise<CaseResult | null> {
  const base: CaseResult = { id: spec.id, lib: spec.lib, ok: false };
  const clean = new Cleanup();
  try {
    const m = await loadLib(spec.lib);
    if (m) base.libVersion = m.version;
    gc();
    let part: Part;
    if (!m) part = raw;
    else if (spec.kind === "memory") part = memory(m);
    else if (spec.kind === "reqrep") part = reqrep(m);
    else if (spec.kind === "pubsub" || spec.kind === "xpub-topics") part = pubsub(m);
    else if (spec.kind === "router-fanin") part = routerFanin(m);
    else part = pipeline(m);
    const out = await part(spec, clean);
    if (out === null) return null;
    return { ...base, ...out, ok: true, maxRss: process.resourceUsage().maxRSS * 1024 };
  } catch (e) {
    return { ...base, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  } finally {
    clean.run();
  }
}

async function main(): Promise<void> {
  // The harness ends the side that does not measure with SIGTERM: exit normally, so
  // that --cpu-prof writes its profile.
  process.on("SIGTERM", () => process.exit(0));
  const arg = process.argv[2];
  if (!arg) throw new Error("usage: bench/case.ts '<CaseSpec JSON or array>'");
  const parsed = JSON.parse(arg) as CaseSpec | CaseSpec[];
  const specs = Array.isArray(parsed) ? parsed : [parsed];
  for (const spec of specs) {
    const r = await runCase(spec);
    if (r) process.stdout.write(RESULT_PREFIX + JSON.stringify(r) + "\n");
    await sleep(20); // let closes settle before the next case
  }
  process.exit(0);
}

await main();
