import {
  CONTENT_VECTOR_DIMENSION,
  cosineSimilarity,
  hashTerm,
  packContentVector,
  packedCosineSimilarity,
  sparseVectorFromWeights,
  unpackContentVector,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";

describe("content vector codec (common)", () => {
  const v = sparseVectorFromWeights(
    new Map([
      [10, 3],
      [5, 4],
      [99, 0],
      [7, -1],
    ]),
  );

  it("keeps positive weights, sorted by bucket, L2-normalised", () => {
    expect([...v.indices]).toEqual([5, 10]);
    expect(v.values[0]).toBeCloseTo(0.8);
    expect(v.values[1]).toBeCloseTo(0.6);
  });

  it("packs to 8 + 8n bytes and unpacks to the same vector", () => {
    const bytes = packContentVector(v);
    expect(bytes.length).toBe(8 + 8 * 2);
    const back = unpackContentVector(bytes);
    expect(back.dimension).toBe(CONTENT_VECTOR_DIMENSION);
    expect([...back.indices]).toEqual([5, 10]);
    expect([...back.values]).toEqual([...v.values]);
  });

  it("rejects bytes that are not a content vector", () => {
    expect(() => unpackContentVector(Uint8Array.from([1, 2, 3]))).toThrow(RangeError);
    const bytes = packContentVector(v);
    expect(() => unpackContentVector(bytes.subarray(0, bytes.length - 1))).toThrow(RangeError);
  });

  it("computes cosine similarity: 1 with itself, 0 with a disjoint vector", () => {
    const w = sparseVectorFromWeights(new Map([[6, 1]]));
    expect(cosineSimilarity(v, v)).toBeCloseTo(1);
    expect(cosineSimilarity(v, w)).toBe(0);
    expect(
      packedCosineSimilarity(
        packContentVector(v),
        packContentVector(sparseVectorFromWeights(new Map([[5, 1]]))),
      ),
    ).toBeCloseTo(0.8);
  });

  it("hashes terms stably into the dimension", () => {
    expect(hashTerm("vacina")).toBe(hashTerm("vacina"));
    expect(hashTerm("vacina")).toBeLessThan(CONTENT_VECTOR_DIMENSION);
    expect(hashTerm("vacina")).not.toBe(hashTerm("vacinas"));
  });
});
