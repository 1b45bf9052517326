const HEX_LENGTH = 64;
const PACKED = HEX_LENGTH / 2;

/**
 * A set of reader ids that answers exactly as a `Set<string>` does, compact for the lake's ids (64
 * lower-case hex characters, `common`'s normalised form): each is packed into 32 bytes of one arena
 * and found through an open-addressing table of entry numbers; any other string goes to a plain Set.
 * ~40 bytes a reader against ~150 for a Set of the decoded strings: the snapshot counts ~578k readers
 * at full scale (issue #18).
 */
export class ReaderIdSet {
  private arena: Uint8Array = new Uint8Array(PACKED * 64);
  private packed = 0;
  private table = new Uint32Array(128);
  private readonly others = new Set<string>();
  private readonly scratch = new Uint8Array(PACKED);

  get size(): number {
    return this.packed + this.others.size;
  }

  /** Adds `id`; true when it was not there. */
  add(id: string): boolean {
    const hash = this.pack(id);
    if (hash === undefined) {
      if (this.others.has(id)) return false;
      this.others.add(id);
      return true;
    }
    const mask = this.table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = this.table[i] as number;
      if (entry === 0) {
        this.arena = grown(this.arena, (this.packed + 1) * PACKED);
        this.arena.set(this.scratch, this.packed * PACKED);
        this.packed += 1;
        this.table[i] = this.packed;
        if (this.packed * 4 > this.table.length * 3) this.rehash();
        return true;
      }
      if (this.equals(entry - 1)) return false;
    }
  }

  /** Packs a 64-char lower-case hex id into `scratch` and returns its hash; undefined for any other string. */
  private pack(id: string): number | undefined {
    if (id.length !== HEX_LENGTH) return undefined;
    for (let i = 0; i < PACKED; i++) {
      const hi = nibble(id.charCodeAt(2 * i));
      const lo = nibble(id.charCodeAt(2 * i + 1));
      if (hi < 0 || lo < 0) return undefined;
      this.scratch[i] = (hi << 4) | lo;
    }
    return packedHash(this.scratch, 0);
  }

  private equals(entry: number): boolean {
    const at = entry * PACKED;
    for (let i = 0; i < PACKED; i++) if (this.arena[at + i] !== this.scratch[i]) return false;
    return true;
  }

  private rehash(): void {
    this.table = new Uint32Array(this.table.length * 2);
    const mask = this.table.length - 1;
    for (let entry = 0; entry < this.packed; entry++) {
      let i = packedHash(this.arena, entry * PACKED) & mask;
      while (this.table[i] !== 0) i = (i + 1) & mask;
      this.table[i] = entry + 1;
    }
  }
}

/** FNV-1a over one packed id's 32 bytes from `at`, then a finishing mix (the table's slot hash). */
function packedHash(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < PACKED; i++) h = Math.imul(h ^ (bytes[at + i] as number), 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

/** 0–15 for '0'–'9' and 'a'–'f'; -1 otherwise (upper case too: "A…" and "a…" are different ids to a Set). */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** `bytes`, or a copy of it doubled until it holds `needed` bytes. */
function grown(bytes: Uint8Array, needed: number): Uint8Array {
  if (needed <= bytes.length) return bytes;
  let size = bytes.length * 2;
  while (size < needed) size *= 2;
  const next = new Uint8Array(size);
  next.set(bytes);
  return next;
}
