/**
 * libzmq as the reference, in the same scenarios as our reliability figures: the same Node
 * clients (raw stalled handshakes, a good DEALER, a fast SUB, a raw SUB that never reads)
 * against a bound socket that is either ours (in this process) or libzmq 4.3.4 (Debian's
 * pyzmq, /usr/bin/python3, test/reliability/peers/reference.py). Shared properties are
 * asserted; both sides' figures are printed as a markdown table for the README.
 */
import "./crash-guard.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Socket as NetSocket } from "node:net";
import * as zmq from "../../src/index.js";
import { within } from "../helpers/util.js";
import { portOf, rawConnect, closedPromise, sequentialStallLifetimes, sleep, settledMemory, MiB, mib } from "./helpers.js";
import { encodeGreeting } from "../../src/wire/greeting.js";
import { encodeCommandFrame, encodeMetadata } from "../../src/wire/commands.js";
import { encodeFrame } from "../../src/wire/frame-encoder.js";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./peers/reference.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import zmq; print(zmq.zmq_version())"], { encoding: "utf8", timeout: 10_000 });
const LIBZMQ = probe.status === 0 ? probe.stdout.trim() : null;
// The reference is required, never skipped (CI installs python3-zmq): without it these tests fail.
const skip = false;
test("pyzmq (the libzmq reference) is available", () => assert.ok(LIBZMQ !== null, `no pyzmq under ${PYTHON}`));

