/**
 * The MessagePort transport's rules, checked with both ends of a MessageChannel in
 * this thread (no worker needed: the port behaves the same): credit-based
 * back-pressure, which frames are transferred and which copied, linger on close,
 * detach.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel } from "node:worker_threads";
import * as zmq from "../../src/index.js";
import { attachPort } from "../../src/transport/port.js";
import { within } from "../helpers/util.js";

const T = 2000;
const isEagain = (e: NodeJS.ErrnoException) => e.code === "EAGAIN";

describe("MessagePort transport, one thread", () => {
  test("back-pressure: the sender stops at its mark plus the receiver's, then resumes as the receiver reads", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 0, sendHighWaterMark: 10, sendTimeout: 50 });
    const pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: 10 });
    attachPort(push, port1);
    attachPort(pull, port2);
    try {
      let sent = 0;
      for (;;) {
        try {
          await push.send(String(sent));
          sent++;
        } catch (e) {
          assert.ok(isEagain(e as NodeJS.ErrnoException));
          break;
        }
        assert.ok(sent <= 40, "the sender is held back");
      }
      // 10 in flight (the PULL's credit) + 10 queued in the PUSH (+1 the routing holds).
      assert.ok(sent >= 20 && sent <= 22, `sent ${sent} before EAGAIN`);
      const total = sent + 100;
      const sending = (async () => {
        for (let i = sent; i < total; i++) await push.send(String(i));
      })();
      for (let i = 0; i < total; i++) {
        const [m] = await within(pull.receive(), T, `message ${i}`);
        assert.equal(m!.toString(), String(i), "in order");
      }
      await within(sending, T, "the sender resumed");
    } finally {
      push.close();
      pull.close();
    }
  });

  test("with transfer: an exclusive ArrayBuffer moves; pooled, sliced and shared frames are not detached", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 0 });
    const pull = new zmq.Pull({ linger: 0 });
    attachPort(push, port1, { transfer: true });
    attachPort(pull, port2);
    try {
      const owned = new Uint8Array(4096).fill(1);
      const backing = new Uint8Array(8192).fill(2);
      const slice = backing.subarray(100, 4100);
      const pooled = Buffer.from("small, from Node's pool");
      const shared = new Uint8Array(new SharedArrayBuffer(4096)).fill(3);
      await push.send([owned, slice, pooled, shared, owned]);
      const got = await within(pull.receive(), T, "message");
      assert.equal(got.length, 5);
      assert.equal(owned.byteLength, 0, "the exclusive buffer moved");
      assert.equal(backing.byteLength, 8192, "a view of part of a buffer is copied, never moves its buffer");
      assert.equal(pooled.toString(), "small, from Node's pool");
      assert.equal(shared.byteLength, 4096);
      assert.ok(got[0]!.equals(Buffer.alloc(4096, 1)));
      assert.ok(got[4]!.equals(Buffer.alloc(4096, 1)), "the same buffer twice in a message arrives twice");
      assert.ok(got[1]!.equals(Buffer.alloc(4000, 2)));
      assert.ok(got[1]!.buffer.byteLength < 8192, "only the slice's own bytes were copied");
      assert.equal(got[2]!.toString(), "small, from Node's pool");
      assert.ok(got[3]!.buffer instanceof SharedArrayBuffer, "shared memory stays shared");
      got[3]![0] = 9;
      assert.equal(shared[0], 9);
    } finally {
      push.close();
      pull.close();
    }
  });

  test("without transfer nothing of the sender's is detached", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 0 });
    const pull = new zmq.Pull({ linger: 0 });
    attachPort(push, port1);
    attachPort(pull, port2);
    try {
      const owned = new Float64Array(100_000).fill(1.5);
      await push.send(owned);
      const [f] = await within(pull.receive(), T, "message");
      assert.equal(owned.byteLength, 800_000);
      assert.equal(f!.byteLength, 800_000);
      assert.equal(new Float64Array(f!.buffer, f!.byteOffset, 100_000)[99_999], 1.5);
    } finally {
      push.close();
      pull.close();
    }
  });

  test("PUB ignores transfer: one message goes to several peers", async () => {
    const a = new MessageChannel();
    const b = new MessageChannel();
    const pub = new zmq.Publisher({ linger: 0 });
    const s1 = new zmq.Subscriber({ linger: 0 });
    const s2 = new zmq.Subscriber({ linger: 0 });
    s1.subscribe();
    s2.subscribe();
    attachPort(pub, a.port1, { transfer: true });
    attachPort(pub, b.port1, { transfer: true });
    attachPort(s1, a.port2);
    attachPort(s2, b.port2);
    try {
      const data = new Uint8Array(1000).fill(4);
      const r1 = s1.receive();
      const r2 = s2.receive();
      // Subscriptions travel the ports first: publish until both have one.
      const timer = setInterval(() => void pub.send(data), 10);
      try {
        const [[m1], [m2]] = await within(Promise.all([r1, r2]), T, "both subscribers");
        assert.ok(m1!.equals(Buffer.alloc(1000, 4)));
        assert.ok(m2!.equals(Buffer.alloc(1000, 4)));
      } finally {
        clearInterval(timer);
      }
      assert.equal(data.byteLength, 1000);
    } finally {
      pub.close();
      s1.close();
      s2.close();
    }
  });

  test("close() with linger posts what is queued, then the peer sees the end", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 1000 });
    const pull = new zmq.Pull({ linger: 0 });
    const ended = new Promise<void>((resolve) => pull.events.on("disconnect", () => resolve()));
    attachPort(push, port1);
    try {
      // Queued before the peer is even attached, then the socket closes at once.
      for (let i = 0; i < 3; i++) await push.send(String(i));
      push.close();
      attachPort(pull, port2);
      for (let i = 0; i < 3; i++) {
        const [m] = await within(pull.receive(), T, `message ${i}`);
        assert.equal(m!.toString(), String(i));
      }
      await within(ended, T, "disconnect");
    } finally {
      push.close();
      pull.close();
    }
  });

  test("close() with linger 0 drops what is queued", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 0 });
    const pull = new zmq.Pull({ linger: 0, receiveTimeout: 100 });
    attachPort(push, port1);
    try {
      await push.send("dropped");
      push.close();
      attachPort(pull, port2);
      await assert.rejects(pull.receive(), isEagain);
    } finally {
      pull.close();
    }
  });

  test("detach() ends the connection; the socket carries on", async () => {
    const { port1, port2 } = new MessageChannel();
    const push = new zmq.Push({ linger: 0, sendTimeout: 100 });
    const pull = new zmq.Pull({ linger: 0 });
    const detach = attachPort(push, port1);
    const ended = new Promise<void>((resolve) => pull.events.on("disconnect", () => resolve()));
    attachPort(pull, port2);
    try {
      await push.send("a");
      assert.equal((await within(pull.receive(), T, "a"))[0]!.toString(), "a");
      detach();
      await within(ended, T, "the peer's disconnect");
      await assert.rejects(push.send("b"), isEagain);
      assert.equal(push.closed, false);
      // A new port joins the same socket again.
      const again = new MessageChannel();
      attachPort(push, again.port1);
      attachPort(pull, again.port2);
      await push.send("c");
      assert.equal((await within(pull.receive(), T, "c"))[0]!.toString(), "c");
    } finally {
      push.close();
      pull.close();
    }
  });

  test("attachPort refuses a closed socket and a STREAM", () => {
    const closed = new zmq.Push();
    closed.close();
    const { port1, port2 } = new MessageChannel();
    assert.throws(() => attachPort(closed, port1), (e: NodeJS.ErrnoException) => e.code === "EBADF");
    const stream = new zmq.Stream();
    assert.throws(() => attachPort(stream, port2), (e: NodeJS.ErrnoException) => e.code === "ENOCOMPATPROTO");
    stream.close();
    port1.close();
  });
});
