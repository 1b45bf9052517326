import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { kerasLayerWeights, kerasModelConfig, writeKerasH5 } from "../../../src/model/keras-h5.js";
import { buildRanker } from "../../../src/model/ranker.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

let tf: Tf;
let dir: string;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: recordingLogger() }));
  dir = await mkdtemp(path.join(tmpdir(), "gplay-keras-h5-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = {
  userVocab: 12,
  itemVocab: 9,
  embeddingDim: 3,
  numericFeatures: 2,
  hidden: [4],
  dropout: 0.2,
  seed: 5,
};

type Layer = { class_name: string; name: string; config: Record<string, unknown> };

describe("kerasModelConfig", () => {
  it("rewrites the tfjs config into the Keras 2 dialect Keras 3's legacy loader accepts", () => {
    const config = kerasModelConfig(buildRanker(tf, spec));
    const layers = (config.config as { layers: Layer[] }).layers;
    const byName = new Map(layers.map((l) => [l.name, l]));

    expect(config.class_name).toBe("Functional");
    expect(byName.get("user_id")?.config.batch_input_shape).toEqual([null, 1]);
    expect(byName.get("user_emb")?.config).not.toHaveProperty("batch_input_shape");
    expect(byName.get("user_emb")?.config).not.toHaveProperty("input_length");
    expect(byName.get("user_emb")?.config.mask_zero).toBe(false);
    expect(byName.get("hidden_0")?.config.activation).toBe("relu");
    expect(layers.map((l) => l.class_name)).toEqual(
      expect.arrayContaining(["Concatenate", "Dropout", "Flatten"]),
    );
  });

  it("rejects a layer Keras has no class for, naming it", () => {
    const x = tf.input({ shape: [4] });
    const y = tf.layers
      .conv1d({ filters: 1, kernelSize: 1, name: "odd" })
      .apply(tf.layers.reshape({ targetShape: [4, 1] }).apply(x));
    const model = tf.model({ inputs: x, outputs: y as ReturnType<typeof tf.input> });

    expect(() => kerasModelConfig(model)).toThrow(/odd \(Conv1D\)/);
  });

  it("rejects Sequential models", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });

    expect(() => kerasModelConfig(model)).toThrow(/functional/);
  });
});

describe("writeKerasH5", () => {
  it("writes model_config, the layer/weight name lists and one float32 dataset per weight", async () => {
    const model = buildRanker(tf, spec);
    const file = path.join(dir, "ranker.h5");

    await writeKerasH5(model, file);

    const h5wasm = await import("h5wasm/node");
    await h5wasm.ready;
    const h5 = new h5wasm.File(file, "r");
    try {
      const config = JSON.parse(String(h5.attrs.model_config?.value));
      expect(config).toEqual(kerasModelConfig(model));
      expect(h5.attrs.keras_version?.value).toBe("2.15.0");
      const weights = h5.get("model_weights") as InstanceType<typeof h5wasm.Group>;
      expect(weights.attrs.layer_names?.value).toEqual(model.layers.map((l) => l.name));
      const hidden = h5.get("model_weights/hidden_0") as InstanceType<typeof h5wasm.Group>;
      expect(hidden.attrs.weight_names?.value).toEqual(["hidden_0/kernel:0", "hidden_0/bias:0"]);
      const flat = h5.get("model_weights/user_flat") as InstanceType<typeof h5wasm.Group>;
      expect(Object.keys(flat.attrs)).not.toContain("weight_names");
      const kernel = h5.get("model_weights/hidden_0/hidden_0/kernel:0") as InstanceType<
        typeof h5wasm.Dataset
      >;
      expect(kernel.shape).toEqual([3 + 3 + 2, 4]);
      expect(Array.from(kernel.value as Float32Array)).toEqual(
        Array.from(model.getLayer("hidden_0").getWeights()[0]?.dataSync() ?? []),
      );
    } finally {
      h5.close();
    }
  });

  it("lists weights in the order Keras assigns them (BatchNormalization: gamma, beta, mean, variance)", () => {
    const x = tf.input({ shape: [3], name: "x" });
    const y = tf.layers.batchNormalization({ name: "bn" }).apply(x);
    const model = tf.model({ inputs: x, outputs: y as ReturnType<typeof tf.input> });

    const weights = kerasLayerWeights(model).find((l) => l.layer === "bn")?.weights ?? [];

    expect(weights.map((w) => w.name)).toEqual([
      "bn/gamma:0",
      "bn/beta:0",
      "bn/moving_mean:0",
      "bn/moving_variance:0",
    ]);
  });
});