/** A python child speaking JSON lines; always kill()ed in a finally. */
class Py {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private stderr = "";
  private exited = false;
  constructor(mode: string) {
    this.child = spawn(PYTHON, [SCRIPT, mode], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", () => {});
    this.child.stdin.on("error", () => {});
    this.child.stderr.on("data", (d: Buffer) => { this.stderr += d.toString(); });
    this.child.on("exit", () => { this.exited = true; this.waiter?.(); });
    createInterface({ input: this.child.stdout }).on("line", (l) => { this.lines.push(l); this.waiter?.(); });
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  async next(ms = 5000): Promise<Record<string, number | boolean | string>> {
    const got = async () => {
      while (this.lines.length === 0) {
        if (this.exited) throw new Error(`python exited: ${this.stderr}`);
        await new Promise<void>((r) => { this.waiter = r; });
        this.waiter = null;
      }
      return JSON.parse(this.lines.shift()!) as Record<string, number | boolean | string>;
    };
    return within(got(), ms, `python reply (stderr: ${this.stderr.slice(-300)})`);
  }
  async call(cmd: Record<string, unknown>, ms = 5000): Promise<Record<string, number | boolean | string>> {
    this.child.stdin.write(JSON.stringify(cmd) + "\n");
    return this.next(ms);
  }
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

type Side = "zmq-ts" | "libzmq";
const results: Record<string, Partial<Record<Side, string>>> = {};
const put = (row: string, side: Side, value: string) => { (results[row] ??= {})[side] = value; };

test.after(() => {
  if (Object.keys(results).length === 0) return;
  const lines = [`| scenario (same Node clients) | zmq-ts | libzmq ${LIBZMQ ?? "?"} (pyzmq) |`, "|---|---|---|"];
  for (const [row, v] of Object.entries(results)) lines.push(`| ${row} | ${v["zmq-ts"] ?? "–"} | ${v.libzmq ?? "–"} |`);
  console.log(`reference table:\n${lines.join("\n")}`);
});

// ---------------------------------------------------------------- (a) stalled handshakes

const IVL = 300;
const STALLED = 200;

interface StallFigures { rtt: number; min: number; med: number; max: number; alone: number[] }

/** 200 raw connections that stall (half silent, half mid-greeting), then a good DEALER's echo round trip. */
async function stalledHandshakes(endpoint: string): Promise<StallFigures> {
  const port = portOf(endpoint);
  const dealer = new zmq.Dealer({ linger: 0, routingId: "good" });
  const stalled: NetSocket[] = [];
  try {
    // Not closed early: timed on connections opened one at a time (see sequentialStallLifetimes).
    const alone = await sequentialStallLifetimes(port, encodeGreeting("NULL", false).subarray(0, 11));
    const lifetimes: number[] = [];
    const all: Promise<void>[] = [];
    await Promise.all(Array.from({ length: STALLED }, async (_, i) => {
      const s = await rawConnect(port);
      const opened = performance.now();
      stalled.push(s);
      if (i % 2 === 1) s.write(encodeGreeting("NULL", false).subarray(0, 11));
      all.push(closedPromise(s).then(() => { lifetimes.push(performance.now() - opened); }));
    }));
    const t0 = performance.now();
    dealer.connect(endpoint);
    await dealer.send("ping");
    const [echo] = await within(dealer.receive(), 2000, "good client's echo among stalled handshakes");
    assert.equal(echo!.toString(), "ping");
    const rtt = performance.now() - t0;
    await within(Promise.all(all), IVL + 3000, "every stalled connection closed");
    lifetimes.sort((a, b) => a - b);
    return { rtt, min: lifetimes[0]!, med: lifetimes[STALLED / 2]!, max: lifetimes[STALLED - 1]!, alone };
  } finally {
    for (const s of stalled) s.destroy();
    dealer.close();
  }
}

function reportStall(side: Side, f: StallFigures): void {
  console.log(`# ${side}: stalled handshakes: good round trip ${f.rtt.toFixed(1)} ms; closed after min ${f.min.toFixed(0)} / median ${f.med.toFixed(0)} / max ${f.max.toFixed(0)} ms`);
  put(`${STALLED} stalled handshakes, handshake_ivl ${IVL} ms: good round trip`, side, `${f.rtt.toFixed(1)} ms`);
  put(`… stalled ones closed after (min / median / max)`, side, `${f.min.toFixed(0)} / ${f.med.toFixed(0)} / ${f.max.toFixed(0)} ms`);
  assert.ok(f.rtt < 1000, `${side}: round trip took ${f.rtt} ms`);
  assert.ok(f.alone[0]! >= IVL - 20, `${side}: a stalled connection closed early (${f.alone[0]} ms)`);
  assert.ok(f.alone[f.alone.length - 1]! <= IVL + 700, `${side}: a stalled connection lived ${f.alone[f.alone.length - 1]} ms`);
  // In the burst the client-side clock starts late, so those lifetimes are if anything short: an upper bound holds.
  assert.ok(f.max <= IVL + 700, `${side}: a stalled connection lived ${f.max} ms`);
}

test("reference (a): 200 stalled handshakes against a ROUTER, zmq-ts and libzmq", { skip }, async () => {
  const router = new zmq.Router({ handshakeInterval: IVL, linger: 0 });
  try {
    await router.bind("tcp://127.0.0.1:*");
    void (async () => { for (;;) await router.send(await router.receive()); })().catch(() => {});
    reportStall("zmq-ts", await stalledHandshakes(router.lastEndpoint!));
  } finally {
    router.close();
  }
  const py = new Py("router");
  try {
    const { port } = await py.next();
    reportStall("libzmq", await stalledHandshakes(`tcp://127.0.0.1:${port}`));
  } finally {
    py.kill();
  }
});

// ---------------------------------------------------------------- (b) a subscriber that never reads

const SIZE = 16 * 1024;
const HWM = 100;
const TOTAL = 3000;
/**
 * Messages published between waits for the fast subscriber. libzmq's PUB learns that a
 * subscriber's pipe drained only in steps of its low-water mark ((hwm + 1) / 2 = 50
 * here), and only when the application thread next processes commands, so it may count
 * up to ~50 already-delivered messages as still queued: batches of HWM / 2 could then
 * reach its HWM and be dropped (seen in CI, message 1849 of 3000). A quarter leaves room
 * for most of that lag, yet libzmq still drops one now and then (see reportSlow); ours
 * must deliver every message to the fast subscriber, in order.
 */
const BATCH = HWM / 4;

interface PubDriver {
  endpoint: string;
  join(): Promise<void>;
  send(from: number, count: number): Promise<void>;
  /** Publisher-side memory: [label, bytes]. */
  memory(): Promise<[string, number][]>;
}

interface SlowFigures { received: number; lost: number; reordered: number; growth: [string, number][]; slowMessages: number }

/**
 * A raw "SUB" (ZMTP 3.0 greeting, READY, subscribe-all message) that never reads, and a fast
 * zmq-ts SUB; 3000 x 16 KiB published in batches of HWM/4 paced to the fast one.
 */
async function slowSubscriber(pub: PubDriver): Promise<SlowFigures> {
  const fast = new zmq.Subscriber({ receiveHighWaterMark: 0, linger: 0 });
  let slow: NetSocket | null = null;
  try {
    slow = await rawConnect(portOf(pub.endpoint));
    slow.write(encodeGreeting("NULL", false, 0));
    slow.write(encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from("SUB")]])));
    slow.write(encodeFrame(Buffer.from([1]), 0)); // subscribe to everything (ZMTP 3.0 form, understood by both)
    slow.pause();
    fast.subscribe();
    fast.connect(pub.endpoint);
    let joined = false;
    const join = (async () => { const [m] = await fast.receive(); assert.equal(m!.toString(), "join"); joined = true; })();
    const deadline = performance.now() + 3000;
    while (!joined) {
      assert.ok(performance.now() < deadline, "fast subscriber never joined");
      await pub.join();
      await Promise.race([join, sleep(5)]);
    }
    await sleep(50); // both subscriptions in
    const before = await pub.memory();
    // Every 16 KiB message carries its index: count what arrives, and what was skipped
    // (a later index before an earlier one means loss; an earlier one after a later one,
    // reordering).
    let received = 0;
    let nextIndex = 0;
    let lost = 0;
    let reordered = 0;
    const consume = (async () => {
      while (nextIndex < TOTAL) {
        const [m] = await fast.receive();
        if (m!.length !== SIZE) continue;
        const n = m!.readUInt32BE(0);
        if (n < nextIndex) reordered++;
        else {
          lost += n - nextIndex;
          nextIndex = n + 1;
        }
        received++;
      }
    })();
    consume.catch(() => {});
    for (let i = 0; i < TOTAL; i += BATCH) {
      await pub.send(i, BATCH);
      const end = performance.now() + 2000;
      while (nextIndex < i + BATCH && performance.now() < end) await Promise.race([consume, sleep(1)]);
    }
    await within(consume, 5000, "fast subscriber got the last message");
    const after = await pub.memory();
    const growth = after.map(([k, v], j): [string, number] => [k, v - before[j]![1]]);
    // What the publisher kept for the slow one: read it now until idle.
    let bytes = 0;
    slow.on("data", (d: Buffer) => { bytes += d.length; });
    slow.resume();
    for (let last = -1, t = performance.now(); bytes !== last && performance.now() - t < 4000; ) { last = bytes; await sleep(200); }
    const slowMessages = Math.floor(bytes / (SIZE + 9));
    return { received, lost, reordered, growth, slowMessages };
  } finally {
    slow?.destroy();
    fast.close();
  }
}

