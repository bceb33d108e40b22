import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MultiTrie } from "../../src/routing/multi-trie.js";
import { Trie } from "../../src/routing/trie.js";
import { FakeOwner, pipes } from "./helpers.js";
import type { Pipe } from "../../src/pipe/pipe.js";

const B = (s: string) => Buffer.from(s);
const key = fc.uint8Array({ minLength: 0, maxLength: 6 }).map((a) => Buffer.from(a.map((x) => [0x00, 0x61, 0x62, 0xff][x % 4]!)));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function matchAll<P>(t: MultiTrie<P>, data: Uint8Array): P[] {
  const out: P[] = [];
  t.match(data, (p) => out.push(p));
  return out;
}

test("mtrie: add / remove / match with real pipes", () => {
  const [a, b, c] = pipes(new FakeOwner(), 3) as [Pipe, Pipe, Pipe];
  const t = new MultiTrie();
  assert.equal(t.add(B("news"), a), true);
  assert.equal(t.add(B("news"), a), false); // same pair: kept once
  assert.equal(t.add(B("news"), b), false);
  assert.equal(t.add(B("news.sport"), a), true);
  assert.equal(t.add(B(""), c), true);
  assert.equal(t.size, 3);
  // a matches through two prefixes but is reported once
  assert.deepEqual(new Set(matchAll(t, B("news.sport.tennis"))), new Set([a, b, c]));
  assert.equal(matchAll(t, B("news.sport.tennis")).length, 3);
  assert.deepEqual(matchAll(t, B("weather")), [c]);
  assert.deepEqual(matchAll(t, B("")), [c]);
  assert.equal(t.remove(B("news"), c), "absent");
  assert.equal(t.remove(B("new"), a), "absent");
  assert.equal(t.remove(B("news"), a), "removed");
  assert.equal(t.remove(B("news"), b), "last");
  assert.equal(t.remove(B("news"), b), "absent");
  assert.deepEqual(new Set(matchAll(t, B("news.sport"))), new Set([a, c]));
  assert.deepEqual(new Set(matchAll(t, B("news."))), new Set([c]));
  assert.equal(t.size, 2);
});

test("mtrie: removePipe reports the prefixes left without subscribers", () => {
  const [a, b] = pipes(new FakeOwner(), 2) as [Pipe, Pipe];
  const t = new MultiTrie();
  t.add(B("x"), a);
  t.add(B("xy"), a);
  t.add(B("xyz"), a);
  t.add(B("xy"), b);
  t.add(B(""), a);
  t.add(B("q"), b);
  const last: string[] = [];
  t.removePipe(a, (p) => last.push(p.toString()));
  assert.deepEqual(last.sort(), ["", "x", "xyz"]);
  assert.equal(t.size, 2);
  assert.deepEqual(matchAll(t, B("xyz")), [b]);
  assert.deepEqual(matchAll(t, B("x")), []);
  t.removePipe(b);
  assert.equal(t.size, 0);
  t.removePipe(b); // nothing left: fine
});

