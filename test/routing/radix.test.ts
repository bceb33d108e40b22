import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RadixTree, type RadixNode } from "../../src/routing/radix.js";

const key = fc.uint8Array({ minLength: 0, maxLength: 8 }).map((a) => Buffer.from(a.map((x) => [0x00, 0x61, 0x62][x % 3]!)));

/** Checks the structural invariants; returns the number of nodes. */
function checkInvariants<V>(node: RadixNode<V>, isRoot = true): number {
  if (!isRoot) assert.ok(node.label.length > 0, "non-root labels are non-empty");
  const kids = node.children === null ? [] : [...node.children];
  if (node.children !== null) assert.ok(kids.length > 0, "no empty children maps");
  if (!isRoot && node.value === undefined) assert.ok(kids.length >= 2, "valueless inner nodes branch");
  let n = 1;
  for (const [first, child] of kids) {
    assert.equal(child.label[0], first, "children keyed by their first byte");
    n += checkInvariants(child, false);
  }
  return n;
}

test("radix (property): stays compressed and fully pruned through inserts and deletes", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), key), { maxLength: 120 }), (ops) => {
      const tree = new RadixTree<true>();
      const model = new Set<string>();
      for (const [add, k] of ops) {
        const h = k.toString("hex");
        if (add) {
          tree.ensure(k).value = true;
          model.add(h);
        } else {
          const path = tree.path(k);
          if (path !== null && path[path.length - 1]!.value !== undefined) {
            path[path.length - 1]!.value = undefined;
            tree.prune(path);
          }
          model.delete(h);
        }
        const nodes = checkInvariants(tree.root);
        assert.ok(nodes <= 2 * model.size + 1, "at most ~2 nodes per key");
        for (const m of model) assert.equal(tree.get(Buffer.from(m, "hex")), true);
      }
      for (const m of [...model]) {
        const path = tree.path(Buffer.from(m, "hex"))!;
        path[path.length - 1]!.value = undefined;
        tree.prune(path);
      }
      assert.equal(tree.root.children, null);
    }),
    { seed: 42, numRuns: 300 },
  );
});
