import { DEFAULT_FEATURE_COLUMNS, mulberry32, NUMERIC_FEATURES } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { fitRanker, listwiseLoss } from "../../../src/app/model-ops.js";
import { FEATURE_SETS } from "../../../src/domain/examples.js";
import { buildRecommender, priorShrinkage } from "../../../src/model/recommender.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

/** A small recommender and `groups` example groups of 4 (the positive first) with `numeric` features. */
async function groupsOf(seed: number, groups: number, numeric: (rows: number) => Float32Array) {
  const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
  const model = buildRecommender(tf as Tf, { sections: 2, regions: 2, embeddingDim: 2, hidden: [8], seed });
  const rows = groups * 4;
  const inputs = {
    rows,
    article_section: new Int32Array(rows),
    article_region: new Int32Array(rows),
    numeric: numeric(rows),
  };
  const labels = new Float32Array(rows).map((_, r) => (r % 4 === 0 ? 1 : 0));
  return { tf: tf as Tf, model, examples: { inputs, labels, positives: groups, groupSize: 4 } };
}

describe("the listwise loss", () => {
  it("is the softmax cross-entropy of each group's positive over the group's logits", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const logits = [
      [2, 0, -1],
      [0, 1, 0.5],
    ];
    const yPred = tf.tensor2d(logits.flat(), [6, 1]);
    const yTrue = tf.tensor2d([1, 0, 0, 1, 0, 0], [6, 1]);
    const loss = (await listwiseLoss(tf as Tf, 3)(yTrue, yPred).data())[0] as number;
    const expected =
      logits
        .map((z) => -Math.log(Math.exp(z[0] as number) / z.reduce((s, v) => s + Math.exp(v), 0)))
        .reduce((s, v) => s + v, 0) / logits.length;
    expect(loss).toBeCloseTo(expected, 4);
    tf.dispose([yPred, yTrue]);
  });

  it("fits the model through its logit: the served sigmoid score ranks a group's positive first", async () => {
    // 40 groups of 4: the positive is the row whose first numeric column is highest.
    const { tf, model, examples } = await groupsOf(3, 40, (rows) => {
      const numeric = new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length);
      for (let r = 0; r < rows; r++)
        numeric[r * DEFAULT_FEATURE_COLUMNS.length] = r % 4 === 0 ? 1 : -1 + (r % 4) * 0.1;
      return numeric;
    });
    const { inputs } = examples;
    const numeric = inputs.numeric;
    const logs = await fitRanker(
      tf as Tf,
      model,
      examples,
      { loss: "listwise", epochs: 30, batchSize: 16, learningRate: 0.05, seed: 1, validationShare: 0 },
      () => undefined,
    );
    expect((logs.at(-1)?.loss ?? 1) < (logs[0]?.loss ?? 0)).toBe(true);
    const x = [
      tf.tensor2d(inputs.article_section.subarray(0, 4), [4, 1], "int32"),
      tf.tensor2d(inputs.article_region.subarray(0, 4), [4, 1], "int32"),
      tf.tensor2d(numeric.subarray(0, 4 * DEFAULT_FEATURE_COLUMNS.length), [
        4,
        DEFAULT_FEATURE_COLUMNS.length,
      ]),
    ];
    const scores = [...((model.predict(x) as ReturnType<Tf["tensor"]>).dataSync() as Float32Array)];
    expect(scores.every((p) => p > 0 && p < 1)).toBe(true);
    expect(scores.indexOf(Math.max(...scores))).toBe(0);
    tf.dispose(x);
    model.dispose();
  });

  it("refuses examples that do not split into whole groups", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const model = buildRecommender(tf as Tf, {
      sections: 2,
      regions: 2,
      embeddingDim: 2,
      hidden: [4],
      seed: 1,
    });
    const rows = 5;
    const inputs = {
      rows,
      article_section: new Int32Array(rows),
      article_region: new Int32Array(rows),
      numeric: new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length),
    };
    await expect(
      fitRanker(
        tf as Tf,
        model,
        { inputs, labels: new Float32Array(rows), positives: 1, groupSize: 3 },
        { loss: "listwise", epochs: 1, batchSize: 6, learningRate: 0.01, seed: 1, validationShare: 0 },
        () => undefined,
      ),
    ).rejects.toThrow(/groups of 3/);
    model.dispose();
  });
});

describe("the recommender before it learns", () => {
  it("ranks by the serving popularity: its prior, to which the MLP adds nothing yet", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const model = buildRecommender(tf as Tf, {
      sections: 3,
      regions: 3,
      embeddingDim: 4,
      hidden: [16, 8],
      seed: 9,
    });
    const rows = 6;
    const popularity = [0.3, -1.2, 2.5, 0.9, -0.1, 1.7];
    const column = NUMERIC_FEATURES.indexOf("article_log_popularity");
    const numeric = new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length).map(
      (_, i) => ((i * 7919) % 13) / 6 - 1,
    );
    popularity.forEach((p, r) => {
      numeric[r * DEFAULT_FEATURE_COLUMNS.length + column] = p;
    });
    const x = [
      tf.tensor2d([0, 1, 2, 3, 1, 2], [rows, 1], "int32"),
      tf.tensor2d([3, 2, 1, 0, 0, 1], [rows, 1], "int32"),
      tf.tensor2d(numeric, [rows, DEFAULT_FEATURE_COLUMNS.length]),
    ];
    const scores = [...((model.predict(x) as ReturnType<Tf["tensor"]>).dataSync() as Float32Array)];
    const byScore = scores.map((_, r) => r).sort((a, b) => (scores[b] as number) - (scores[a] as number));
    const byPopularity = popularity
      .map((_, r) => r)
      .sort((a, b) => (popularity[b] as number) - (popularity[a] as number));
    expect(byScore).toEqual(byPopularity);
    tf.dispose(x);
    model.dispose();
  });
});

