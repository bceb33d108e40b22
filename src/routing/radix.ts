/**
 * A compressed (radix) trie keyed by byte strings, the shared core of Trie and
 * MultiTrie. Internal to src/routing.
 *
 * Why compressed rather than one node per byte: topics are typically long, textual and
 * share only short stems ("weather.eu.paris.temp", "weather.eu.rome.temp", ...). With a
 * node per byte, 10,000 such subscriptions cost hundreds of thousands of nodes (each
 * with its own Map), and a match walks one Map lookup per byte. Here a chain of
 * single-child nodes collapses into one edge label, so the tree has at most about two
 * nodes per stored key, and a match does one Map lookup per branching point plus a
 * byte comparison along each label. Matching is still a single walk down `data`
 * (O(len(data)) regardless of how many prefixes are stored).
 *
 * Invariants: every node except the root has a non-empty label; a node's children are
 * keyed by the first byte of their labels; a non-root node without a value has at
 * least two children (it is merged into its only child, or removed, otherwise).
 */

export class RadixNode<V> {
  /** Bytes on the edge from the parent to this node (empty for the root). */
  label: Uint8Array;
  value: V | undefined = undefined;
  children: Map<number, RadixNode<V>> | null = null;

  constructor(label: Uint8Array) {
    this.label = label;
  }
}

/** Length of the common prefix of `label` and `key[at..]`. */
function commonLength(label: Uint8Array, key: Uint8Array, at: number): number {
  const max = Math.min(label.length, key.length - at);
  let n = 0;
  while (n < max && label[n] === key[at + n]) n++;
  return n;
}

/** A copy of key[from..] (Buffer#slice would share memory with the caller's buffer). */
function copyFrom(key: Uint8Array, from: number): Uint8Array {
  return Uint8Array.prototype.slice.call(key, from);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class RadixTree<V> {
  readonly root = new RadixNode<V>(new Uint8Array(0));

  /** The node whose key is exactly `key`, created (splitting an edge if needed). */
  ensure(key: Uint8Array): RadixNode<V> {
    let node = this.root;
    let i = 0;
    while (i < key.length) {
      const first = key[i]!;
      const child = node.children?.get(first);
      if (child === undefined) {
        // Copied: the caller may reuse its buffer.
        const leaf = new RadixNode<V>(copyFrom(key, i));
        (node.children ??= new Map()).set(first, leaf);
        return leaf;
      }
      const common = commonLength(child.label, key, i);
      if (common === child.label.length) {
        node = child;
        i += common;
        continue;
      }
      // The key leaves (or ends inside) the child's edge: split it at `common`.
      const mid = new RadixNode<V>(child.label.subarray(0, common));
      child.label = child.label.subarray(common);
      mid.children = new Map([[child.label[0]!, child]]);
      node.children!.set(first, mid);
      i += common;
      if (i === key.length) return mid;
      const leaf = new RadixNode<V>(copyFrom(key, i));
      mid.children.set(key[i]!, leaf);
      return leaf;
    }
    return node;
  }

  /**
   * The path from the root to the node whose key is exactly `key` (root first), or
   * null if there is no such node.
   */
  path(key: Uint8Array): RadixNode<V>[] | null {
    const path: RadixNode<V>[] = [this.root];
    let node = this.root;
    let i = 0;
    while (i < key.length) {
      const child = node.children?.get(key[i]!);
      if (child === undefined) return null;
      const len = child.label.length;
      if (key.length - i < len || commonLength(child.label, key, i) !== len) return null;
      node = child;
      path.push(node);
      i += len;
    }
    return path;
  }

  /** The value stored at exactly `key`. */
  get(key: Uint8Array): V | undefined {
    const p = this.path(key);
    return p === null ? undefined : p[p.length - 1]!.value;
  }

  /**
   * Restores the invariants after the last node of `path` lost its value: removes
   * nodes left with neither value nor children, merges valueless single-child nodes
   * into their child.
   */
  prune(path: RadixNode<V>[]): void {
    for (let k = path.length - 1; k > 0; k--) {
      const node = path[k]!;
      const parent = path[k - 1]!;
      if (node.value !== undefined) return;
      const n = node.children === null ? 0 : node.children.size;
      if (n === 0) {
        parent.children!.delete(node.label[0]!);
        if (parent.children!.size === 0) parent.children = null;
        continue; // the parent may now be a valueless single-child node
      }
      if (n === 1) {
        const only = node.children!.values().next().value as RadixNode<V>;
        only.label = concat(node.label, only.label);
        parent.children!.set(only.label[0]!, only);
      }
      return;
    }
  }

  /**
   * Calls fn with the value of every stored key that is a prefix of `data` (shortest
   * first), walking down `data` once. Stops early if fn returns true; returns whether
   * it did.
   */
  walkPrefixes(data: Uint8Array, fn: (value: V) => boolean | void): boolean {
    let node = this.root;
    if (node.value !== undefined && fn(node.value) === true) return true;
    let i = 0;
    while (i < data.length) {
      const child = node.children?.get(data[i]!);
      if (child === undefined) return false;
      const label = child.label;
      const len = label.length;
      if (data.length - i < len) return false;
      for (let n = 1; n < len; n++) {
        // label[0] === data[i] by the map lookup
        if (label[n] !== data[i + n]) return false;
      }
      i += len;
      node = child;
      if (node.value !== undefined && fn(node.value) === true) return true;
    }
    return false;
  }

  /**
   * Calls fn(key, value) for every stored key, shortest first along each branch. Each
   * call gets a fresh Buffer. fn must not modify the tree.
   */
  forEach(fn: (key: Buffer, value: V) => void): void {
    this.visit(() => true, fn);
  }

  /** The keys whose value satisfies pred (a key Buffer is only built for those). */
  keysWhere(pred: (value: V) => boolean): Buffer[] {
    const keys: Buffer[] = [];
    this.visit(pred, (key) => keys.push(key));
    return keys;
  }

  private visit(pred: (value: V) => boolean, fn: (key: Buffer, value: V) => void): void {
    const labels: Uint8Array[] = [];
    const walk = (node: RadixNode<V>): void => {
      if (node.value !== undefined && pred(node.value)) fn(Buffer.concat(labels), node.value);
      if (node.children === null) return;
      for (const child of node.children.values()) {
        labels.push(child.label);
        walk(child);
        labels.pop();
      }
    };
    walk(this.root);
  }
}
