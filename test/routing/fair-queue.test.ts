import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FairQueue } from "../../src/routing/fair-queue.js";
import type { Pipe } from "../../src/pipe/pipe.js";
import { FakeOwner, pipes, msg, text, arrive } from "./helpers.js";

function setup(n: number, rcvhwm = 0) {
  const owner = new FakeOwner();
  const fq = new FairQueue();
  owner.onReadable = (p) => fq.activated(p);
  owner.onTerminated = (p) => fq.terminated(p);
  const ps = pipes(owner, n, 0, rcvhwm);
  for (const p of ps) fq.attach(p);
  return { owner, fq, ps };
}

function recvAll(fq: FairQueue): string[] {
  const out: string[] = [];
  for (let r = fq.recv(); r !== null; r = fq.recv()) out.push(text(r.msg));
  return out;
}

test("fq: one whole message per pipe in turn", () => {
  const { fq, ps } = setup(3);
  assert.equal(fq.hasIn, false);
  assert.equal(fq.recv(), null);
  arrive(ps[0]!, msg("a1", "x"));
  arrive(ps[0]!, msg("a2"));
  arrive(ps[0]!, msg("a3"));
  arrive(ps[1]!, msg("b1"));
  arrive(ps[2]!, msg("c1"));
  arrive(ps[2]!, msg("c2", "y", "z"));
  assert.equal(fq.hasIn, true);
  const r = fq.recv()!;
  assert.equal(r.pipe, ps[0]);
  assert.equal(text(r.msg), "a1|x");
  assert.deepEqual(recvAll(fq), ["b1", "c1", "a2", "c2|y|z", "a3"]);
  assert.equal(fq.hasIn, false);
  // messages arriving later wake the (parked) pipes again
  arrive(ps[1]!, msg("b2"));
  arrive(ps[0]!, msg("a4"));
  assert.deepEqual(recvAll(fq).sort(), ["a4", "b2"]);
  assert.equal(fq.size, 3);
});

test("fq: a busy pipe cannot starve the others", () => {
  const { fq, ps } = setup(3);
  for (let i = 0; i < 100; i++) arrive(ps[0]!, msg(`a${i}`));
  arrive(ps[1]!, msg("b"));
  arrive(ps[2]!, msg("c"));
  const first3 = [fq.recv()!, fq.recv()!, fq.recv()!].map((r) => r.pipe);
  assert.deepEqual(new Set(first3), new Set(ps));
});

test("fq: a terminated pipe is drained before it leaves; an empty one leaves at once", () => {
  const { fq, ps } = setup(3);
  const [a, b, c] = ps as [Pipe, Pipe, Pipe];
  arrive(a, msg("a1"));
  arrive(a, msg("a2"));
  arrive(b, msg("b1"));
  a.terminate();
  c.terminate(); // nothing to drain
  assert.equal(fq.size, 2);
  assert.equal(fq.hasIn, true);
  const got: string[] = [];
  for (let r = fq.recv(); r !== null; r = fq.recv()) got.push(`${r.pipe === a ? "a" : "b"}:${text(r.msg)}`);
  assert.deepEqual(got.sort(), ["a:a1", "a:a2", "b:b1"]);
  assert.equal(fq.size, 1, "the drained terminated pipe has left");
  assert.equal(fq.hasIn, false);
  arrive(b, msg("b2"));
  assert.equal(text(fq.recv()!.msg), "b2");
});

test("fq: a terminated pipe that is parked (already found empty) still gets drained", () => {
  const { fq, ps } = setup(2);
  const [a, b] = ps as [Pipe, Pipe];
  assert.equal(fq.recv(), null); // both parked now
  // a message arrives and the pipe ends, in the same turn
  a.inbound.forcePush(msg("last words"));
  a.terminate();
  assert.equal(fq.size, 2);
  const r = fq.recv()!;
  assert.equal(r.pipe, a);
  assert.equal(text(r.msg), "last words");
  assert.equal(fq.size, 1);
  assert.equal(fq.recv(), null);
  b.terminate();
  assert.equal(fq.size, 0);
});

test("fq: activated() on an unknown pipe is a no-op; attach twice is harmless", () => {
  const { owner, fq, ps } = setup(1);
  const [stranger] = pipes(owner, 1);
  arrive(stranger!, msg("s"));
  fq.activated(stranger!);
  fq.attach(ps[0]!);
  assert.equal(fq.size, 1);
  assert.equal(fq.recv(), null);
});

test("fq (property): no message lost or reordered per pipe, every non-empty pipe served within one round", () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant("arrive" as const), i: fc.nat(5), n: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ t: fc.constant("recv" as const), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ t: fc.constant("term" as const), i: fc.nat(5) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (n, ops) => {
      const { fq, ps } = setup(n);
      const sent = ps.map(() => [] as string[]);
      const got = ps.map(() => [] as string[]);
      let seq = 0;
      const recvOne = () => {
        const waiting = ps.filter((p) => p.readable);
        const r = fq.recv();
        assert.equal(r !== null, waiting.length > 0);
        if (r) got[ps.indexOf(r.pipe)]!.push(text(r.msg));
        return r;
      };
      for (const o of ops) {
        if (o.t === "arrive") {
          const k = o.i % n;
          if (ps[k]!.terminated) continue;
          for (let j = 0; j < o.n; j++) {
            const s = String(seq++);
            sent[k]!.push(s);
            arrive(ps[k]!, msg(s));
          }
        } else if (o.t === "recv") {
          for (let j = 0; j < o.n; j++) recvOne();
        } else {
          ps[o.i % n]!.terminate();
        }
        // a terminated pipe stays exactly while it holds messages
        const expectedSize = ps.filter((p) => !p.terminated || p.readable).length;
        assert.equal(fq.size, expectedSize);
      }
      // Fairness: with k pipes holding messages, the next k receives hit k distinct pipes.
      const waiting = ps.filter((p) => p.readable);
      const round = new Set<Pipe>();
      for (let j = 0; j < waiting.length; j++) round.add(recvOne()!.pipe);
      assert.equal(round.size, waiting.length);
      while (recvOne() !== null);
      assert.deepEqual(got, sent);
      assert.equal(fq.size, ps.filter((p) => !p.terminated).length);
    }),
    { seed: 42, numRuns: 300 },
  );
});
