import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { computeNormalisation, DEFAULT_FEATURE_COLUMNS, vocabularyIndex } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loadTrainingData } from "../../src/app/load-data.js";
import { DEFAULT_TRAIN_CONFIG, trainAndEvaluate } from "../../src/app/train.js";
import { buildExamples } from "../../src/domain/examples.js";
import { timeSplit, windowCases } from "../../src/domain/split.js";
import { buildWorld } from "../../src/domain/world.js";
import { writeKerasH5 } from "../../src/model/keras-h5.js";
import { buildRanker } from "../../src/model/ranker.js";
import { buildRecommender } from "../../src/model/recommender.js";
import { initTensorflow, type Tf } from "../../src/tf/backend.js";
import { runKerasScript } from "../keras/python.js";
import { inMemorySnapshot } from "../support/in-memory-pipeline.js";

let tf: Tf;
let dir: string;

const silent = { info: () => undefined, warn: () => undefined };

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: silent }));
  dir = await mkdtemp(path.join(tmpdir(), "gplay-keras-it-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface KerasOutput {
  keras_version: string;
  backend: string;
  layers: string[];
  predictions: number[][];
}

type Feeds = Record<string, number[][]>;

/** Writes the model as .h5, predicts `feeds` in Keras (numpy backend) and in tfjs, returns both. */
async function predictBoth(model: ReturnType<typeof tf.model>, feeds: Feeds, name: string) {
  const h5 = path.join(dir, `${name}.h5`);
  const inputs = path.join(dir, `${name}.json`);
  await writeKerasH5(model, h5);
  await writeFile(inputs, JSON.stringify(feeds));
  const keras = JSON.parse(
    await runKerasScript("predict_h5.py", [h5, inputs], { kerasBackend: "numpy" }),
  ) as KerasOutput;
  const tensors = model.inputLayers.map((layer, i) =>
    tf.tensor2d(feeds[layer.name] ?? [], undefined, model.inputs[i]?.dtype === "int32" ? "int32" : "float32"),
  );
  const tfjs = (await (
    model.predict(tensors, { batchSize: 1024 }) as ReturnType<typeof tf.tensor2d>
  ).array()) as number[][];
  return { keras, tfjs };
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - (b[i]?.[j] ?? Number.NaN)))));
}

function rankerFeeds(rows: number, vocab: number): Feeds {
  const feeds: Feeds = { user_id: [], item_id: [], numeric: [] };
  for (let i = 0; i < rows; i++) {
    feeds.user_id?.push([(i * 17) % vocab]);
    feeds.item_id?.push([(i * 29 + 3) % vocab]);
    feeds.numeric?.push([Math.sin(i), Math.cos(i) * 3, i / rows]);
  }
  return feeds;
}

