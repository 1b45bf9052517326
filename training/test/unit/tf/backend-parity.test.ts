import { DEFAULT_FEATURE_COLUMNS } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { fitRanker } from "../../../src/app/model-ops.js";
import { buildRecommender, inputTensors } from "../../../src/model/recommender.js";
import { initTensorflow, type Tf, type TfPreference } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

const ROWS = 256;
/** A positive and its 7 negatives per group, as `buildExamples` lays them out. */
const GROUP = 8;
const SPEC = { sections: 12, regions: 7, embeddingDim: 8, hidden: [64, 32], seed: 7 } as const;

/** Deterministic inputs in the feature builder's layout (a tiny LCG: no Math.random). */
function batch() {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const numeric = new Float32Array(ROWS * DEFAULT_FEATURE_COLUMNS.length).map(() => next() * 4 - 2);
  return {
    rows: ROWS,
    article_section: new Int32Array(ROWS).map(() => Math.floor(next() * (SPEC.sections + 1))),
    article_region: new Int32Array(ROWS).map(() => Math.floor(next() * (SPEC.regions + 1))),
    numeric,
    labels: new Float32Array(ROWS).map((_, r) => (r % GROUP === 0 ? 1 : 0)),
  };
}

/** The production recommender on one backend: its scores, then its weights after a short Adam fit. */
async function runOn(prefer: TfPreference, weights?: Float32Array[]) {
  const { tf, backend } = await initTensorflow({ prefer, log: recordingLogger() });
  const model = buildRecommender(tf as Tf, SPEC);
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i]?.shape)));
  const data = batch();
  const x = inputTensors(tf, data);
  const scores = (model.predict(x) as ReturnType<Tf["tensor"]>).dataSync().slice();
  tf.dispose(x);
  // The production fit: seeded group shuffles, the listwise loss, Adam, a validation split, two epochs.
  await fitRanker(
    tf,
    model,
    { inputs: data, labels: data.labels, positives: ROWS / GROUP, groupSize: GROUP },
    { loss: "listwise", epochs: 2, batchSize: 64, learningRate: 1e-3, seed: 3, validationShare: 0.25 },
    () => {},
  );
  const trained = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return { backend, scores, trained };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

describe("the wasm fallback against native TensorFlow", () => {
  it("scores and trains the production recommender within 1e-5 of tfjs-node", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const start = buildRecommender(tf as Tf, SPEC)
      .getWeights()
      .map((w) => w.dataSync().slice() as Float32Array);
    const native = await runOn("node", start);
    const wasm = await runOn("wasm", start);

    expect([native.backend, wasm.backend]).toEqual(["tensorflow", "wasm"]);
    expect(maxAbsDiff(native.scores, wasm.scores)).toBeLessThanOrEqual(1e-5);
    // Training moved the weights on both backends, by the same steps.
    expect(maxAbsDiff(native.trained[0] ?? [], start[0] ?? [])).toBeGreaterThan(1e-4);
    for (let i = 0; i < start.length; i++)
      expect(maxAbsDiff(native.trained[i] ?? [], wasm.trained[i] ?? [])).toBeLessThanOrEqual(1e-5);
  }, 120_000);
});