function reportSlow(side: Side, f: SlowFigures): void {
  const g = f.growth.map(([k, v]) => `${k} ${v >= 0 ? "+" : ""}${mib(v)}`).join(", ");
  const lostText = f.lost ? ` (${f.lost} lost)` : "";
  console.log(`# ${side}: slow subscriber: fast got ${f.received}/${TOTAL}${lostText}; publisher memory ${g}; the never-reading peer had ~${f.slowMessages} messages kept for it`);
  put(`subscriber that never reads (SNDHWM ${HWM}, 16 KiB, ${TOTAL} msgs): fast subscriber got`, side, `${f.received}/${TOTAL}${lostText}`);
  put(`… publisher memory growth`, side, g);
  put(`… messages kept for the never-reading peer (socket buffers + queue)`, side, `~${f.slowMessages} (rest dropped)`);
  assert.equal(f.reordered, 0, `${side}: the fast subscriber saw messages out of order`);
  assert.equal(f.received + f.lost, TOTAL, `${side}: counts do not add up`);
  // Ours must deliver everything to the subscriber that keeps up. libzmq 4.3.4 does not
  // always: now and then it drops the last message of a batch to the fast subscriber too
  // (seen with its own SUB, zeromq.js, as the fast one as well as ours), because its PUB
  // learns that a pipe drained only in low-water-mark steps, when its application thread
  // next processes commands. That is libzmq's behaviour, reported in the table, not ours.
  if (side === "zmq-ts") assert.equal(f.lost, 0, `${side}: the fast subscriber lost messages`);
  assert.ok(f.slowMessages < TOTAL / 2, `${side}: the publisher queued ${f.slowMessages} for the slow peer instead of dropping`);
  // For us this proves the scenario ran (the slow peer was subscribed). libzmq takes a new
  // peer's subscription only when its application next calls into the socket, which on a
  // loaded machine can be after the burst: then it kept nothing for it, which is fine.
  if (side === "zmq-ts") assert.ok(f.slowMessages > 0, `${side}: the slow peer's subscription never took effect (nothing sent to it)`);
}

