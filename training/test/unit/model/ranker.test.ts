import { beforeAll, describe, expect, it } from "@jest/globals";
import { buildRanker } from "../../../src/model/ranker.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

let tf: Tf;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: recordingLogger() }));
});

/** Clicks depend on the user and item ids only, so the embeddings must learn for the loss to drop. */
function syntheticBatch(rows: number) {
  const users: number[] = [];
  const items: number[] = [];
  const numeric: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < rows; i++) {
    const u = (i * 7) % 50;
    const it = (i * 13) % 40;
    users.push(u);
    items.push(it);
    numeric.push(0.1, -0.1);
    labels.push((u + it) % 2);
  }
  return {
    xs: [
      tf.tensor2d(users, [rows, 1], "int32"),
      tf.tensor2d(items, [rows, 1], "int32"),
      tf.tensor2d(numeric, [rows, 2]),
    ],
    ys: tf.tensor2d(labels, [rows, 1]),
  };
}

describe("buildRanker", () => {
  it("maps [batch,1] ids and [batch,n] numerics to [batch,1] probabilities", () => {
    const model = buildRanker(tf, {
      userVocab: 50,
      itemVocab: 40,
      embeddingDim: 8,
      numericFeatures: 2,
      hidden: [16, 8],
    });
    const { xs } = syntheticBatch(5);

    const out = model.predict(xs) as ReturnType<typeof tf.tensor2d>;

    expect(out.shape).toEqual([5, 1]);
    expect(Array.from(out.dataSync()).every((p) => p > 0 && p < 1)).toBe(true);
    expect(model.inputs.map((i) => i.dtype)).toEqual(["int32", "int32", "float32"]);
  });

  it("omits the numeric input when there are no numeric features", () => {
    const model = buildRanker(tf, {
      userVocab: 5,
      itemVocab: 5,
      embeddingDim: 2,
      numericFeatures: 0,
      hidden: [],
    });

    expect(model.inputNames).toEqual(["user_id", "item_id"]);
  });

  it("learns id-only labels on wasm, so embedding gradients flow", async () => {
    const model = buildRanker(tf, {
      userVocab: 50,
      itemVocab: 40,
      embeddingDim: 8,
      numericFeatures: 2,
      hidden: [16],
      seed: 3,
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy" });
    const { xs, ys } = syntheticBatch(400);
    const embeddingsBefore = Array.from(model.getLayer("user_emb").getWeights()[0]?.dataSync() ?? []);

    const history = await model.fit(xs, ys, { epochs: 15, batchSize: 64, verbose: 0 });

    const losses = history.history.loss as number[];
    expect(tf.getBackend()).toBe("wasm");
    expect(losses.at(-1)).toBeLessThan((losses[0] as number) * 0.7);
    expect(Array.from(model.getLayer("user_emb").getWeights()[0]?.dataSync() ?? [])).not.toEqual(
      embeddingsBefore,
    );
  });
});
