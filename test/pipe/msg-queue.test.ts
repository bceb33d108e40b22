import { test } from "node:test";
import assert from "node:assert/strict";
import { MsgQueue, type Message } from "../../src/pipe/msg-queue.js";

const msg = (n: number): Message => [Buffer.from([n])] as Message;

test("a full queue wakes its producer at the first free slot by default", () => {
  const q = new MsgQueue(4);
  let woken = 0;
  q.onWritable = () => woken++;
  for (let i = 0; i < 4; i++) assert.equal(q.push(msg(i)), true);
  assert.equal(q.push(msg(4)), false);
  q.shift();
  assert.equal(woken, 1);
});

test("lowWater: a full queue wakes its producer only at half its mark, once", () => {
  const q = new MsgQueue(4);
  q.lowWater = true;
  let woken = 0;
  q.onWritable = () => woken++;
  for (let i = 0; i < 5; i++) q.forcePush(msg(i)); // an engine queues past the mark
  q.shift(); // 4 left
  q.shift(); // 3 left
  assert.equal(woken, 0);
  q.shift(); // 2 left: half of 4
  assert.equal(woken, 1);
  q.shift();
  q.shift();
  assert.equal(woken, 1, "woken once per time it filled");
});

test("lowWater with a mark of 1 wakes when the queue is empty", () => {
  const q = new MsgQueue(1);
  q.lowWater = true;
  let woken = 0;
  q.onWritable = () => woken++;
  q.forcePush(msg(0));
  q.forcePush(msg(1));
  q.shift();
  assert.equal(woken, 0);
  q.shift();
  assert.equal(woken, 1);
});

test("onFull may drain the queue so the push is taken, in order", () => {
  const q = new MsgQueue(2);
  const wire: number[] = [];
  q.onFull = () => {
    let m: Message | undefined;
    while ((m = q.shift()) !== undefined) wire.push(m[0]![0]!);
  };
  for (let i = 0; i < 5; i++) assert.equal(q.push(msg(i)), true);
  while (q.length > 0) wire.push(q.shift()![0]![0]!);
  assert.deepEqual(wire, [0, 1, 2, 3, 4]);
});

test("onFull that cannot drain: the push is refused", () => {
  const q = new MsgQueue(1);
  let calls = 0;
  q.onFull = () => calls++;
  assert.equal(q.push(msg(0)), true);
  assert.equal(q.push(msg(1)), false);
  assert.equal(calls, 1);
  assert.equal(q.length, 1);
});
