import { RadixTree } from "./radix.js";

const stop = (): boolean => true;

/**
 * The subscriptions of a SUB/XSUB socket: a set of byte-string prefixes, each with a
 * reference count (subscribing twice to the same topic needs two unsubscribes, as in
 * libzmq's trie_t). Stored in a compressed trie (see radix.ts for why), so check()
 * walks down the message once whatever the number of subscriptions.
 */
export class Trie {
  private readonly tree = new RadixTree<number>();
  private count = 0;

  /** Number of distinct prefixes. */
  get size(): number {
    return this.count;
  }

  /** Adds one reference to `prefix`; true if it was not present before. */
  add(prefix: Uint8Array): boolean {
    const node = this.tree.ensure(prefix);
    if (node.value === undefined) {
      node.value = 1;
      this.count++;
      return true;
    }
    node.value++;
    return false;
  }

  /** Removes one reference; true if it was the last one (entry gone), false otherwise or if absent. */
  remove(prefix: Uint8Array): boolean {
    const path = this.tree.path(prefix);
    if (path === null) return false;
    const node = path[path.length - 1]!;
    if (node.value === undefined) return false;
    if (node.value > 1) {
      node.value--;
      return false;
    }
    node.value = undefined;
    this.count--;
    this.tree.prune(path);
    return true;
  }

  /** True if some stored prefix (the empty one included) is a prefix of `data`. */
  check(data: Uint8Array): boolean {
    return this.tree.walkPrefixes(data, stop);
  }

  /** Calls fn once for every stored prefix (whatever its count), with a fresh Buffer. */
  forEach(fn: (prefix: Buffer) => void): void {
    this.tree.forEach((key) => fn(key));
  }
}
