import { describe, expect, it } from "@jest/globals";
import { interactionHash } from "../../src/domain/snapshot.js";
import { Rng } from "../../src/generator/rng.js";

describe("interactionHash", () => {
  it("is stable and within 52 bits", () => {
    const h = interactionHash("a".repeat(64), "7269221c-15a2-44e0-aa52-df43630b5356", 1_656_634_432_357);
    expect(h).toBe(
      interactionHash("a".repeat(64), "7269221c-15a2-44e0-aa52-df43630b5356", 1_656_634_432_357),
    );
    expect(Number.isSafeInteger(h)).toBe(true);
    expect(h).toBeLessThan(2 ** 52);
  });

  it("gives distinct values to 60,000 interactions that differ in one field", () => {
    const rng = new Rng("hash");
    const users = Array.from({ length: 200 }, () => rng.uuid().replaceAll("-", "").padEnd(64, "0"));
    const pages = Array.from({ length: 100 }, () => rng.uuid());
    const identities = new Set<string>();
    const hashes = new Set<number>();
    for (const u of users)
      for (const [k, p] of pages.entries())
        for (const t of [1_656_634_432_357 + k, 1_656_634_432_358 + k * 1000, 1_656_634_432_357 + k * 7]) {
          identities.add(`${u}|${p}|${t}`);
          hashes.add(interactionHash(u, p, t));
        }
    expect(identities.size).toBeGreaterThan(59_000);
    expect(hashes.size).toBe(identities.size);
  });
});

describe("interactionHash's value", () => {
  /** The hash as first written: over the joined `${userId}|${page}|${timestamp}`. */
  function joined(userId: string, page: string, timestamp: number): number {
    const text = `${userId}|${page}|${timestamp}`;
    let a = 0x811c9dc5;
    let b = 0x5bd1e995 ^ 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
  }

  it("is the hash of the joined identity, read without joining it", () => {
    const rng = new Rng("hash-joined");
    const cases = Array.from({ length: 2_000 }, () => ({
      u: rng.uuid().replaceAll("-", "").padEnd(64, "f"),
      p: rng.uuid(),
      t: 1_656_000_000_000 + rng.int(4_000_000_000),
    }));
    expect(cases.map(({ u, p, t }) => interactionHash(u, p, t))).toEqual(
      cases.map(({ u, p, t }) => joined(u, p, t)),
    );
  });
});