describe("Keras .h5 export (Keras 3, numpy backend)", () => {
  it("a trained ranker predicts the same in Keras as in tfjs (within 1e-5)", async () => {
    // Same vocab and width for both embeddings: a user/item weight swap would not fail on shapes,
    // only on predictions.
    const model = buildRanker(tf, {
      userVocab: 50,
      itemVocab: 50,
      embeddingDim: 8,
      numericFeatures: 3,
      hidden: [16, 8],
      dropout: 0.1,
      seed: 11,
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy" });
    const train = rankerFeeds(256, 50);
    const labels = tf.tensor2d(train.user_id?.map(([u = 0], i) => [(u + i) % 3 === 0 ? 1 : 0]) ?? []);
    await model.fit(
      [
        tf.tensor2d(train.user_id ?? [], undefined, "int32"),
        tf.tensor2d(train.item_id ?? [], undefined, "int32"),
        tf.tensor2d(train.numeric ?? []),
      ],
      labels,
      { epochs: 3, batchSize: 32, verbose: 0 },
    );

    const { keras, tfjs } = await predictBoth(model, rankerFeeds(40, 50), "ranker");

    expect(keras.keras_version).toMatch(/^3\./);
    expect(keras.backend).toBe("numpy");
    expect(keras.layers).toEqual(model.layers.map((l) => l.name));
    expect(maxAbsDiff(keras.predictions, tfjs)).toBeLessThan(1e-5);
    // Trained predictions are spread out, so equality is not a constant-output coincidence.
    expect(Math.max(...tfjs.flat()) - Math.min(...tfjs.flat())).toBeGreaterThan(1e-3);
  }, 180_000);

  it("exports Dot, BatchNormalization (with moving statistics) and Dropout layers", async () => {
    const u = tf.input({ shape: [1], dtype: "int32", name: "u" });
    const i = tf.input({ shape: [1], dtype: "int32", name: "i" });
    const embed = (name: string, x: ReturnType<typeof tf.input>) =>
      tf.layers
        .flatten()
        .apply(tf.layers.embedding({ inputDim: 10, outputDim: 4, name }).apply(x)) as ReturnType<
        typeof tf.input
      >;
    const ue = embed("ue", u);
    const ie = embed("ie", i);
    const dot = tf.layers.dot({ axes: 1, name: "dot" }).apply([ue, ie]) as ReturnType<typeof tf.input>;
    let h = tf.layers.concatenate().apply([ue, ie, dot]) as ReturnType<typeof tf.input>;
    h = tf.layers.dense({ units: 6, activation: "tanh" }).apply(h) as ReturnType<typeof tf.input>;
    h = tf.layers.batchNormalization({ name: "bn" }).apply(h) as ReturnType<typeof tf.input>;
    h = tf.layers.dropout({ rate: 0.3 }).apply(h) as ReturnType<typeof tf.input>;
    const out = tf.layers.dense({ units: 1, activation: "sigmoid" }).apply(h) as ReturnType<typeof tf.input>;
    const model = tf.model({ inputs: [u, i], outputs: out });
    model.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy" });
    const ids = tf.tensor2d(
      Array.from({ length: 64 }, (_, k) => [k % 10]),
      undefined,
      "int32",
    );
    await model.fit([ids, ids.reverse(0)], tf.tensor2d(Array.from({ length: 64 }, (_, k) => [k % 2])), {
      epochs: 3,
      verbose: 0,
    });
    expect(Array.from(model.getLayer("bn").getWeights()[2]?.dataSync() ?? []).some((m) => m !== 0)).toBe(
      true,
    );

    const feeds = {
      u: Array.from({ length: 10 }, (_, k) => [k]),
      i: Array.from({ length: 10 }, (_, k) => [(k * 3) % 10]),
    };
    const { keras, tfjs } = await predictBoth(model, feeds, "dot-bn");

    expect(maxAbsDiff(keras.predictions, tfjs)).toBeLessThan(1e-5);
  }, 180_000);

  it("the production recommender, trained on generated data, predicts the same in Keras on real feature rows", async () => {
    const snap = await inMemorySnapshot({ users: 300, days: 4, seed: "keras-recommender" });
    const data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
    const outcome = await trainAndEvaluate(
      { tf, backend: "wasm", log: silent },
      data,
      {
        snapshotId: snap.manifest.snapshotId,
        manifestKey: snap.manifestKey,
        digest: snap.manifest.digest,
        bucket: "mem",
      },
      { ...DEFAULT_TRAIN_CONFIG, epochs: 1, register: false },
    );
    expect(outcome.evaluation.epochs).toHaveLength(1);
    // Real feature rows of the validation window, as the trainer builds them.
    const split = timeSplit(data.asOf, undefined, data.events[0]?.timestamp);
    const sections = [...new Set([...data.articles.values()].map((a) => a.section))].sort();
    const regions = [...new Set([...data.articles.values()].map((a) => a.region))].sort();
    const vocab = vocabularyIndex({ section: sections, region: regions });
    const world = buildWorld(data, split.validCut, vocab);
    const examples = buildExamples(world, windowCases(data, split.validCut, split.testCut - 1, 200, 1), 4, 1);
    const norm = computeNormalisation(examples.inputs.numeric, examples.inputs.rows);
    const model = buildRecommender(tf, {
      sections: sections.length,
      regions: regions.length,
      embeddingDim: 8,
      hidden: [64, 32],
      seed: 5,
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: "binaryCrossentropy" });
    const rows = examples.inputs.rows;
    const numeric = examples.inputs.numeric.map(
      (v, i) =>
        (v - (norm.mean[i % DEFAULT_FEATURE_COLUMNS.length] as number)) /
        (norm.std[i % DEFAULT_FEATURE_COLUMNS.length] as number),
    );
    await model.fit(
      [
        tf.tensor2d(examples.inputs.article_section, [rows, 1], "int32"),
        tf.tensor2d(examples.inputs.article_region, [rows, 1], "int32"),
        tf.tensor2d(numeric, [rows, DEFAULT_FEATURE_COLUMNS.length]),
      ],
      tf.tensor2d(examples.labels, [rows, 1]),
      { epochs: 3, batchSize: 64, verbose: 0 },
    );
    const n = Math.min(64, rows);
    const feeds: Feeds = { article_section: [], article_region: [], numeric: [] };
    for (let r = 0; r < n; r++) {
      feeds.article_section?.push([examples.inputs.article_section[r] as number]);
      feeds.article_region?.push([examples.inputs.article_region[r] as number]);
      feeds.numeric?.push(
        Array.from(
          numeric.subarray(r * DEFAULT_FEATURE_COLUMNS.length, (r + 1) * DEFAULT_FEATURE_COLUMNS.length),
        ),
      );
    }
    const { keras, tfjs } = await predictBoth(model, feeds, "recommender");
    expect(keras.layers).toEqual(model.layers.map((l) => l.name));
    expect(maxAbsDiff(keras.predictions, tfjs)).toBeLessThan(1e-5);
    expect(Math.max(...tfjs.flat()) - Math.min(...tfjs.flat())).toBeGreaterThan(1e-3);
  }, 240_000);
});
