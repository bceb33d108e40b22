/**
 * Sockets of two worker threads joined over a MessagePort (src/transport/port.ts):
 * the socket API across threads with no copy, by transferring ArrayBuffers or
 * sharing a SharedArrayBuffer. Each test starts one or two workers
 * (port-worker.ts) and hands each its end of a MessageChannel.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel, type Worker } from "node:worker_threads";
import * as zmq from "../../src/index.js";
import { attachPort } from "../../src/transport/port.js";
import { within } from "../helpers/util.js";
import { startWorker, nextMessage, stop, now, START_MS } from "./helpers.js";

const WORKER = new URL("./port-worker.ts", import.meta.url);
const T = 5000;
const BIG = 64 << 20; // 64 MiB
const valueAt = (i: number, seed: number) => i * 0.5 + seed;

type Msg = {
  ready?: boolean; error?: string; sent?: boolean; at?: number; byteLength?: number;
  written?: boolean; shared?: boolean; ok?: boolean; length?: number; reply?: string[];
  refused?: boolean; address?: string; message?: string; got?: string[]; closed?: boolean;
};

const ready = (w: Worker) => nextMessage<Msg>(w, (m) => m.ready === true || m.error !== undefined, START_MS, "worker ready");

function checkArray(frame: Buffer, seed: number): boolean {
  const a = new Float64Array(frame.buffer, frame.byteOffset, frame.byteLength / 8);
  for (let i = 0; i < a.length; i++) if (a[i] !== valueAt(i, seed)) return false;
  return true;
}

/** Best time (ms) of `reps` runs of `fn`. */
function best(reps: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

describe("sockets of two threads over a MessagePort", () => {
  test("PUSH in a worker moves a 64 MiB Float64Array to a PULL in the main thread: transferred, not copied", async (t) => {
    const moved = new MessageChannel();
    const copied = new MessageChannel();
    const pull = new zmq.Pull({ linger: 0 });
    const pullCopy = new zmq.Pull({ linger: 0 });
    attachPort(pull, moved.port1);
    attachPort(pullCopy, copied.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "push-big", port: moved.port2, copyPort: copied.port2, elements: BIG / 8 }, [moved.port2, copied.port2]);
      assert.equal((await ready(w)).error, undefined);
      const run = async (seed: number, copy: boolean) => {
        const sentP = nextMessage<Msg>(w!, (m) => m.sent === true || m.error !== undefined, T, `array ${seed} sent`);
        w!.postMessage({ send: { seed, copy } });
        const frames = await within((copy ? pullCopy : pull).receive(), T, `array ${seed} received`);
        const at = now();
        const sent = await sentP;
        assert.equal(sent.error, undefined);
        assert.equal(frames.length, 1);
        const frame = frames[0]!;
        assert.equal(frame.byteLength, BIG);
        assert.ok(checkArray(frame, seed), "every element arrived as sent");
        w!.postMessage({ report: true });
        const { byteLength } = await nextMessage<Msg>(w!, (m) => m.byteLength !== undefined, T, "sender's buffer state");
        return { ms: at - sent.at!, frame, senderBytes: byteLength };
      };
      const movedMs: number[] = [];
      for (let seed = 0; seed < 2; seed++) {
        const r = await run(seed, false);
        // The received frame is the sender's own ArrayBuffer, moved: the sender's view is detached.
        assert.equal(r.senderBytes, 0, "the worker's Float64Array is detached: its memory moved, no copy");
        assert.equal(r.frame.byteOffset, 0);
        assert.equal(r.frame.buffer.byteLength, BIG);
        movedMs.push(r.ms);
      }
      const copy = await run(9, true);
      assert.equal(copy.senderBytes, BIG, "without transfer the sender keeps its array");

      const src = new Uint8Array(BIG).fill(7);
      const dst = new Uint8Array(BIG).fill(1);
      const memcpy = best(3, () => dst.set(src));
      const allocCopy = best(2, () => void new Uint8Array(src));
      const moveBest = Math.min(...movedMs);
      t.diagnostic(
        `64 MiB Float64Array worker -> main over a MessagePort: transferred ${moveBest.toFixed(2)} ms best ` +
          `(${movedMs.map((x) => x.toFixed(2)).join(", ")}), copied (transfer off) ${copy.ms.toFixed(2)} ms; ` +
          `memcpy of 64 MiB in this thread ${memcpy.toFixed(2)} ms (warm), ${allocCopy.toFixed(2)} ms with a fresh allocation`,
      );
    } finally {
      pull.close();
      pullCopy.close();
      await stop(w);
    }
  });

  test("a SharedArrayBuffer-backed Float64Array arrives in the worker as the same shared memory", async () => {
    const ch = new MessageChannel();
    const push = new zmq.Push({ linger: 0 });
    attachPort(push, ch.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "pull-sab", port: ch.port2 }, [ch.port2]);
      assert.equal((await ready(w)).error, undefined);
      const n = (8 << 20) / 8;
      const a = new Float64Array(new SharedArrayBuffer(n * 8));
      for (let i = 0; i < n; i++) a[i] = valueAt(i, 7);
      const writtenP = nextMessage<Msg>(w, (m) => m.written === true || m.error !== undefined, T, "worker wrote");
      await within(push.send(["7", a]), T, "send");
      const r = await writtenP;
      assert.equal(r.error, undefined);
      assert.equal(r.shared, true, "the frame is a view of a SharedArrayBuffer");
      assert.equal(r.ok, true, "every element arrived as sent");
      assert.equal(r.length, n);
      // The worker's writes show in our own array: one memory, never copied.
      assert.equal(a[0], -1);
      assert.equal(a[n - 1], -2);
      assert.equal(a[1], valueAt(1, 7));
    } finally {
      push.close();
      await stop(w);
    }
  });

  test("REQ in the main thread and REP in a worker: multipart round trips", async () => {
    const ch = new MessageChannel();
    const req = new zmq.Request({ linger: 0 });
    attachPort(req, ch.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "rep", port: ch.port2 }, [ch.port2]);
      assert.equal((await ready(w)).error, undefined);
      for (let i = 0; i < 5; i++) {
        const big = Buffer.alloc(100_000 + i, i);
        await within(req.send([`a${i}`, "", big]), T, `request ${i}`);
        const reply = await within(req.receive(), T, `reply ${i}`);
        assert.equal(reply.length, 4);
        assert.ok(reply[0]!.equals(big));
        assert.equal(reply[1]!.length, 0);
        assert.equal(reply[2]!.toString(), `a${i}`);
        assert.equal(reply[3]!.toString(), "!");
      }
    } finally {
      req.close();
      await stop(w);
    }
  });

  test("ROUTER in the main thread with two DEALER workers: routing ids seen, replies routed", async () => {
    const a = new MessageChannel();
    const b = new MessageChannel();
    const router = new zmq.Router({ linger: 0 });
    attachPort(router, a.port1);
    attachPort(router, b.port1);
    let w1: Worker | undefined;
    let w2: Worker | undefined;
    try {
      w1 = startWorker(WORKER, { role: "dealer", port: a.port2, name: "w1" }, [a.port2]);
      w2 = startWorker(WORKER, { role: "dealer", port: b.port2, name: "w2" }, [b.port2]);
      const replies = [w1, w2].map((w, i) =>
        nextMessage<Msg>(w, (m) => m.reply !== undefined || m.error !== undefined, START_MS, `reply to w${i + 1}`));
      const seen = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const [id, hello, name] = await within(router.receive(), START_MS, `hello #${i}`);
        assert.equal(hello!.toString(), "hello");
        assert.equal(id!.toString(), name!.toString(), "the ROUTER sees the DEALER's routing id");
        seen.add(id!.toString());
        await router.send([id!, "reply", `for ${id!.toString()}`]);
      }
      assert.deepEqual([...seen].sort(), ["w1", "w2"]);
      const [r1, r2] = await Promise.all(replies);
      assert.deepEqual(r1!.reply, ["reply", "for w1"]);
      assert.deepEqual(r2!.reply, ["reply", "for w2"]);
    } finally {
      router.close();
      await Promise.all([stop(w1), stop(w2)]);
    }
  });

  test("an incompatible pair (PUSH and PUB) is refused on both sides", async () => {
    const ch = new MessageChannel();
    const push = new zmq.Push({ linger: 0, sendTimeout: 100 });
    const refusedHere = new Promise<{ address: string; error: Error }>((resolve) =>
      push.events.on("handshake:error:protocol", (e) => resolve(e)));
    attachPort(push, ch.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "pub", port: ch.port2 }, [ch.port2]);
      const thereP = nextMessage<Msg>(w, (m) => m.refused === true || m.error !== undefined, START_MS, "the PUB's refusal");
      const here = await within(refusedHere, START_MS, "the PUSH's refusal");
      assert.equal(here.address, "port");
      assert.match(here.error.message, /protocol error/);
      const there = await thereP;
      assert.equal(there.address, "port");
      // Nothing joined: the PUSH has no peer to send to.
      await assert.rejects(push.send("x"), (e: NodeJS.ErrnoException) => e.code === "EAGAIN");
    } finally {
      push.close();
      await stop(w);
    }
  });

  test("closing the worker's socket ends the connection: the main PUSH then has no peer (EAGAIN)", async () => {
    const ch = new MessageChannel();
    const push = new zmq.Push({ linger: 0, sendTimeout: 100 });
    const disconnected = new Promise<string>((resolve) => push.events.on("disconnect", (e) => resolve(e.address)));
    attachPort(push, ch.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "pull-close", port: ch.port2 }, [ch.port2]);
      assert.equal((await ready(w)).error, undefined);
      const gotP = nextMessage<Msg>(w, (m) => m.got !== undefined || m.error !== undefined, START_MS, "first message in the worker");
      await within(push.send("one"), START_MS, "first send");
      assert.deepEqual((await gotP).got, ["one"]);
      w.postMessage({ close: true });
      assert.equal(await within(disconnected, T, "disconnect"), "port");
      await assert.rejects(push.send("two"), (e: NodeJS.ErrnoException) => e.code === "EAGAIN");
    } finally {
      push.close();
      await stop(w);
    }
  });

  test("a worker that ends ends the connection too", async () => {
    const ch = new MessageChannel();
    const push = new zmq.Push({ linger: 0, sendTimeout: 100 });
    const disconnected = new Promise<string>((resolve) => push.events.on("disconnect", (e) => resolve(e.address)));
    attachPort(push, ch.port1);
    let w: Worker | undefined;
    try {
      w = startWorker(WORKER, { role: "pull-close", port: ch.port2 }, [ch.port2]);
      assert.equal((await ready(w)).error, undefined);
      const gotP = nextMessage<Msg>(w, (m) => m.got !== undefined || m.error !== undefined, START_MS, "first message in the worker");
      await within(push.send("one"), START_MS, "first send");
      assert.deepEqual((await gotP).got, ["one"]);
      await w.terminate();
      w = undefined;
      assert.equal(await within(disconnected, T, "disconnect"), "port");
      await assert.rejects(push.send("two"), (e: NodeJS.ErrnoException) => e.code === "EAGAIN");
    } finally {
      push.close();
      await stop(w);
    }
  });
});
