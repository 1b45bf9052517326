import { describe, expect, it } from "@jest/globals";
import {
  ForwardPassModel,
  type ForwardPassOptions,
  mulberry32,
  NUMERIC_FEATURE_COUNT,
} from "../../src/index.js";

const HIDDEN = [64, 32] as const;

/** A Sequential MLP (numeric block → ReLU layers → sigmoid) with seeded weights, as model.json + weights.bin. */
function mlp(seed: number, hidden: readonly number[] = HIDDEN, options: ForwardPassOptions = {}) {
  const random = mulberry32(seed);
  const widths = [NUMERIC_FEATURE_COUNT, ...hidden, 1];
  const layers = widths.slice(1).map((units, i) => ({
    name: `dense_${i}`,
    inDim: widths[i] as number,
    units,
    activation: i === widths.length - 2 ? "sigmoid" : "relu",
    kernel: Float32Array.from({ length: (widths[i] as number) * units }, () => (random() - 0.5) * 0.6),
    bias: Float32Array.from({ length: units }, () => (random() - 0.5) * 0.2),
  }));
  const modelJson = {
    modelTopology: {
      class_name: "Sequential",
      config: {
        name: "mlp",
        layers: layers.map((l, i) => ({
          class_name: "Dense",
          config: {
            name: l.name,
            units: l.units,
            activation: l.activation,
            use_bias: true,
            ...(i === 0 ? { batch_input_shape: [null, NUMERIC_FEATURE_COUNT], dtype: "float32" } : {}),
          },
        })),
      },
    },
    weightsManifest: [
      {
        paths: ["weights.bin"],
        weights: layers.flatMap((l) => [
          { name: `${l.name}/kernel`, shape: [l.inDim, l.units], dtype: "float32" },
          { name: `${l.name}/bias`, shape: [l.units], dtype: "float32" },
        ]),
      },
    ],
  };
  const values = layers.flatMap((l) => [...l.kernel, ...l.bias]);
  const bytes = new Uint8Array(Float32Array.from(values).buffer);
  return { model: ForwardPassModel.load(modelJson, bytes, options), layers };
}

/** The network computed the direct way: every product of every row, in float64. */
function reference(layers: ReturnType<typeof mlp>["layers"], x: Float32Array, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let h: number[] = Array.from(x.subarray(r * NUMERIC_FEATURE_COUNT, (r + 1) * NUMERIC_FEATURE_COUNT));
    for (const l of layers) {
      const next: number[] = [];
      for (let u = 0; u < l.units; u++) {
        let s = l.bias[u] as number;
        for (let i = 0; i < l.inDim; i++) s += (h[i] as number) * (l.kernel[i * l.units + u] as number);
        next.push(l.activation === "relu" ? Math.max(0, s) : 1 / (1 + Math.exp(-s)));
      }
      h = next;
    }
    out.push(h[0] as number);
  }
  return out;
}

/** One reader's candidates: the reader's own columns equal in every row, one column all zeros, the rest varying. */
function candidates(rows: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const reader = Array.from({ length: 5 }, () => random() * 4 - 2);
  const x = new Float32Array(rows * NUMERIC_FEATURE_COUNT);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < NUMERIC_FEATURE_COUNT; k++)
      x[r * NUMERIC_FEATURE_COUNT + k] = k < 5 ? (reader[k] as number) : k === 7 ? 0 : random() * 4 - 2;
  return x;
}

describe("the forward pass's dense layers", () => {
  it.each([
    ["one reader's 200 candidates (constant reader columns folded into the bias)", 200],
    ["a single row (nothing folded)", 1],
  ])("score %s within 1e-6 of the direct computation", (_, rows) => {
    const { model, layers } = mlp(5);
    const x = candidates(rows, 11);
    const [scores] = model.predict({ [`${layers[0]?.name}_input`]: x }, rows);
    const expected = reference(layers, x, rows);
    let worst = 0;
    for (let r = 0; r < rows; r++)
      worst = Math.max(worst, Math.abs((scores?.[r] as number) - (expected[r] as number)));
    expect(scores).toHaveLength(rows);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it("gives a row the same score whether it is ranked alone or among others", () => {
    const { model, layers } = mlp(9);
    const x = candidates(50, 3);
    const input = `${layers[0]?.name}_input`;
    const [batch] = model.predict({ [input]: x }, 50);
    for (const r of [0, 17, 49]) {
      const [alone] = model.predict(
        { [input]: x.slice(r * NUMERIC_FEATURE_COUNT, (r + 1) * NUMERIC_FEATURE_COUNT) },
        1,
      );
      expect(Math.abs((alone?.[0] as number) - (batch?.[r] as number))).toBeLessThanOrEqual(1e-6);
    }
  });

  it.each([
    ["an odd number of rows and widths that are not multiples of four", 37, [30, 7]],
    ["two rows through one-unit-wide hidden layers", 2, [1, 3]],
  ])("scores %s within 1e-6 of the direct computation", (_, rows, hidden) => {
    const { model, layers } = mlp(13, hidden);
    const input = `${layers[0]?.name}_input`;
    const x = candidates(rows, 21);
    // Another batch first: the kernels' scratch (folded columns, compacted weights) must not leak into the next call.
    model.predict({ [input]: candidates(5, 2) }, 5);
    const [scores] = model.predict({ [input]: x }, rows);
    const expected = reference(layers, x, rows);
    expect(scores).toHaveLength(rows);
    for (let r = 0; r < rows; r++)
      expect(Math.abs((scores?.[r] as number) - (expected[r] as number))).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    ["training's default widths, one reader's candidates", HIDDEN, [200, 1, 3]],
    ["odd and small widths (JavaScript layers beside SIMD ones)", [30, 7], [37, 2, 1]],
    ["more rows than one SIMD call takes", [6, 4], [1100, 5]],
  ])("gives the same bits with the SIMD kernel as with the JavaScript one: %s", (_, hidden, batches) => {
    const simd = mlp(17, hidden, { kernel: "simd" });
    const js = mlp(17, hidden, { kernel: "js" });
    const input = `${simd.layers[0]?.name}_input`;
    let compared = 0;
    for (const [b, rows] of batches.entries()) {
      const x = candidates(rows, 40 + b);
      const [fast] = simd.model.predict({ [input]: x }, rows);
      const [plain] = js.model.predict({ [input]: x }, rows);
      expect(fast).toHaveLength(rows);
      for (let r = 0; r < rows; r++) {
        expect(Object.is(fast?.[r], plain?.[r])).toBe(true);
        compared++;
      }
    }
    expect(compared).toBe(batches.reduce((n, rows) => n + rows, 0));
  });
});
