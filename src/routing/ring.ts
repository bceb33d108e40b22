class RingNode<T> {
  prev: RingNode<T> = this;
  next: RingNode<T> = this;
  active = false;
  constructor(readonly item: T) {}
}

/**
 * The rotation used by LoadBalancer and FairQueue. Internal to src/routing.
 *
 * Every known item is either active (in a circular doubly-linked list, in rotation
 * order) or parked. `current` is the next active item to serve. All operations are
 * O(1). Unlike libzmq's array-with-swaps, parking an item does not move another item
 * into its slot, so the rotation order of the others is preserved and every active
 * item is served exactly once per round. An item that (re)joins the rotation is put
 * just before `current`: it gets its turn after every item already waiting.
 */
export class Ring<T> {
  private readonly nodes = new Map<T, RingNode<T>>();
  private head: RingNode<T> | null = null;
  private activeCount = 0;

  /** Number of known items, active or parked. */
  get size(): number {
    return this.nodes.size;
  }

  get active(): number {
    return this.activeCount;
  }

  has(item: T): boolean {
    return this.nodes.has(item);
  }

  /** Adds a parked item; false if it was already known. */
  add(item: T): boolean {
    if (this.nodes.has(item)) return false;
    this.nodes.set(item, new RingNode(item));
    return true;
  }

  /** Puts a known parked item at the end of the rotation; no-op otherwise. */
  activate(item: T): void {
    const node = this.nodes.get(item);
    if (node === undefined || node.active) return;
    node.active = true;
    this.activeCount++;
    const head = this.head;
    if (head === null) {
      node.prev = node.next = node;
      this.head = node;
      return;
    }
    node.next = head;
    node.prev = head.prev;
    head.prev.next = node;
    head.prev = node;
  }

  /** Takes an item out of the rotation (it stays known). */
  park(item: T): void {
    const node = this.nodes.get(item);
    if (node === undefined || !node.active) return;
    node.active = false;
    this.activeCount--;
    if (this.activeCount === 0) {
      this.head = null;
    } else {
      if (this.head === node) this.head = node.next;
      node.prev.next = node.next;
      node.next.prev = node.prev;
    }
    node.prev = node.next = node;
  }

  delete(item: T): void {
    this.park(item);
    this.nodes.delete(item);
  }

  /** The next active item to serve, or undefined if none is active. */
  get current(): T | undefined {
    return this.head?.item;
  }

  /** Moves on to the next active item. */
  advance(): void {
    if (this.head !== null) this.head = this.head.next;
  }

  /** True if fn holds for some active item (visited from `current`, in rotation order). */
  someActive(fn: (item: T) => boolean): boolean {
    let node = this.head;
    for (let n = 0; n < this.activeCount; n++) {
      if (fn(node!.item)) return true;
      node = node!.next;
    }
    return false;
  }
}