const rssNow = () => process.memoryUsage().rss;

test("reference (b): a subscriber that never reads, zmq-ts and libzmq", { skip }, async () => {
  const pub = new zmq.Publisher({ sendHighWaterMark: HWM, linger: 0 });
  try {
    await pub.bind("tcp://127.0.0.1:*");
    const f = await slowSubscriber({
      endpoint: pub.lastEndpoint!,
      join: () => pub.send("join"),
      async send(from, count) {
        for (let i = from; i < from + count; i++) {
          const b = Buffer.alloc(SIZE);
          b.writeUInt32BE(i, 0);
          await pub.send(b);
        }
      },
      async memory() {
        const settled = await settledMemory();
        return [["heap+buffers", settled], ["RSS", rssNow()]];
      },
    });
    reportSlow("zmq-ts", f);
    const growth = f.growth[0]![1];
    assert.ok(growth < 2 * HWM * SIZE + 8 * MiB, `zmq-ts retained ${mib(growth)}`);
  } finally {
    pub.close();
  }
  const py = new Py("pub");
  try {
    const { port } = await py.next();
    const f = await slowSubscriber({
      endpoint: `tcp://127.0.0.1:${port}`,
      join: async () => { await py.call({ cmd: "join" }); },
      send: async (from, count) => { await py.call({ cmd: "send", from, count, size: SIZE }); },
      memory: async () => [["RSS", Number((await py.call({ cmd: "rss" })).rss)]],
    });
    reportSlow("libzmq", f);
  } finally {
    py.kill();
  }
});

// ---------------------------------------------------------------- (c) inproc HWM

test("reference (c): inproc PUSH->PULL with default HWMs takes the same count before EAGAIN", { skip }, async () => {
  const address = `inproc://reference-hwm-${process.pid}`;
  const pull = new zmq.Pull({ linger: 0 });
  const push = new zmq.Push({ sendTimeout: 0, linger: 0 });
  let ours = 0;
  let drained = 0;
  try {
    await pull.bind(address);
    push.connect(address);
    for (; ours < 10_000; ours++) {
      try {
        await push.send(String(ours));
      } catch (e) {
        assert.equal((e as { code?: string }).code, "EAGAIN");
        break;
      }
    }
    pull.receiveTimeout = 0;
    for (;;) {
      try {
        await pull.receive();
        drained++;
      } catch {
        break;
      }
    }
  } finally {
    push.close();
    pull.close();
  }
  const py = new Py("hwm");
  let theirs: Record<string, number | boolean | string>;
  try {
    theirs = await py.next();
  } finally {
    py.kill();
  }
  console.log(`# inproc HWM: zmq-ts ${ours} sends before EAGAIN (${drained} received); libzmq ${theirs.sent} (${theirs.received} received)`);
  put("inproc PUSH→PULL, default HWMs: sends before EAGAIN (DONTWAIT / sendTimeout 0)", "zmq-ts", String(ours));
  put("inproc PUSH→PULL, default HWMs: sends before EAGAIN (DONTWAIT / sendTimeout 0)", "libzmq", String(theirs.sent));
  assert.equal(ours, theirs.sent);
  assert.equal(ours, 2000);
  assert.equal(drained, ours);
  assert.equal(theirs.received, theirs.sent);
});
