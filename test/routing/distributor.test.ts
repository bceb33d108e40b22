import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Distributor } from "../../src/routing/distributor.js";
import type { Pipe } from "../../src/pipe/pipe.js";
import { FakeOwner, pipes, msg, text, drainOut } from "./helpers.js";

function setup(n: number, sndhwm = 0) {
  const owner = new FakeOwner();
  const dist = new Distributor();
  owner.onWritable = (p) => dist.activated(p);
  owner.onTerminated = (p) => dist.terminated(p);
  const ps = pipes(owner, n, sndhwm);
  for (const p of ps) dist.attach(p);
  return { owner, dist, ps };
}

test("dist: sendToAll hands the very same Message (same Buffers) to every pipe", () => {
  const { dist, ps } = setup(3);
  const m = msg("topic", "payload");
  assert.equal(dist.sendToAll(m), 3);
  for (const p of ps) {
    const got = drainOut(p);
    assert.equal(got.length, 1);
    assert.equal(got[0], m);
    assert.equal(got[0]![0], m[0]);
    assert.equal(got[0]![1], m[1]);
  }
});

test("dist: only full pipes miss a message (silent drop), and get later ones once drained", () => {
  const { owner, dist, ps } = setup(3, 2);
  const [a, b, c] = ps as [Pipe, Pipe, Pipe];
  assert.equal(dist.sendToAll(msg("1")), 3);
  drainOut(a);
  drainOut(c);
  assert.equal(dist.sendToAll(msg("2")), 3); // b is now at its mark
  assert.equal(b.writable, false);
  assert.equal(dist.sendToAll(msg("3")), 2); // b misses it
  assert.equal(dist.sendToAll(msg("4")), 0); // a and c are at their mark now too
  assert.deepEqual(drainOut(b).map(text), ["1", "2"]);
  assert.equal(owner.count("writable", b), 1);
  assert.equal(dist.sendToAll(msg("5")), 1);
  assert.deepEqual(drainOut(b).map(text), ["5"]);
  assert.deepEqual(drainOut(a).map(text), ["2", "3"]);
  assert.deepEqual(drainOut(c).map(text), ["2", "3"]);
  assert.equal(dist.sendToAll(msg("6")), 3);
});

test("dist: match / unmatch / sendToMatching / checkHwm", () => {
  const { owner, dist, ps } = setup(4, 1);
  const [a, b, c, d] = ps as [Pipe, Pipe, Pipe, Pipe];
  dist.match(a);
  dist.match(c);
  dist.match(c); // twice is once
  assert.equal(dist.checkHwm(), true);
  const m = msg("x");
  assert.equal(dist.sendToMatching(m), 2);
  assert.equal(a.outbound.peek(), m);
  assert.equal(c.outbound.peek(), m);
  assert.equal(b.outbound.length + d.outbound.length, 0);
  // match set cleared after sending
  assert.equal(dist.sendToMatching(msg("y")), 0);
  dist.match(b);
  dist.unmatch();
  assert.equal(dist.sendToMatching(msg("z")), 0);
  // a is at its mark (hwm 1): checkHwm sees it
  dist.match(a);
  dist.match(b);
  assert.equal(dist.checkHwm(), false);
  assert.equal(dist.sendToMatching(msg("w")), 1); // a refused, parked
  assert.deepEqual(drainOut(b).map(text), ["w"]);
  // matching a parked pipe is ignored
  dist.match(a);
  dist.match(d);
  assert.equal(dist.checkHwm(), true);
  assert.equal(dist.sendToMatching(msg("v")), 1);
  assert.deepEqual(drainOut(d).map(text), ["v"]);
  // unknown pipes are ignored too
  const [stranger] = pipes(owner, 1);
  dist.match(stranger!);
  dist.activated(stranger!);
  assert.equal(dist.sendToMatching(msg("u")), 0);
  assert.equal(dist.size, 4);
});

test("dist: terminated pipes leave, even while matched", () => {
  const { dist, ps } = setup(3);
  const [a, b, c] = ps as [Pipe, Pipe, Pipe];
  dist.match(a);
  dist.match(b);
  b.terminate();
  assert.equal(dist.size, 2);
  assert.equal(dist.sendToMatching(msg("m")), 1);
  assert.equal(a.outbound.length, 1);
  assert.equal(c.outbound.length, 0);
  a.terminate();
  c.terminate();
  assert.equal(dist.size, 0);
  assert.equal(dist.sendToAll(msg("n")), 0);
});

test("dist (property): a message reaches exactly the matched pipes that had room", () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant("send" as const), sel: fc.array(fc.nat(5), { maxLength: 6 }), all: fc.boolean() }),
    fc.record({ t: fc.constant("drain" as const), i: fc.nat(5), n: fc.nat(3) }),
    fc.record({ t: fc.constant("term" as const), i: fc.nat(5) }),
  );
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 }), fc.array(op, { maxLength: 60 }), (hwms, ops) => {
      const owner = new FakeOwner();
      const dist = new Distributor();
      owner.onWritable = (p) => dist.activated(p);
      owner.onTerminated = (p) => dist.terminated(p);
      const ps = hwms.map((h) => pipes(owner, 1, h)[0]!);
      for (const p of ps) dist.attach(p);
      // Model: a pipe that refused a message is parked until it reports room again;
      // a parked pipe is never matched (as in libzmq).
      const parked = new Set<Pipe>();
      owner.onWritable = (p) => {
        parked.delete(p);
        dist.activated(p);
      };
      for (const o of ops) {
        if (o.t === "send") {
          const targets = o.all ? new Set(ps) : new Set(o.sel.map((i) => ps[i % ps.length]!));
          if (!o.all) for (const p of targets) dist.match(p);
          const expected = new Set([...targets].filter((p) => p.writable));
          const matched = [...targets].filter((p) => !parked.has(p) && !p.terminated);
          if (!o.all) assert.equal(dist.checkHwm(), matched.every((p) => p.writable));
          const before = ps.map((p) => p.outbound.length);
          const m = msg("m");
          const n = o.all ? dist.sendToAll(m) : dist.sendToMatching(m);
          assert.equal(n, expected.size);
          for (const p of matched) if (!expected.has(p)) parked.add(p);
          ps.forEach((p, k) => {
            assert.equal(p.outbound.length, before[k]! + (expected.has(p) ? 1 : 0));
          });
        } else if (o.t === "drain") {
          const p = ps[o.i % ps.length]!;
          for (let k = 0; k < o.n; k++) p.outbound.shift();
        } else {
          ps[o.i % ps.length]!.terminate();
        }
        assert.equal(dist.size, ps.filter((p) => !p.terminated).length);
      }
    }),
    { seed: 42, numRuns: 300 },
  );
});
