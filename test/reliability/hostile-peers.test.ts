/**
 * Hostile peers over real loopback sockets: raw node:net clients against our bound sockets.
 *  - seeded mutation fuzzer over recorded libzmq NULL conversations (libzmq's
 *    test_bind_null_fuzzer idea), after which a well-behaved peer must still exchange a message;
 *  - 200 stalled handshakes vs one good client (CVE-2020-15166 class);
 *  - greeting + commands one byte per write;
 *  - a flood into a PULL that does not read; a subscriber that never reads (PUB drops for it).
 */
import "./crash-guard.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket as NetSocket } from "node:net";
import * as zmq from "../../src/index.js";
import { within } from "../helpers/util.js";
import { seedFor, rng } from "./crash-guard.js";
import { recording, portOf, rawConnect, closedPromise, sequentialStallLifetimes, sleep, settledMemory, MiB, mib } from "./helpers.js";
import { encodeGreeting } from "../../src/wire/greeting.js";
import { encodeCommandFrame, encodeMetadata, encodeSubscribe } from "../../src/wire/commands.js";
import { encodeFrame } from "../../src/wire/frame-encoder.js";

const SEED = seedFor("hostile-peers");
const MUTATIONS = Number(process.env.MUTATIONS ?? 300); // per target socket type

/** One random mutation of `input` (bit flip, interesting byte, insert, delete, duplicate, truncate, splice). */
export function mutate(input: Buffer, r: () => number): Buffer {
  const n = () => Math.floor(r() * input.length);
  let b = Buffer.from(input);
  const rounds = 1 + Math.floor(r() * 4);
  for (let k = 0; k < rounds; k++) {
    const at = Math.floor(r() * b.length);
    switch (Math.floor(r() * 7)) {
      case 0: b[at] = b[at]! ^ (1 << Math.floor(r() * 8)); break;
      case 1: b[at] = [0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xfe, 0xff][Math.floor(r() * 12)]!; break;
      case 2: { const ins = Buffer.alloc(1 + Math.floor(r() * 16)); for (let i = 0; i < ins.length; i++) ins[i] = Math.floor(r() * 256); b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]); break; }
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 16)))]); break;
      case 4: { const s = n(); b = Buffer.concat([b.subarray(0, at), input.subarray(s, s + 1 + Math.floor(r() * 32)), b.subarray(at)]); break; }
      case 5: b = b.subarray(0, at); break;
      default: { // long-size field: a LONG frame with a hostile size right after the greeting + READY
        const hdr = Buffer.alloc(9); hdr[0] = 2; hdr.writeBigUInt64BE([2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 31n, 64n * 1024n * 1024n + 1n][Math.floor(r() * 5)]!, 1);
        b = Buffer.concat([b.subarray(0, at), hdr, b.subarray(at)]);
      }
    }
  }
  return b;
}

/** Sends `data` (in 1..3 random segments) then half-closes; resolves when the connection is gone. */
async function hostile(port: number, data: Buffer, r: () => number): Promise<void> {
  let s: NetSocket;
  try {
    s = await rawConnect(port);
  } catch {
    return;
  }
  const closed = closedPromise(s);
  const cut = Math.floor(r() * data.length);
  s.write(data.subarray(0, cut));
  await sleep(r() < 0.3 ? 5 : 0);
  s.end(data.subarray(cut));
  await within(closed, 3000, "hostile connection closed").catch(() => s.destroy());
}

interface Target {
  name: "push" | "dealer" | "pub";
  label: string;
  make(): { server: zmq.Socket; probe(i: number): Promise<void>; close(): void };
}

