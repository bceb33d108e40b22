import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LoadBalancer } from "../../src/routing/load-balancer.js";
import { FakeOwner, pipes, msg, text, drainOut } from "./helpers.js";

function setup(n: number, sndhwm = 0) {
  const owner = new FakeOwner();
  const lb = new LoadBalancer();
  owner.onWritable = (p) => lb.activated(p);
  owner.onTerminated = (p) => lb.terminated(p);
  const ps = pipes(owner, n, sndhwm);
  for (const p of ps) lb.attach(p);
  return { owner, lb, ps };
}

test("lb: round-robin, one whole message per pipe, continuing where it left off", () => {
  const { lb, ps } = setup(3);
  assert.equal(lb.size, 3);
  const used: number[] = [];
  for (let i = 0; i < 7; i++) used.push(ps.indexOf(lb.send(msg(`m${i}`, "body"))!));
  assert.deepEqual(used, [0, 1, 2, 0, 1, 2, 0]);
  assert.deepEqual(drainOut(ps[0]!).map(text), ["m0|body", "m3|body", "m6|body"]);
  assert.deepEqual(drainOut(ps[1]!).map(text), ["m1|body", "m4|body"]);
  assert.deepEqual(drainOut(ps[2]!).map(text), ["m2|body", "m5|body"]);
  // the next one goes to pipe 1: the rotation carries on
  assert.equal(lb.send(msg("m7")), ps[1]);
});

test("lb: a new pipe joins at the end of the rotation", () => {
  const { owner, lb, ps } = setup(2);
  assert.equal(lb.send(msg("a")), ps[0]);
  const [p2] = pipes(owner, 1);
  lb.attach(p2!);
  lb.attach(p2!); // attaching twice is harmless
  assert.equal(lb.size, 3);
  // it gets its turn after every pipe already in the rotation
  assert.deepEqual([lb.send(msg("b")), lb.send(msg("c")), lb.send(msg("d"))], [ps[1], ps[0], p2]);
});

test("lb: full pipes are skipped until they report room again", () => {
  const { owner, lb, ps } = setup(3, 2);
  const [a, b, c] = ps as [typeof ps[0], typeof ps[0], typeof ps[0]];
  // fill b up to its mark directly (as if earlier sends had filled it)
  b.write(msg("x"));
  b.write(msg("y"));
  assert.equal(b.writable, false);
  const used: unknown[] = [];
  for (let i = 0; i < 4; i++) used.push(lb.send(msg(`m${i}`)));
  // a, (b refused -> skipped) c, a, c
  assert.deepEqual(used, [a, c, a, c]);
  assert.equal(b.outbound.length, 2);
  // a and c are now full too (hwm 2): nothing takes the next message
  assert.equal(lb.hasOut, false);
  assert.equal(lb.send(msg("nope")), null);
  // the engine drains b: the pipe tells its owner, which activates it in the lb
  drainOut(b);
  assert.equal(owner.count("writable", b), 1);
  assert.equal(lb.hasOut, true);
  assert.equal(lb.send(msg("after")), b);
  assert.equal(lb.send(msg("after2")), b);
  assert.equal(lb.send(msg("after3")), null);
  assert.deepEqual(drainOut(b).map(text), ["after", "after2"]);
});

test("lb: activated() for unknown or already active pipes is a no-op", () => {
  const { owner, lb, ps } = setup(2);
  const [stranger] = pipes(owner, 1);
  lb.activated(stranger!);
  lb.activated(ps[0]!);
  assert.equal(lb.size, 2);
  assert.deepEqual([lb.send(msg("1")), lb.send(msg("2")), lb.send(msg("3"))], [ps[0], ps[1], ps[0]]);
});

test("lb: terminated pipes leave the rotation", () => {
  const { lb, ps } = setup(3);
  assert.equal(lb.send(msg("0")), ps[0]);
  ps[1]!.terminate();
  assert.equal(lb.size, 2);
  const used = [lb.send(msg("1")), lb.send(msg("2")), lb.send(msg("3")), lb.send(msg("4"))];
  assert.ok(!used.includes(ps[1]!));
  assert.equal(used.filter((p) => p === ps[0]).length, 2);
  assert.equal(used.filter((p) => p === ps[2]).length, 2);
  ps[0]!.terminate();
  ps[2]!.terminate();
  assert.equal(lb.size, 0);
  assert.equal(lb.hasOut, false);
  assert.equal(lb.send(msg("5")), null);
});

test("lb (property): sends iff some pipe has room, never past a mark, fair when none is full", () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant("send" as const) }),
    fc.record({ t: fc.constant("drain" as const), i: fc.nat(4), n: fc.nat(3) }),
    fc.record({ t: fc.constant("term" as const), i: fc.nat(4) }),
  );
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }), fc.array(op, { maxLength: 80 }), (hwms, ops) => {
      const owner = new FakeOwner();
      const lb = new LoadBalancer();
      owner.onWritable = (p) => lb.activated(p);
      owner.onTerminated = (p) => lb.terminated(p);
      const ps = hwms.map((h) => pipes(owner, 1, h)[0]!);
      for (const p of ps) lb.attach(p);
      let seq = 0;
      for (const o of ops) {
        if (o.t === "send") {
          const anyRoom = ps.some((p) => p.writable);
          const before = ps.map((p) => p.outbound.length);
          const used = lb.send(msg(String(seq++)));
          assert.equal(used !== null, anyRoom);
          ps.forEach((p, k) => assert.equal(p.outbound.length, before[k]! + (p === used ? 1 : 0)));
          assert.equal(lb.hasOut, ps.some((p) => p.writable));
        } else if (o.t === "drain") {
          const p = ps[o.i % ps.length]!;
          for (let k = 0; k < o.n; k++) p.outbound.shift();
        } else {
          ps[o.i % ps.length]!.terminate();
        }
        for (const p of ps) assert.ok(p.outbound.capacity === 0 || p.outbound.length <= p.outbound.capacity);
      }
    }),
    { seed: 42, numRuns: 300 },
  );
  // Fairness with no full pipes: counts differ by at most one at every step.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 50 }), (n, sends) => {
      const { lb, ps } = setup(n);
      const counts = new Map(ps.map((p) => [p, 0]));
      for (let i = 0; i < sends; i++) {
        const p = lb.send(msg("x"))!;
        counts.set(p, counts.get(p)! + 1);
        const v = [...counts.values()];
        assert.ok(Math.max(...v) - Math.min(...v) <= 1);
      }
    }),
    { seed: 42, numRuns: 100 },
  );
});
