import { describe, expect, it } from "@jest/globals";
import { ReaderIdSet } from "../../src/domain/reader-id-set.js";
import { Rng } from "../../src/generator/rng.js";

const hexId = (rng: Rng) =>
  Array.from({ length: 8 }, () =>
    rng
      .int(2 ** 32)
      .toString(16)
      .padStart(8, "0"),
  ).join("");

describe("ReaderIdSet", () => {
  it("counts a lake reader id once", () => {
    const set = new ReaderIdSet();
    const id = "ab".repeat(32);
    expect(set.add(id)).toBe(true);
    expect(set.add(`${"ab".repeat(32)}`)).toBe(false);
    expect(set.size).toBe(1);
  });

  it("tells apart ids that differ in one character, in any position", () => {
    const set = new ReaderIdSet();
    const base = "0".repeat(64);
    expect(set.add(base)).toBe(true);
    for (let i = 0; i < 64; i++) expect(set.add(`${base.slice(0, i)}f${base.slice(i + 1)}`)).toBe(true);
    expect(set.size).toBe(65);
  });

  it("keeps ids it cannot pack exactly as a Set does (upper case, other lengths, other characters)", () => {
    const set = new ReaderIdSet();
    const lower = "ab".repeat(32);
    const others = [lower.toUpperCase(), lower.slice(1), `${lower}0`, "g".repeat(64), "", "leitor-1"];
    expect(set.add(lower)).toBe(true);
    for (const id of others) expect(set.add(id)).toBe(true);
    for (const id of others) expect(set.add(id)).toBe(false);
    expect(set.size).toBe(1 + others.length);
  });

  it("answers as a Set does over 60,000 adds with repeats, through its growth", () => {
    const rng = new Rng("reader-id-set");
    const pool = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? `x${rng.uuid()}` : hexId(rng)));
    const set = new ReaderIdSet();
    const reference = new Set<string>();
    const answers: boolean[] = [];
    const expected: boolean[] = [];
    for (let i = 0; i < 60_000; i++) {
      const id = pool[rng.int(pool.length)] as string;
      answers.push(set.add(id));
      expected.push(!reference.has(id));
      reference.add(id);
    }
    expect(answers).toEqual(expected);
    expect(expected.filter((x) => !x).length).toBeGreaterThan(10_000);
    expect(set.size).toBe(reference.size);
  });
});
