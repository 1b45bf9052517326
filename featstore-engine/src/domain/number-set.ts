/**
 * A set of non-negative integers below 2^53 in one Float64Array: open addressing with linear probing,
 * doubled when three quarters full. 8 bytes a slot, ~11–21 bytes an entry, against ~35–55 for a
 * `Set<number>` of the same values (a heap number each plus the table's entry, and both tables held
 * while it grows): the snapshot's dedup of ~8 M interaction hashes at full scale is what it is for
 * (issue #18, bench/README.md "## Ingest"). 0 marks an empty slot, so the key 0 is kept apart.
 */
export class NumberSet {
  private slots: Float64Array;
  private mask: number;
  private count = 0;
  private hasZero = false;

  /** `capacity`: entries expected (the table is sized for them; it grows past them as needed). */
  constructor(capacity = 0) {
    let size = 16;
    while (size * 0.75 < capacity) size *= 2;
    this.slots = new Float64Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  has(key: number): boolean {
    if (key === 0) return this.hasZero;
    const slots = this.slots;
    for (let i = slotOf(key, this.mask); ; i = (i + 1) & this.mask) {
      const v = slots[i] as number;
      if (v === key) return true;
      if (v === 0) return false;
    }
  }

  /** Adds `key`; true when it was not there (one probe sequence for the test and the insert). */
  add(key: number): boolean {
    if (!Number.isSafeInteger(key) || key < 0)
      throw new RangeError(`NumberSet holds integers in [0, 2^53): got ${key}`);
    if (key === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      this.count += 1;
      return true;
    }
    if (!this.insert(key)) return false;
    this.count += 1;
    if ((this.count - (this.hasZero ? 1 : 0)) * 4 > this.slots.length * 3) this.grow();
    return true;
  }

  private insert(key: number): boolean {
    const slots = this.slots;
    for (let i = slotOf(key, this.mask); ; i = (i + 1) & this.mask) {
      const v = slots[i] as number;
      if (v === key) return false;
      if (v === 0) {
        slots[i] = key;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < old.length; i++) {
      const v = old[i] as number;
      if (v !== 0) this.insert(v);
    }
  }
}

/** The slot of a key: both 32-bit halves mixed (murmur3's finaliser), masked to the table. */
function slotOf(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = (key - lo) / 4_294_967_296;
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}