test("mtrie (property): agrees with a naive model", () => {
  const pipeIx = fc.nat(3);
  const op = fc.oneof(
    { arbitrary: fc.record({ t: fc.constant("add" as const), k: key, p: pipeIx }), weight: 4 },
    { arbitrary: fc.record({ t: fc.constant("remove" as const), k: key, p: pipeIx }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant("removePipe" as const), p: pipeIx }), weight: 1 },
    { arbitrary: fc.record({ t: fc.constant("match" as const), k: key }), weight: 3 },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
      // plain numbers as pipes: MultiTrie is generic
      const t = new MultiTrie<number>();
      const model = new Map<string, Set<number>>(); // hex prefix -> pipes
      for (const o of ops) {
        if (o.t === "add") {
          const h = hex(o.k);
          assert.equal(t.add(o.k, o.p), !model.has(h));
          if (!model.has(h)) model.set(h, new Set());
          model.get(h)!.add(o.p);
        } else if (o.t === "remove") {
          const h = hex(o.k);
          const set = model.get(h);
          const expected = set?.has(o.p) ? (set.size === 1 ? "last" : "removed") : "absent";
          assert.equal(t.remove(o.k, o.p), expected);
          set?.delete(o.p);
          if (set?.size === 0) model.delete(h);
        } else if (o.t === "removePipe") {
          const expectedLast = [...model].filter(([, s]) => s.size === 1 && s.has(o.p)).map(([h]) => h);
          const last: string[] = [];
          t.removePipe(o.p, (prefix) => last.push(hex(prefix)));
          assert.deepEqual(last.sort(), expectedLast.sort());
          for (const [h, s] of [...model]) {
            s.delete(o.p);
            if (s.size === 0) model.delete(h);
          }
        } else {
          const h = hex(o.k);
          const expected = new Set<number>();
          for (const [p, s] of model) if (h.startsWith(p)) for (const x of s) expected.add(x);
          const got = matchAll(t, o.k);
          assert.equal(got.length, expected.size, "each pipe once");
          assert.deepEqual(new Set(got), expected);
        }
        assert.equal(t.size, model.size);
      }
      const seen = new Map<string, number[]>();
      t.forEach((prefix, ps) => seen.set(hex(prefix), [...ps].sort()));
      assert.deepEqual(
        [...seen].sort(),
        [...model].map(([h, s]) => [h, [...s].sort()] as [string, number[]]).sort(),
      );
    }),
    { seed: 42, numRuns: 500 },
  );
});

test("mtrie / trie: 10,000 subscriptions, match timing", () => {
  const N = 10_000;
  const owner = new FakeOwner();
  const ps = pipes(owner, 100);
  const t = new MultiTrie();
  const trie = new Trie();
  const regions = ["eu", "us", "asia", "africa", "oceania"];
  const topics: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    const topic = B(`weather.${regions[i % 5]}.city${Math.floor(i / 5)}.${i % 3 === 0 ? "temp" : "wind"}`);
    topics.push(topic);
    t.add(topic, ps[i % ps.length]!);
    trie.add(topic);
  }
  assert.equal(t.size, N);
  assert.equal(trie.size, N);
  const queries = topics.filter((_, i) => i % 10 === 0).map((tp) => Buffer.concat([tp, B(".reading=21.5C")]));
  const misses = queries.map((q) => Buffer.concat([B("x"), q]));
  for (const q of queries) t.match(q, () => {}), trie.check(q); // warm-up
  let hits = 0;
  const rounds = 20;
  let t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const q of queries) t.match(q, () => hits++);
  const mtrieNs = Number(process.hrtime.bigint() - t0) / (rounds * queries.length);
  for (const q of misses) t.match(q, () => assert.fail("no match expected"));
  assert.equal(hits, rounds * queries.length);
  t0 = process.hrtime.bigint();
  let ok = 0;
  for (let r = 0; r < rounds; r++) for (const q of queries) if (trie.check(q)) ok++;
  const trieNs = Number(process.hrtime.bigint() - t0) / (rounds * queries.length);
  assert.equal(ok, rounds * queries.length);
  // naive scan for comparison
  t0 = process.hrtime.bigint();
  for (const q of queries.slice(0, 100)) topics.some((tp) => q.subarray(0, tp.length).equals(tp));
  const naiveNs = Number(process.hrtime.bigint() - t0) / 100;
  console.log(
    `${N} subscriptions: MultiTrie.match ${(mtrieNs / 1000).toFixed(2)} µs/msg, ` +
      `Trie.check ${(trieNs / 1000).toFixed(2)} µs/msg, naive scan ${(naiveNs / 1000).toFixed(1)} µs/msg`,
  );
  // tear down: every pipe leaves, every prefix reported once
  let lastCount = 0;
  for (const p of ps) t.removePipe(p, () => lastCount++);
  assert.equal(lastCount, N);
  assert.equal(t.size, 0);
});
