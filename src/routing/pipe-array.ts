/**
 * An array of items that knows each item's index, so that any item can be swapped
 * or erased in O(1). The routing strategies split it into regions (libzmq's array_t
 * trick): the first `active` items are the pipes currently worth trying, the rest are
 * parked until the pipe reports it is ready again. Moving a pipe between regions is a
 * single swap with the region boundary.
 *
 * Internal to src/routing.
 */
export class PipeArray<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();

  get length(): number {
    return this.items.length;
  }

  at(i: number): T {
    return this.items[i]!;
  }

  /** Index of the item, or -1 when it is not here. */
  indexOf(item: T): number {
    const i = this.index.get(item);
    return i === undefined ? -1 : i;
  }

  has(item: T): boolean {
    return this.index.has(item);
  }

  push(item: T): void {
    this.index.set(item, this.items.length);
    this.items.push(item);
  }

  swap(i: number, j: number): void {
    if (i === j) return;
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    this.index.set(b, i);
    this.index.set(a, j);
  }

  /** Removes the item by moving the last item into its slot (order of the tail changes). */
  erase(item: T): void {
    const i = this.index.get(item);
    if (i === undefined) return;
    const last = this.items.length - 1;
    this.swap(i, last);
    this.items.pop();
    this.index.delete(item);
  }
}
