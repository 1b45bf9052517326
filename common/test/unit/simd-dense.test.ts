/**
 * The generated WebAssembly SIMD Dense kernel against a scalar kernel with the same summation order
 * (start from the row's sum or +0, add x·w in ascending column order in float64, add the bias, round
 * to float32): the same bits for every block edge (rows and unit pairs beside the 2 × 4 block), with
 * and without starting sums, zeros and negative zeros among the inputs.
 */
import { describe, expect, it } from "@jest/globals";
import { SimdDense, simdAvailable, simdDenseModuleBytes } from "../../src/features/simd-dense.js";
import { mulberry32 } from "../../src/index.js";

function scalar(
  x: Float64Array,
  vectors: number,
  m: number,
  w: Float64Array,
  units: number,
  b: Float64Array,
  rowBias: Float64Array | undefined,
  relu: boolean,
): Float32Array {
  const out = new Float32Array(vectors * units);
  for (let v = 0; v < vectors; v++)
    for (let u = 0; u < units; u++) {
      let a = rowBias === undefined ? 0 : (rowBias[v * units + u] as number);
      for (let j = 0; j < m; j++) a += (x[v * m + j] as number) * (w[u * m + j] as number);
      out[v * units + u] = (b[u] as number) + a;
    }
  // The JavaScript activation's ReLU.
  if (relu) for (let i = 0; i < out.length; i++) if ((out[i] as number) < 0) out[i] = 0;
  return out;
}

describe("the WebAssembly SIMD dense kernel", () => {
  it("is a valid module that this runtime runs (so the served forward pass takes it)", () => {
    const bytes = simdDenseModuleBytes();
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(simdAvailable()).toBe(true);
    expect(SimdDense.create(64, 40)).toBeInstanceOf(SimdDense);
    // An odd number of units has no pair to fill a lane: the JavaScript kernel runs it.
    expect(SimdDense.create(7, 40)).toBeUndefined();
  });

  it.each([
    // vectors, m, units, with starting sums, with a ReLU
    [200, 6, 64, true, true],
    [200, 45, 32, false, true],
    [201, 45, 64, false, false],
    [3, 5, 2, true, false],
    [7, 13, 10, true, true],
    [1, 1, 2, false, false],
    [5, 0, 4, true, true],
    [9, 17, 14, false, true],
  ] as const)(
    "gives the scalar kernel's bits for %i rows × %i columns → %i units (starting sums: %s, ReLU: %s)",
    (vectors, m, units, withRowBias, relu) => {
      const random = mulberry32(vectors * 131 + m * 7 + units);
      const kernel = SimdDense.create(units, 64, relu) as SimdDense;
      const w = Float64Array.from({ length: units * m }, () => Math.fround(random() - 0.5));
      const b = Float64Array.from({ length: units }, () => Math.fround(random() - 0.5));
      const rowBias = withRowBias
        ? Float64Array.from({ length: vectors * units }, () => random() * 2 - 1)
        : undefined;
      const x = Float64Array.from({ length: vectors * m }, (_, i) =>
        i % 5 === 0 ? 0 : i % 7 === 0 ? -0 : Math.fround(random() * 6 - 3),
      );
      // Weights set for another width first: the kernel must lay out the new ones whole.
      kernel.setWeights(new Float64Array(units * 3).fill(9), 3);
      kernel.setWeights(w, m);
      kernel.rows(vectors, m).set(x);
      const out = new Float32Array(vectors * units).fill(Number.NaN);
      kernel.run(vectors, b, out, rowBias);
      const expected = scalar(x, vectors, m, w, units, b, rowBias, relu);
      if (relu) expect(out.some((v) => Object.is(v, 0))).toBe(true);
      let same = 0;
      for (let i = 0; i < out.length; i++) if (Object.is(out[i], expected[i])) same++;
      expect(same).toBe(vectors * units);
    },
  );
});