describe("early stopping", () => {
  it("keeps the untrained network when no epoch ranks the held-out groups better", async () => {
    // Labels carry no signal (features are noise) and the steps are absurdly long: whatever training
    // does only makes the held-out ranking worse than the untrained network's.
    const random = mulberry32(11);
    const { tf, model, examples } = await groupsOf(4, 60, (rows) =>
      new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length).map(() => random() * 2 - 1),
    );
    const before = model.getWeights().map((w) => [...(w.dataSync() as Float32Array)]);
    const logs = await fitRanker(
      tf as Tf,
      model,
      examples,
      {
        loss: "listwise",
        epochs: 6,
        batchSize: 16,
        learningRate: 1000,
        seed: 2,
        validationShare: 0.5,
        patience: 2,
      },
      () => undefined,
    );
    const kept = logs.findIndex((l) => l.kept === true) + 1;
    const after = model.getWeights().map((w) => [...(w.dataSync() as Float32Array)]);
    // No epoch ranks the held-out half better than the untrained network: it stays, bit for bit, and
    // training stopped after `patience` epochs without a better held-out loss.
    expect(kept).toBe(0);
    expect(after).toEqual(before);
    expect(logs).toHaveLength(2);
    model.dispose();
  });
});

describe("the untrained network's popularity prior", () => {
  it("is the serving popularity's share when the columns measure reads as shares; columns with neither are refused", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const features = FEATURE_SETS.share;
    expect(features).not.toContain("article_log_popularity");
    const spec = { sections: 2, regions: 2, embeddingDim: 2, hidden: [4], seed: 2 };
    const model = buildRecommender(tf, { ...spec, features });
    const rows = 6;
    const random = mulberry32(4);
    const numeric = new Float32Array(rows * features.length).map(() => random() * 4 - 2);
    const x = [
      tf.tensor2d(new Int32Array(rows), [rows, 1], "int32"),
      tf.tensor2d(new Int32Array(rows), [rows, 1], "int32"),
      tf.tensor2d(numeric, [rows, features.length]),
    ];
    const scores = [...((model.predict(x) as ReturnType<Tf["tensor"]>).dataSync() as Float32Array)];
    const share = features.indexOf("article_log_share");
    for (const [r, p] of scores.entries())
      expect(Math.log(p / (1 - p))).toBeCloseTo(numeric[r * features.length + share] as number, 4);
    expect(() =>
      buildRecommender(tf, { ...spec, features: features.filter((f) => f !== "article_log_share") }),
    ).toThrow(/lack the prior's article_log_popularity or article_log_share/);
    tf.dispose(x);
    model.dispose();
  });
});

describe("shrinking the trained logit toward the popularity prior", () => {
  it("weight 0 is the untrained prior, 1 the trained network, and a weight in between blends the logits exactly", async () => {
    const random = mulberry32(21);
    const { tf, model, examples } = await groupsOf(5, 40, (rows) =>
      new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length).map(() => random() * 2 - 1),
    );
    const untrained = buildRecommender(tf, {
      sections: 2,
      regions: 2,
      embeddingDim: 2,
      hidden: [8],
      seed: 5,
    });
    await fitRanker(
      tf,
      model,
      examples,
      { loss: "listwise", epochs: 5, batchSize: 16, learningRate: 0.05, seed: 3, validationShare: 0 },
      () => undefined,
    );
    const { inputs } = examples;
    const x = [
      tf.tensor2d(inputs.article_section, [inputs.rows, 1], "int32"),
      tf.tensor2d(inputs.article_region, [inputs.rows, 1], "int32"),
      tf.tensor2d(inputs.numeric, [inputs.rows, DEFAULT_FEATURE_COLUMNS.length]),
    ];
    const logits = (m: typeof model) => {
      const p = [...((m.predict(x) as ReturnType<Tf["tensor"]>).dataSync() as Float32Array)];
      return p.map((s) => Math.log(s / (1 - s)));
    };
    const trainedWeights = model.getWeights().map((w) => [...(w.dataSync() as Float32Array)]);
    const trained = logits(model);
    const prior = logits(untrained);
    // The trained network does differ from its prior, so the blends below are not trivially equal.
    expect(Math.max(...trained.map((t, r) => Math.abs(t - (prior[r] as number))))).toBeGreaterThan(0.05);

    const shrink = priorShrinkage(tf, model);
    shrink(0);
    for (const [r, z] of logits(model).entries()) expect(z).toBeCloseTo(prior[r] as number, 4);
    shrink(0.25);
    for (const [r, z] of logits(model).entries())
      expect(z).toBeCloseTo(0.75 * (prior[r] as number) + 0.25 * (trained[r] as number), 4);
    shrink(1);
    expect(model.getWeights().map((w) => [...(w.dataSync() as Float32Array)])).toEqual(trainedWeights);
    expect(() => shrink(1.5)).toThrow(/\[0, 1\]/);
    tf.dispose(x);
    model.dispose();
    untrained.dispose();
  });
});
