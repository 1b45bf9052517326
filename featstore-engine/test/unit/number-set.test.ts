import { describe, expect, it } from "@jest/globals";
import { NumberSet } from "../../src/domain/number-set.js";
import { interactionHash } from "../../src/domain/snapshot.js";
import { Rng } from "../../src/generator/rng.js";

describe("NumberSet", () => {
  it("keeps the key 0 apart from the empty slots", () => {
    const set = new NumberSet();
    expect(set.has(0)).toBe(false);
    expect(set.add(0)).toBe(true);
    expect(set.add(0)).toBe(false);
    expect(set.has(0)).toBe(true);
    expect(set.size).toBe(1);
    expect(set.has(1)).toBe(false);
  });

  it("tells keys apart that differ only in their high or low 32 bits", () => {
    const set = new NumberSet();
    const keys = [1, 2 ** 32, 2 ** 32 + 1, 2 ** 52 + 1, 2 ** 52 + 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
    for (const k of keys) expect(set.add(k)).toBe(true);
    for (const k of keys) expect(set.has(k)).toBe(true);
    expect(set.has(2)).toBe(false);
    expect(set.has(2 ** 33)).toBe(false);
    expect(set.size).toBe(keys.length);
  });

  it("finds every key through collisions in a full small table", () => {
    // 12 keys in 16 slots (the table's first size, at its 3/4 limit): probes must run past taken slots.
    const set = new NumberSet();
    const keys = Array.from({ length: 12 }, (_, i) => (i + 1) * 16);
    for (const k of keys) set.add(k);
    expect(set.bytes).toBe(16 * 8);
    for (const k of keys) expect(set.has(k)).toBe(true);
    for (const k of keys) expect(set.has(k + 1)).toBe(false);
  });

  it("doubles past three quarters full and keeps every key", () => {
    const set = new NumberSet();
    for (let k = 1; k <= 12; k++) set.add(k);
    expect(set.bytes).toBe(16 * 8);
    set.add(13);
    expect(set.bytes).toBe(32 * 8);
    for (let k = 1; k <= 100_000; k++) set.add(k * 7919);
    expect(set.bytes).toBe(262_144 * 8);
    const missing: number[] = [];
    for (let k = 1; k <= 13; k++) if (!set.has(k)) missing.push(k);
    for (let k = 1; k <= 100_000; k++) if (!set.has(k * 7919)) missing.push(k * 7919);
    expect(missing).toEqual([]);
    expect(set.size).toBe(13 + 100_000);
  });

  it("is sized up front for the entries expected", () => {
    expect(new NumberSet(1_000).bytes).toBe(2048 * 8);
  });

  it("answers as a Set does over random adds and lookups with repeats", () => {
    const rng = new Rng("number-set");
    const set = new NumberSet();
    const reference = new Set<number>();
    // Keys from a small pool (many repeats) and interaction hashes (the real keys, 52 bits).
    const pool = Array.from({ length: 5_000 }, (_, i) =>
      i % 2 === 0 ? rng.int(20_000) : interactionHash(rng.uuid(), rng.uuid(), rng.int(1e12)),
    );
    const answers: boolean[] = [];
    const expected: boolean[] = [];
    for (let i = 0; i < 200_000; i++) {
      const k = pool[rng.int(pool.length)] as number;
      if (rng.int(3) === 0) {
        answers.push(set.has(k));
        expected.push(reference.has(k));
      } else {
        answers.push(set.add(k));
        expected.push(!reference.has(k));
        reference.add(k);
      }
    }
    expect(answers).toEqual(expected);
    expect(expected.filter((x) => x).length).toBeGreaterThan(1_000); // both answers occur
    expect(expected.filter((x) => !x).length).toBeGreaterThan(1_000);
    expect(set.size).toBe(reference.size);
    expect(pool.map((k) => set.has(k))).toEqual(pool.map((k) => reference.has(k)));
  });

  it("rejects keys it cannot hold exactly", () => {
    const set = new NumberSet();
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => set.add(bad)).toThrow(/integers in \[0, 2\^53\)/);
    expect(set.size).toBe(0);
  });
});
