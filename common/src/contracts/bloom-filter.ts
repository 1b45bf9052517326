import { createHash } from "node:crypto";

/**
 * A fixed-size Bloom filter over page ids: no false negatives, so every page added is always
 * excluded. Layout: u8 hashes · u32 bit count (LE) · bits. Used for pages evicted from a reader's log.
 */
export const BLOOM_BITS = 64 * 1024 * 8; // 64 KB: ~1% false positives at 55k pages
export const BLOOM_HASHES = 7;

function positions(value: string, bits: number, hashes: number): number[] {
  const digest = createHash("sha256").update(value).digest();
  const h1 = digest.readUInt32LE(0);
  const h2 = digest.readUInt32LE(4) | 1;
  return Array.from({ length: hashes }, (_, i) => (h1 + Math.imul(i, h2)) >>> 0).map((h) => h % bits);
}

export function createBloomFilter(bits = BLOOM_BITS, hashes = BLOOM_HASHES): Uint8Array {
  const buf = new Uint8Array(5 + Math.ceil(bits / 8));
  buf[0] = hashes;
  new DataView(buf.buffer).setUint32(1, bits, true);
  return buf;
}

function header(filter: Uint8Array): { hashes: number; bits: number } {
  const view = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
  return { hashes: filter[0] as number, bits: view.getUint32(1, true) };
}

/** Returns a new filter with the values added (the input is not modified). */
export function bloomAdd(filter: Uint8Array, values: Iterable<string>): Uint8Array {
  const out = filter.slice();
  const { hashes, bits } = header(out);
  for (const value of values) {
    for (const p of positions(value, bits, hashes))
      out[5 + (p >>> 3)] = (out[5 + (p >>> 3)] as number) | (1 << (p & 7));
  }
  return out;
}

export function bloomHas(filter: Uint8Array, value: string): boolean {
  const { hashes, bits } = header(filter);
  return positions(value, bits, hashes).every(
    (p) => ((filter[5 + (p >>> 3)] as number) & (1 << (p & 7))) !== 0,
  );
}
