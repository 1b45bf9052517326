/**
 * The latest `capacity` items pushed, oldest first: a bounded first-in-first-out window. The oldest
 * items are dropped in one splice once as many again have piled up, so a push is amortised O(1) and at
 * most twice the capacity is held. A capacity of 0 holds nothing.
 */
export class LatestItems<T> {
  readonly #items: T[];
  #start = 0;

  constructor(
    readonly capacity: number,
    initial: readonly T[] = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`capacity must be a whole number ≥ 0, got ${capacity}`);
    this.#items = capacity === 0 ? [] : initial.slice(-capacity);
  }

  get size(): number {
    return this.#items.length - this.#start;
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    this.#items.push(item);
    if (this.#items.length - this.#start > this.capacity) this.#start += 1;
    if (this.#start >= this.capacity) {
      this.#items.splice(0, this.#start);
      this.#start = 0;
    }
  }

  /** Drops the oldest items while `old` holds for them (a time window's eviction); returns how many. */
  dropOldestWhile(old: (item: T) => boolean): number {
    const before = this.#start;
    while (this.#start < this.#items.length && old(this.#items[this.#start] as T)) this.#start += 1;
    const dropped = this.#start - before;
    if (this.#start >= Math.max(1, this.#items.length / 2)) {
      this.#items.splice(0, this.#start);
      this.#start = 0;
    }
    return dropped;
  }

  /** The items held, oldest first (a copy: later pushes never change it). */
  toArray(): T[] {
    return this.#items.slice(this.#start);
  }

  /** The items held, oldest first, without copying (do not push while iterating). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#start; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
