import { beforeAll, describe, expect, it } from "@jest/globals";
import { predictScores } from "../../../src/model/predict.js";
import { buildRanker } from "../../../src/model/ranker.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

let tf: Tf;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: recordingLogger() }));
});

describe("predictScores", () => {
  it("scores every row in large batches, matching predict's default 32-row batching, without leaking", async () => {
    const model = buildRanker(tf, {
      userVocab: 100,
      itemVocab: 100,
      embeddingDim: 4,
      numericFeatures: 0,
      hidden: [8],
      seed: 2,
    });
    const rows = 1000;
    const inputs = [
      tf.tensor2d(
        Array.from({ length: rows }, (_, i) => [i % 100]),
        undefined,
        "int32",
      ),
      tf.tensor2d(
        Array.from({ length: rows }, (_, i) => [(i * 7) % 100]),
        undefined,
        "int32",
      ),
    ];
    const reference = Array.from((model.predict(inputs) as ReturnType<typeof tf.tensor2d>).dataSync());
    const tensorsBefore = tf.memory().numTensors;

    const scores = await predictScores(tf, model, inputs);

    expect(scores).toHaveLength(rows);
    expect(Math.max(...Array.from(scores, (s, i) => Math.abs(s - (reference[i] as number))))).toBeLessThan(
      1e-6,
    );
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