const targets: Target[] = [
  {
    name: "push", label: "PULL",
    make() {
      const server = new zmq.Pull({ handshakeInterval: 300, maxMessageSize: 64 * 1024 * 1024, linger: 0 });
      let client: zmq.Push | null = null;
      return {
        server,
        async probe(i) {
          client ??= new zmq.Push({ linger: 0 });
          if (i === 0) client.connect(server.lastEndpoint!);
          await client.send(`probe-${i}`);
          for (;;) {
            const [m] = await within(server.receive(), 3000, `PULL probe ${i}`);
            if (m!.toString() === `probe-${i}`) return;
          }
        },
        close() { client?.close(); server.close(); },
      };
    },
  },
  {
    name: "dealer", label: "ROUTER",
    make() {
      const server = new zmq.Router({ handshakeInterval: 300, maxMessageSize: 64 * 1024 * 1024, linger: 0 });
      let client: zmq.Dealer | null = null;
      return {
        server,
        async probe(i) {
          client ??= new zmq.Dealer({ linger: 0, routingId: "good-peer" });
          if (i === 0) client.connect(server.lastEndpoint!);
          await client.send(`probe-${i}`);
          for (;;) {
            const [id, m] = await within(server.receive(), 3000, `ROUTER probe ${i}`);
            if (id!.toString() === "good-peer" && m?.toString() === `probe-${i}`) break;
          }
          await server.send(["good-peer", `reply-${i}`]);
          const [reply] = await within(client.receive(), 3000, `DEALER reply ${i}`);
          assert.equal(reply!.toString(), `reply-${i}`);
        },
        close() { client?.close(); server.close(); },
      };
    },
  },
  {
    name: "pub", label: "SUB",
    make() {
      const server = new zmq.Subscriber({ handshakeInterval: 300, maxMessageSize: 64 * 1024 * 1024, linger: 0 });
      server.subscribe();
      let client: zmq.Publisher | null = null;
      return {
        server,
        async probe(i) {
          client ??= new zmq.Publisher({ linger: 0 });
          if (i === 0) client.connect(server.lastEndpoint!);
          const want = `probe-${i}`;
          let got = false;
          const receiving = (async () => {
            for (;;) {
              const [m] = await server.receive();
              if (m!.toString() === want) { got = true; return; }
            }
          })();
          // PUB may drop until its subscription arrives: repeat (bounded).
          const pumping = (async () => { while (!got) { await client!.send(want); await sleep(5); } })();
          await within(receiving, 3000, `SUB probe ${i}`);
          await pumping;
        },
        close() { client?.close(); server.close(); },
      };
    },
  },
];

test(`mutation fuzzer: ${MUTATIONS} mutated libzmq conversations per socket type, a good peer still talks after each batch (seed ${SEED})`, async () => {
  const r = rng(SEED);
  const stats: string[] = [];
  for (const t of targets) {
    const input = recording(t.name);
    const { server, probe, close } = t.make();
    const t0 = performance.now();
    try {
      await server.bind("tcp://127.0.0.1:*");
      const port = portOf(server.lastEndpoint!);
      await probe(0);
      const BATCH = 25;
      let probes = 1;
      for (let done = 0; done < MUTATIONS; done += BATCH) {
        const batch: Promise<void>[] = [];
        for (let k = 0; k < Math.min(BATCH, MUTATIONS - done); k++) batch.push(hostile(port, mutate(input, r), r));
        await within(Promise.all(batch), 5000, `mutation batch ${done} on ${t.label}`);
        await probe(probes++);
      }
      stats.push(`${t.label}: ${MUTATIONS} mutated conversations, ${probes} good round trips, ${Math.round(performance.now() - t0)} ms`);
    } finally {
      close();
    }
  }
  for (const s of stats) console.log(`# ${s}`);
});

