import { describe, expect, it } from "@jest/globals";
import { forEachReaderIdToken, readerIdTokens } from "../../src/index.js";

/** The definition the scanner replaces: 64 hex digits, not part of a longer hex run. */
const DEFINITION = /(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/g;

/** A deterministic text of hex runs of random lengths (63–65 often) and separators. */
function hexHeavyText(seed: number): string {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  const alphabet = "0123456789abcdefABCDEF";
  const separators = [",", ";", "\n", "-", " ", "g", "Z", '"', "é", ":"];
  let text = "";
  for (let part = 0; part < 60; part++) {
    const length = next() < 0.5 ? 63 + Math.floor(next() * 3) : Math.floor(next() * 80);
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
    if (next() < 0.9) text += separators[Math.floor(next() * separators.length)];
  }
  return text;
}

describe("forEachReaderIdToken", () => {
  it("finds exactly the tokens of the regular-expression definition, at the same places", () => {
    let tokens = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const text = hexHeavyText(seed);
      const found: [number, number][] = [];
      forEachReaderIdToken(text, (start, end) => found.push([start, end]));
      const expected = [...text.matchAll(DEFINITION)].map((m) => [m.index, m.index + 64]);
      expect(found).toEqual(expected);
      tokens += found.length;
    }
    expect(tokens).toBeGreaterThan(1_000);
  });

  it("stops at the token whose visit returns false", () => {
    const text = ["a", "b", "c"].map((c) => c.repeat(64)).join(",");
    const found: number[] = [];
    forEachReaderIdToken(text, (start) => {
      found.push(start);
      return start < 65;
    });
    expect(found).toEqual([0, 65]);
  });

  it("takes a token at either end of the text and never a 63- or 65-digit run", () => {
    const id = "A".repeat(64);
    expect(readerIdTokens(`${id},${"b".repeat(63)};${"c".repeat(65)}|${id}`)).toEqual([
      "a".repeat(64),
      "a".repeat(64),
    ]);
    expect(readerIdTokens("")).toEqual([]);
  });
});
