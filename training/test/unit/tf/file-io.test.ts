import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { buildRanker } from "../../../src/model/ranker.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { fileSystemLoadHandler, fileSystemSaveHandler } from "../../../src/tf/file-io.js";
import { recordingLogger } from "../helpers.js";

let tf: Tf;
let dir: string;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: recordingLogger() }));
  dir = await mkdtemp(path.join(tmpdir(), "gplay-file-io-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = { userVocab: 30, itemVocab: 20, embeddingDim: 4, numericFeatures: 2, hidden: [8], seed: 7 };

function batch() {
  return [
    tf.tensor2d([[0], [5], [29]], [3, 1], "int32"),
    tf.tensor2d([[1], [19], [4]], [3, 1], "int32"),
    tf.tensor2d(
      [
        [0.5, -1],
        [2, 0],
        [0, 0],
      ],
      [3, 2],
    ),
  ];
}

describe("file system IO handlers", () => {
  it("round-trips a layers model through model.json + weights.bin with identical predictions", async () => {
    const model = buildRanker(tf, spec);
    const target = path.join(dir, "ranker");

    const result = await model.save(fileSystemSaveHandler(target));
    const loaded = await tf.loadLayersModel(fileSystemLoadHandler(target));

    expect(result.modelArtifactsInfo.weightDataBytes).toBe((30 * 4 + 20 * 4 + 10 * 8 + 8 + 8 * 1 + 1) * 4);
    expect(loaded.inputNames).toEqual(["user_id", "item_id", "numeric"]);
    const before = await (model.predict(batch()) as ReturnType<typeof tf.tensor2d>).array();
    const after = await (loaded.predict(batch()) as ReturnType<typeof tf.tensor2d>).array();
    expect(after).toEqual(before);
  });

  it("writes the tfjs layers format that tfjs-node's file:// loader reads", async () => {
    const target = path.join(dir, "format");
    await buildRanker(tf, spec).save(fileSystemSaveHandler(target));

    const json = JSON.parse(await readFile(path.join(target, "model.json"), "utf8"));
    const bin = await readFile(path.join(target, "weights.bin"));

    expect(json.format).toBe("layers-model");
    expect(json.modelTopology.class_name).toBe("Model");
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(["./weights.bin"]);
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain(
      "user_emb/embeddings",
    );
    expect(bin.byteLength).toBe((30 * 4 + 20 * 4 + 10 * 8 + 8 + 8 * 1 + 1) * 4);
  });

  it("loads from the model.json path itself and keeps the weights after a short fit", async () => {
    const model = buildRanker(tf, spec);
    model.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy" });
    await model.fit(batch(), tf.tensor2d([[1], [0], [1]]), { epochs: 3, verbose: 0 });
    const target = path.join(dir, "fitted");
    await model.save(fileSystemSaveHandler(target));

    const loaded = await tf.loadLayersModel(fileSystemLoadHandler(path.join(target, "model.json")));

    const expected = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(expected);
  });

  it("fails with the model path in the message when there is no model", async () => {
    await expect(tf.loadLayersModel(fileSystemLoadHandler(path.join(dir, "absent")))).rejects.toThrow(
      /Cannot read a tfjs model at .*absent/,
    );
  });
});