test("200 stalled handshakes: a good client still round-trips in < 1 s; each stalled one closed within handshakeInterval + margin", async () => {
  const IVL = 300;
  const router = new zmq.Router({ handshakeInterval: IVL, linger: 0 });
  const dealer = new zmq.Dealer({ linger: 0, routingId: "good" });
  const stalled: NetSocket[] = [];
  try {
    await router.bind("tcp://127.0.0.1:*");
    const port = portOf(router.lastEndpoint!);
    // Not closed early: timed on connections opened one at a time (see sequentialStallLifetimes).
    const alone = await sequentialStallLifetimes(port, encodeGreeting("NULL", false).subarray(0, 11));
    const lifetimes: number[] = [];
    const all: Promise<void>[] = [];
    const opens = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const s = await rawConnect(port);
      const opened = performance.now();
      stalled.push(s);
      if (i % 2 === 1) s.write(encodeGreeting("NULL", false).subarray(0, 11)); // half of them stall mid-greeting
      all.push(closedPromise(s).then(() => { lifetimes.push(performance.now() - opened); }));
      return opened;
    }));
    assert.equal(opens.length, 200);
    const t0 = performance.now();
    dealer.connect(router.lastEndpoint!);
    await dealer.send("ping");
    const [id, m] = await within(router.receive(), 1000, "good client's request among 200 stalled handshakes");
    assert.equal(id!.toString(), "good");
    assert.equal(m!.toString(), "ping");
    await router.send(["good", "pong"]);
    const [reply] = await within(dealer.receive(), 1000, "good client's reply");
    assert.equal(reply!.toString(), "pong");
    const rtt = performance.now() - t0;
    await within(Promise.all(all), IVL + 2000, "every stalled connection closed");
    lifetimes.sort((a, b) => a - b);
    const med = lifetimes[100]!;
    const max = lifetimes[199]!;
    console.log(`# stalled handshakes: good round trip ${rtt.toFixed(1)} ms; stalled closed after min ${lifetimes[0]!.toFixed(0)} / median ${med.toFixed(0)} / max ${max.toFixed(0)} ms (handshakeInterval ${IVL} ms); opened one at a time: ${alone.map((x) => x.toFixed(0)).join(", ")} ms`);
    assert.ok(rtt < 1000, `round trip took ${rtt} ms`);
    assert.ok(alone[0]! >= IVL - 20, `a stalled connection closed early (${alone[0]} ms)`);
    assert.ok(alone[alone.length - 1]! <= IVL + 700, `a stalled connection lived ${alone[alone.length - 1]} ms`);
    // In the burst the client-side clock starts late, so these lifetimes are if anything short: an upper bound holds.
    assert.ok(max <= IVL + 700, `a stalled connection lived ${max} ms`);
  } finally {
    for (const s of stalled) s.destroy();
    dealer.close();
    router.close();
  }
});

test("greeting, READY and messages one byte per write (libzmq's recorded PUSH, DEALER)", async () => {
  for (const [name, Server] of [["push", zmq.Pull], ["dealer", zmq.Router]] as const) {
    const server = new Server({ linger: 0 });
    let s: NetSocket | null = null;
    try {
      await server.bind("tcp://127.0.0.1:*");
      s = await rawConnect(portOf(server.lastEndpoint!));
      const conv = recording(name);
      for (let i = 0; i < conv.length; i++) {
        await new Promise<void>((res) => s!.write(conv.subarray(i, i + 1), () => res()));
        if (i % 8 === 0) await new Promise((res) => setImmediate(res));
      }
      const got: string[] = [];
      for (let k = 0; k < 3; k++) {
        const msg = await within(server.receive(), 3000, `${name} message ${k} sent byte by byte`);
        got.push(msg.map((f) => (f.length > 20 ? `${f[0] === 0x61 ? "a" : "?"}*${f.length}` : f.toString())).join("|"));
      }
      const prefix = name === "dealer" ? "dealer-1|" : "";
      assert.deepEqual(got, [`${prefix}hello`, `${prefix}multi|part|`, `${prefix}a*300`]);
    } finally {
      s?.destroy();
      server.close();
    }
  }
});

