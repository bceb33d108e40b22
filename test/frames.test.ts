/** Frames with connection properties, send tracking and copy (issue: arrays without copying, part 3). */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../src/index.js";
import { within, link } from "./helpers/util.js";

const T = 5000;

test("receiveFrames: bytes as views, MORE flags, the peer's properties and Peer-Address (tcp)", async () => {
  const router = new zmq.Router();
  const dealer = new zmq.Dealer({ routingId: "worker-7" });
  try {
    await link(router, dealer, "tcp");
    await dealer.send(["a", "bc"]);
    const frames = await within(router.receiveFrames(), T, "frames");
    assert.deepEqual(frames.map((f) => f.buffer.toString()), ["worker-7", "a", "bc"]);
    assert.deepEqual(frames.map((f) => f.more), [true, true, false]);
    assert.equal(frames[1]!.get("Socket-Type"), "DEALER");
    assert.equal(frames[1]!.get("identity"), "worker-7");
    assert.equal(frames[1]!.get("Peer-Address"), "127.0.0.1");
    assert.equal(frames[1]!.routingId!.toString(), "worker-7");
    assert.equal(frames[1]!.get("No-Such-Property"), undefined);
  } finally {
    router.close();
    dealer.close();
  }
});

test("send({track: true}) over inproc: done once the receiver has the message", async () => {
  const push = new zmq.Push();
  const pull = new zmq.Pull();
  try {
    await link(pull, push, "inproc");
    const tracker = await push.send(Buffer.from("payload"), { track: true });
    assert.equal(tracker.isDone, false, "still queued, not yet received");
    await within(pull.receive(), T, "receive");
    assert.equal(tracker.isDone, true);
    await within(tracker.done, T, "tracker");
  } finally {
    push.close();
    pull.close();
  }
});

test("send({track: true}) over tcp: done once the bytes are handed to the kernel", async () => {
  const push = new zmq.Push();
  const pull = new zmq.Pull();
  try {
    await link(pull, push, "tcp");
    const big = Buffer.alloc(1 << 20, 3);
    const tracker = await push.send(big, { track: true });
    await within(tracker.done, T, "tracker done after write");
    const [got] = await within(pull.receive(), T, "receive");
    assert.equal(got!.length, big.length);
  } finally {
    push.close();
    pull.close();
  }
});

test("send({copy: true}) snapshots; by default small frames (<= 128 B) are copied and large ones sent by reference", async () => {
  const a = new zmq.Pair();
  const b = new zmq.Pair();
  try {
    await link(a, b, "inproc");
    const big = Buffer.alloc(4096, 1);
    await b.send(big, { copy: true });
    big.fill(2);
    assert.equal((await within(a.receive(), T, "copied"))[0]![0], 1);
    await b.send(big);
    const [same] = await within(a.receive(), T, "by reference");
    assert.equal(same, big, "inproc hands over the very same Buffer");
    const small = Buffer.from("before");
    await b.send(small);
    small.write("after!");
    const [copy] = await within(a.receive(), T, "small copied");
    assert.equal(copy!.toString(), "before", "a small frame may be reused once send() returns, as in zeromq.js");
  } finally {
    a.close();
    b.close();
  }
});

test("a tracked message a PUB drops (no subscriber) is done at once", async () => {
  const pub = new zmq.Publisher();
  try {
    await pub.bind("inproc://tracked-pub");
    const tracker = await pub.send("nobody listens", { track: true });
    assert.equal(tracker.isDone, true);
  } finally {
    pub.close();
  }
});
