import type { Pipe } from "../pipe/pipe.js";
import { RadixTree } from "./radix.js";

/**
 * The subscriptions an XPUB/PUB socket has received: prefix -> set of pipes (libzmq's
 * mtrie_t). Stored in a compressed trie (see radix.ts for why: few nodes for long
 * topics, and match() is one walk down the message, independent of the number of
 * subscriptions).
 */
export class MultiTrie<P = Pipe> {
  private readonly tree = new RadixTree<Set<P>>();
  private count = 0;

  /** Number of distinct prefixes with at least one pipe. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds the pipe under the prefix; true if the prefix had no pipe before (the
   * subscription is new upstream). Adding the same (prefix, pipe) twice keeps one
   * entry and returns false.
   */
  add(prefix: Uint8Array, pipe: P): boolean {
    const node = this.tree.ensure(prefix);
    if (node.value === undefined) {
      node.value = new Set([pipe]);
      this.count++;
      return true;
    }
    node.value.add(pipe);
    return false;
  }

  /** Removes the pipe from the prefix. */
  remove(prefix: Uint8Array, pipe: P): "last" | "removed" | "absent" {
    const path = this.tree.path(prefix);
    if (path === null) return "absent";
    const node = path[path.length - 1]!;
    if (node.value === undefined || !node.value.delete(pipe)) return "absent";
    if (node.value.size > 0) return "removed";
    node.value = undefined;
    this.count--;
    this.tree.prune(path);
    return "last";
  }

  /**
   * Removes the pipe from every prefix (a subscriber went away); calls onLast(prefix)
   * for each prefix left without any pipe. Walks the whole trie, as libzmq does.
   */
  removePipe(pipe: P, onLast?: (prefix: Buffer) => void): void {
    // Collect first: removing prunes and merges nodes, which must not happen mid-walk.
    for (const key of this.tree.keysWhere((pipes) => pipes.has(pipe))) {
      if (this.remove(key, pipe) === "last" && onLast) onLast(key);
    }
  }

  /**
   * Calls fn once per distinct pipe subscribed to some prefix of `data`. fn must not
   * modify this trie.
   */
  match(data: Uint8Array, fn: (pipe: P) => void): void {
    // The common case is a single matching prefix: no dedup set is needed until a
    // second one turns up.
    let first: Set<P> | null = null;
    let seen: Set<P> | null = null;
    this.tree.walkPrefixes(data, (pipes) => {
      if (first === null) {
        first = pipes;
        for (const p of pipes) fn(p);
        return;
      }
      seen ??= new Set(first);
      for (const p of pipes) {
        if (!seen.has(p)) {
          seen.add(p);
          fn(p);
        }
      }
    });
  }

  /** Calls fn for every prefix with the pipes subscribed to it (fresh Buffer; do not modify the set). */
  forEach(fn: (prefix: Buffer, pipes: ReadonlySet<P>) => void): void {
    this.tree.forEach(fn);
  }
}