test("flood into a PULL that does not read: memory stays bounded, then everything drains in order", async () => {
  const SIZE = 64 * 1024;
  const HWM = 100;
  const pull = new zmq.Pull({ receiveHighWaterMark: HWM, linger: 0 });
  let s: NetSocket | null = null;
  try {
    await pull.bind("tcp://127.0.0.1:*");
    s = await rawConnect(portOf(pull.lastEndpoint!));
    s.write(encodeGreeting("NULL", false));
    s.write(encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from("PUSH")]])));
    const before = await settledMemory();
    let sent = 0;
    let accepted = 0;
    const deadline = performance.now() + 4000;
    // Write as fast as the kernel takes it; stop once writes have stalled for 300 ms (backpressure reached us).
    while (performance.now() < deadline) {
      const frame = encodeFrame(Buffer.alloc(SIZE, sent & 0xff), 0);
      const ok = s.write(frame);
      sent++;
      if (!ok) {
        const drained = await Promise.race([new Promise<boolean>((r) => s!.once("drain", () => r(true))), sleep(300).then(() => false)]);
        if (!drained) break;
      }
      accepted = sent;
    }
    const after = await settledMemory();
    const growth = after - before;
    console.log(`# PULL flood: ${accepted} x 64 KiB (${mib(accepted * SIZE)}) taken before backpressure stopped the writer; PULL rcvhwm ${HWM}; memory growth ${mib(growth)}`);
    assert.ok(performance.now() < deadline, "the writer was never stopped by backpressure");
    // hwm x size (6.25 MiB) + decoder/stream buffers; generous: 32 MiB.
    assert.ok(growth < 32 * MiB, `memory grew ${mib(growth)}`);
    for (let i = 0; i < sent; i++) {
      const [m] = await within(pull.receive(), 3000, `flood message ${i}/${sent}`);
      assert.equal(m!.length, SIZE);
      assert.equal(m![0], i & 0xff, `message ${i} out of order`);
    }
  } finally {
    s?.destroy();
    pull.close();
  }
});

test("a subscriber that never reads: PUB memory bounded by ~2 x sndhwm x size, a fast subscriber gets everything", async () => {
  const SIZE = 16 * 1024;
  const HWM = 100;
  const TOTAL = 3000;
  const pub = new zmq.Publisher({ sendHighWaterMark: HWM, linger: 0 });
  const fast = new zmq.Subscriber({ receiveHighWaterMark: 0, linger: 0 });
  let slow: NetSocket | null = null;
  try {
    await pub.bind("tcp://127.0.0.1:*");
    slow = await rawConnect(portOf(pub.lastEndpoint!));
    slow.write(encodeGreeting("NULL", false));
    slow.write(encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from("SUB")]])));
    slow.write(encodeSubscribe(Buffer.alloc(0)));
    slow.pause(); // never reads: the kernel buffers fill, then our engine's writes block
    fast.subscribe();
    fast.connect(pub.lastEndpoint!);
    // Wait until the fast subscriber's subscription is in (PUB drops before that).
    let joined = false;
    const join = (async () => { const [m] = await fast.receive(); assert.equal(m!.toString(), "join"); joined = true; })();
    while (!joined) { await pub.send("join"); await sleep(5); await Promise.race([join, sleep(1)]); }
    // Drain any extra "join" copies lazily below.
    const before = await settledMemory();
    let received = 0;
    let peak = 0;
    const consume = (async () => {
      while (received < TOTAL) {
        const [m] = await fast.receive();
        if (m!.length === SIZE) {
          assert.equal(m!.readUInt32BE(0), received, "fast subscriber: loss or reordering");
          received++;
        }
      }
    })();
    for (let i = 0; i < TOTAL; i++) {
      const b = Buffer.alloc(SIZE);
      b.writeUInt32BE(i, 0);
      await pub.send(b);
      // Pace to the fast subscriber (never more than HWM/2 ahead), so only the slow one is ever at HWM.
      while (i - received > HWM / 2) await sleep(1);
      if (i % 500 === 0) {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers - before);
      }
    }
    await within(consume, 10_000, "fast subscriber got everything");
    const after = await settledMemory();
    const growth = after - before;
    const bound = 2 * HWM * SIZE + 8 * MiB;
    console.log(`# slow subscriber: ${TOTAL} x 16 KiB published (${mib(TOTAL * SIZE)}); fast subscriber got ${received}/${TOTAL}; PUB retained growth ${mib(growth)} (bound 2 x ${HWM} x 16 KiB + 8 MiB = ${mib(bound)}); peak sampled ${mib(peak)}`);
    assert.equal(received, TOTAL);
    assert.ok(growth < bound, `retained ${mib(growth)} > ${mib(bound)}`);
  } finally {
    slow?.destroy();
    fast.close();
    pub.close();
  }
});
