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
