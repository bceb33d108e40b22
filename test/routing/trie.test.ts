import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Trie } from "../../src/routing/trie.js";

const B = (s: string) => Buffer.from(s);
/** Keys over a tiny alphabet so that prefixes collide, share stems and split edges a lot. */
const key = fc.uint8Array({ minLength: 0, maxLength: 6 }).map((a) => Buffer.from(a.map((x) => [0x00, 0x61, 0x62, 0xff][x % 4]!)));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function contents(t: Trie): string[] {
  const out: string[] = [];
  t.forEach((p) => out.push(hex(p)));
  return out.sort();
}

test("trie: counts, check, forEach", () => {
  const t = new Trie();
  assert.equal(t.check(B("anything")), false);
  assert.equal(t.add(B("abc")), true);
  assert.equal(t.add(B("abc")), false);
  assert.equal(t.add(B("abd")), true);
  assert.equal(t.add(B("a")), true);
  assert.equal(t.size, 3);
  assert.equal(t.check(B("abcdef")), true);
  assert.equal(t.check(B("ab")), true); // via "a"
  assert.equal(t.check(B("b")), false);
  assert.equal(t.check(B("")), false);
  assert.equal(t.remove(B("a")), true);
  assert.equal(t.check(B("ab")), false);
  assert.equal(t.check(B("abdx")), true);
  assert.equal(t.remove(B("abc")), false); // one reference left
  assert.equal(t.check(B("abc")), true);
  assert.equal(t.remove(B("abc")), true);
  assert.equal(t.check(B("abc")), false);
  assert.equal(t.remove(B("abc")), false); // absent
  assert.equal(t.remove(B("zzz")), false);
  assert.equal(t.remove(B("ab")), false); // an inner node, not a stored prefix
  assert.deepEqual(contents(t), [hex(B("abd"))]);
  // the empty prefix matches everything, including empty data
  assert.equal(t.add(B("")), true);
  assert.equal(t.check(B("")), true);
  assert.equal(t.check(B("zz")), true);
  assert.deepEqual(contents(t), ["", hex(B("abd"))]);
  assert.equal(t.remove(B("")), true);
  assert.equal(t.size, 1);
});

test("trie: keys are copied (the caller may reuse its buffer) and Uint8Array works", () => {
  const t = new Trie();
  const buf = Buffer.from("topic");
  t.add(buf);
  buf.fill(0);
  assert.equal(t.check(B("topic.1")), true);
  assert.equal(t.check(new Uint8Array([0, 0, 0, 0, 0])), false);
  t.add(new Uint8Array([1, 2, 3]));
  assert.equal(t.check(Buffer.from([1, 2, 3, 4])), true);
  const seen: Buffer[] = [];
  t.forEach((p) => seen.push(p));
  assert.ok(seen.every((p) => Buffer.isBuffer(p)));
});

test("trie (property): agrees with a naive model", () => {
  const op = fc.oneof(
    fc.record({ t: fc.constant("add" as const), k: key }),
    fc.record({ t: fc.constant("remove" as const), k: key }),
    fc.record({ t: fc.constant("check" as const), k: key }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
      const t = new Trie();
      const model = new Map<string, number>(); // hex prefix -> count
      for (const o of ops) {
        const h = hex(o.k);
        if (o.t === "add") {
          assert.equal(t.add(o.k), !model.has(h));
          model.set(h, (model.get(h) ?? 0) + 1);
        } else if (o.t === "remove") {
          const c = model.get(h) ?? 0;
          assert.equal(t.remove(o.k), c === 1);
          if (c === 1) model.delete(h);
          else if (c > 1) model.set(h, c - 1);
        } else {
          const expected = [...model.keys()].some((p) => h.startsWith(p));
          assert.equal(t.check(o.k), expected);
        }
        assert.equal(t.size, model.size);
      }
      assert.deepEqual(contents(t), [...model.keys()].sort());
      // removing everything leaves an empty trie
      for (const [h, c] of model) for (let i = 0; i < c; i++) t.remove(Buffer.from(h, "hex"));
      assert.equal(t.size, 0);
      assert.deepEqual(contents(t), []);
      assert.equal(t.check(Buffer.alloc(0)), false);
    }),
    { seed: 42, numRuns: 500 },
  );
});
