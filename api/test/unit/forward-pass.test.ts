import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_FEATURE_COLUMNS,
  FORWARD_PASS_LAYERS,
  ForwardPassError,
  ForwardPassModel,
  MODEL_INPUTS,
  mulberry32,
} from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type * as TfModule from "@tensorflow/tfjs";
import { KERAS_COMPATIBLE_LAYERS } from "../../../training/src/model/keras-h5.js";
import { initTensorflow } from "../../../training/src/tf/backend.js";
import { fileSystemSaveHandler } from "../../../training/src/tf/file-io.js";
import { buildTestRanker } from "../support/model-bundle.js";

type Tf = typeof TfModule;
type Sym = TfModule.SymbolicTensor;

let tf: Tf;
let dir: string;
const silent = { info: () => undefined, warn: () => undefined } as never;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: silent }));
  dir = await mkdtemp(join(tmpdir(), "gplay-forward-pass-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Saves `model` with training's file handler and loads it back with the interpreter. */
async function roundTrip(model: TfModule.LayersModel, name: string): Promise<ForwardPassModel> {
  const target = join(dir, name);
  await model.save(fileSystemSaveHandler(target));
  const json = JSON.parse(await readFile(join(target, "model.json"), "utf8")) as unknown;
  return ForwardPassModel.load(json, await readFile(join(target, "weights.bin")));
}

/** Random values for every weight (tfjs' initialisers leave biases and BN statistics at 0/1). */
function randomiseWeights(model: TfModule.LayersModel, random: () => number): void {
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    layer.setWeights(
      weights.map((w, k) => {
        const isVariance = layer.getClassName() === "BatchNormalization" && k === weights.length - 1;
        const values = Float32Array.from({ length: w.size }, () =>
          isVariance ? 0.2 + random() * 2 : (random() - 0.5) * 1.6,
        );
        return tf.tensor(values, w.shape, "float32");
      }),
    );
  }
}

interface Case {
  name: string;
  build: () => TfModule.LayersModel;
  /** Inputs by name: shape without batch, int id range (undefined: floats). */
  inputs: { name: string; shape: number[]; ids?: number }[];
}

/** Every parity model, together covering each layer the interpreter runs. */
function cases(): Case[] {
  const L = tf.layers;
  return [
    {
      name: "recommender-like: embeddings, flatten, concatenate, relu MLP, sigmoid",
      inputs: [
        { name: "article_section", shape: [1], ids: 12 },
        { name: "article_region", shape: [1], ids: 30 },
        { name: "numeric", shape: [15] },
      ],
      build: () => {
        const section = tf.input({ shape: [1], dtype: "int32", name: "article_section" });
        const region = tf.input({ shape: [1], dtype: "int32", name: "article_region" });
        const numeric = tf.input({ shape: [15], name: "numeric" });
        const emb = (x: Sym, vocab: number, n: string) =>
          L.flatten({ name: `${n}_flat` }).apply(
            L.embedding({ inputDim: vocab, outputDim: 8, name: `${n}_emb` }).apply(x),
          ) as Sym;
        let x = L.concatenate({ name: "features" }).apply([
          emb(section, 12, "section"),
          emb(region, 30, "region"),
          numeric,
        ]) as Sym;
        x = L.dense({ units: 64, activation: "relu", name: "hidden_0" }).apply(x) as Sym;
        x = L.dropout({ rate: 0.3, name: "drop_0" }).apply(x) as Sym;
        x = L.dense({ units: 32, activation: "relu", name: "hidden_1" }).apply(x) as Sym;
        const out = L.dense({ units: 1, activation: "sigmoid", name: "score" }).apply(x) as Sym;
        return tf.model({ inputs: [section, region, numeric], outputs: out });
      },
    },
    {
      name: "batch and layer normalisation, tanh/linear/elu/softmax activations, Activation layer",
      inputs: [{ name: "x", shape: [10] }],
      build: () => {
        const input = tf.input({ shape: [10], name: "x" });
        let x = L.batchNormalization({ name: "bn_in" }).apply(input) as Sym;
        x = L.dense({ units: 16, activation: "tanh", name: "d_tanh" }).apply(x) as Sym;
        x = L.layerNormalization({ name: "ln" }).apply(x) as Sym;
        x = L.dense({ units: 12, activation: "linear", useBias: false, name: "d_linear" }).apply(x) as Sym;
        x = L.activation({ activation: "elu", name: "act_elu" }).apply(x) as Sym;
        x = L.batchNormalization({ name: "bn_mid", center: false }).apply(x) as Sym;
        x = L.dense({ units: 5, activation: "softmax", name: "d_softmax" }).apply(x) as Sym;
        return tf.model({ inputs: input, outputs: x });
      },
    },
    {
      name: "two towers: dot, add, multiply, average, maximum, minimum",
      inputs: [
        { name: "user", shape: [1], ids: 50 },
        { name: "item", shape: [1], ids: 80 },
      ],
      build: () => {
        const user = tf.input({ shape: [1], dtype: "int32", name: "user" });
        const item = tf.input({ shape: [1], dtype: "int32", name: "item" });
        const u = L.flatten({ name: "u_flat" }).apply(
          L.embedding({ inputDim: 50, outputDim: 6, name: "u_emb" }).apply(user),
        ) as Sym;
        const v = L.flatten({ name: "v_flat" }).apply(
          L.embedding({ inputDim: 80, outputDim: 6, name: "v_emb" }).apply(item),
        ) as Sym;
        const merged = [
          L.dot({ axes: 1, name: "dot" }).apply([u, v]) as Sym,
          L.dense({ units: 1, name: "add_d" }).apply(L.add({ name: "add" }).apply([u, v]) as Sym) as Sym,
          L.dense({ units: 1, name: "mul_d" }).apply(L.multiply({ name: "mul" }).apply([u, v]) as Sym) as Sym,
          L.dense({ units: 1, name: "avg_d" }).apply(L.average({ name: "avg" }).apply([u, v]) as Sym) as Sym,
          L.dense({ units: 1, name: "max_d" }).apply(L.maximum({ name: "max" }).apply([u, v]) as Sym) as Sym,
          L.dense({ units: 1, name: "min_d" }).apply(L.minimum({ name: "min" }).apply([u, v]) as Sym) as Sym,
        ];
        const all = L.concatenate({ name: "all" }).apply(merged) as Sym;
        const out = L.dense({ units: 1, activation: "sigmoid", name: "score" }).apply(all) as Sym;
        return tf.model({ inputs: [user, item], outputs: out });
      },
    },
    {
      name: "sequences: embedding of a history, pooling, repeat, permute, reshape, dense on 3-D",
      inputs: [
        { name: "history", shape: [7], ids: 40 },
        { name: "dense_in", shape: [4] },
      ],
      build: () => {
        const history = tf.input({ shape: [7], dtype: "int32", name: "history" });
        const denseIn = tf.input({ shape: [4], name: "dense_in" });
        const seq = L.embedding({ inputDim: 40, outputDim: 5, name: "h_emb" }).apply(history) as Sym; // [7,5]
        const avg = L.globalAveragePooling1d({ name: "gap" }).apply(seq) as Sym;
        const max = L.globalMaxPooling1d({ name: "gmp" }).apply(
          L.dense({ units: 3, activation: "relu", name: "per_step" }).apply(seq) as Sym,
        ) as Sym;
        const repeated = L.repeatVector({ n: 3, name: "repeat" }).apply(denseIn) as Sym; // [3,4]
        const permuted = L.permute({ dims: [2, 1], name: "permute" }).apply(repeated) as Sym; // [4,3]
        const reshaped = L.reshape({ targetShape: [12], name: "reshape" }).apply(permuted) as Sym;
        const seqFlat = L.reshape({ targetShape: [35], name: "seq_flat" }).apply(seq) as Sym;
        const joined = L.concatenate({ name: "joined" }).apply([avg, max, reshaped, seqFlat]) as Sym;
        const out = L.dense({ units: 2, activation: "sigmoid", name: "out" }).apply(joined) as Sym;
        return tf.model({ inputs: [history, denseIn], outputs: out });
      },
    },
    {
      name: "a Sequential MLP with relu6, selu, softplus, softsign, hard sigmoid, swish",
      inputs: [{ name: "s1_input", shape: [9] }],
      build: () =>
        tf.sequential({
          layers: [
            L.dense({ inputShape: [9], units: 8, activation: "relu6", name: "s1" }),
            L.dense({ units: 8, activation: "selu", name: "s2" }),
            L.dense({ units: 8, activation: "softplus", name: "s3" }),
            L.dense({ units: 8, activation: "softsign", name: "s4" }),
            L.dense({ units: 8, activation: "swish", name: "s5" }),
            L.dense({ units: 1, activation: "hardSigmoid", name: "s6" }),
          ],
        }),
    },
  ];
}

describe("the forward-pass interpreter", () => {
  it("supports every Keras-compatible layer a bundle may contain", () => {
    expect([...KERAS_COMPATIBLE_LAYERS].filter((l) => !FORWARD_PASS_LAYERS.has(l))).toEqual([]);
  });

  it("matches tfjs predictions within 1e-5 on random models of every supported layer", async () => {
    const seen = new Set<string>();
    const worst: Record<string, number> = {};
    for (const [index, c] of cases().entries()) {
      const random = mulberry32(1000 + index);
      const model = c.build();
      randomiseWeights(model, random);
      const net = await roundTrip(model, `case-${index}`);
      for (const cls of net.layerClasses) seen.add(cls);
      for (const l of model.layers) seen.add(l.getClassName());
      const rows = 257; // not a multiple of tfjs' batch size
      const feeds: Record<string, Float32Array | Int32Array> = {};
      const tensors: TfModule.Tensor[] = [];
      for (const input of c.inputs) {
        const n = rows * input.shape.reduce((a, b) => a * b, 1);
        if (input.ids !== undefined) {
          const ids = Int32Array.from({ length: n }, () => Math.floor(random() * (input.ids as number)));
          feeds[input.name] = ids;
          tensors.push(tf.tensor(ids, [rows, ...input.shape], "int32"));
        } else {
          const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 6);
          feeds[input.name] = xs;
          tensors.push(tf.tensor(xs, [rows, ...input.shape], "float32"));
        }
      }
      // `apply` (the graph run by Container.call): tfjs 4.22's `predict` executor disposes a tensor
      // that feeds several layers too early ("Tensor is disposed" in Add/Dot), a tfjs bug.
      const expected = tf.tidy(() =>
        (
          model.apply(tensors.length === 1 ? (tensors[0] as TfModule.Tensor) : tensors, {
            training: false,
          }) as TfModule.Tensor
        ).dataSync(),
      );
      const [actual] = net.predict(feeds, rows);
      expect(actual).toHaveLength(expected.length);
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++)
        maxDiff = Math.max(
          maxDiff,
          Math.abs((expected[i] as number) - ((actual as Float32Array)[i] as number)),
        );
      worst[c.name] = maxDiff;
      expect(maxDiff).toBeLessThan(1e-5);
      tf.dispose(tensors);
      model.dispose();
    }
    // Printed for the report: the worst absolute difference per model.
    process.stdout.write(
      `forward-pass parity (max |Δ| vs tfjs ${tf.getBackend()}): ${JSON.stringify(worst)}\n`,
    );
    // tfjs-layers has no Subtract layer, so no tfjs-saved bundle can hold one (Keras-side only).
    expect([...FORWARD_PASS_LAYERS].filter((l) => !seen.has(l))).toEqual(["Subtract"]);
  });

  it("computes Dot, plain and normalised (cosine), as tfjs' ops do", async () => {
    // tfjs 4.22's own Dot layer fails in predict (batchDot multiplies a disposed tensor), so the
    // expected values come from tfjs ops: Σ a·b and Σ l2Normalize(a)·l2Normalize(b).
    const a = tf.input({ shape: [6], name: "a" });
    const b = tf.input({ shape: [6], name: "b" });
    const cos = tf.layers.dot({ axes: 1, normalize: true, name: "cos" }).apply([a, b]) as Sym;
    const dot = tf.layers.dot({ axes: -1, name: "dot" }).apply([a, b]) as Sym;
    const out = tf.layers.concatenate({ name: "both" }).apply([cos, dot]) as Sym;
    const net = await roundTrip(tf.model({ inputs: [a, b], outputs: out }), "cosine");
    const random = mulberry32(7);
    const rows = 33;
    const xa = Float32Array.from({ length: rows * 6 }, () => random() - 0.5);
    const xb = Float32Array.from({ length: rows * 6 }, () => random() - 0.5);
    xa.fill(0, 0, 6); // a zero vector: the epsilon keeps it finite
    const expected = tf.tidy(() => {
      const norm = (x: TfModule.Tensor) =>
        tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-7)));
      const ta = tf.tensor2d(xa, [rows, 6]);
      const tb = tf.tensor2d(xb, [rows, 6]);
      const cosine = tf.sum(tf.mul(norm(ta), norm(tb)), 1, true);
      return tf.concat([cosine, tf.sum(tf.mul(ta, tb), 1, true)], 1).dataSync();
    });
    const [actual] = net.predict({ a: xa, b: xb }, rows);
    const diffs = Array.from(expected, (e, i) => Math.abs(e - ((actual as Float32Array)[i] as number)));
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
  });

  it("refuses a layer it cannot run when loading, naming it", async () => {
    const input = tf.input({ shape: [4, 3] });
    const out = tf.layers.conv1d({ filters: 2, kernelSize: 2, name: "my_conv" }).apply(input) as Sym;
    const model = tf.model({ inputs: input, outputs: out });
    const target = join(dir, "conv");
    await model.save(fileSystemSaveHandler(target));
    const json = JSON.parse(await readFile(join(target, "model.json"), "utf8")) as unknown;
    const weights = await readFile(join(target, "weights.bin"));
    expect(() => ForwardPassModel.load(json, weights)).toThrow(ForwardPassError);
    expect(() => ForwardPassModel.load(json, weights)).toThrow(/my_conv is a Conv1D/);
  });

  it("refuses weights that do not match the manifest", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: "d" })] });
    const target = join(dir, "short");
    await model.save(fileSystemSaveHandler(target));
    const json = JSON.parse(await readFile(join(target, "model.json"), "utf8")) as unknown;
    const weights = await readFile(join(target, "weights.bin"));
    expect(() => ForwardPassModel.load(json, weights.subarray(0, 8))).toThrow(/too short/);
  });

  it("scores the served ranker (embeddings and columns into one Dense, run fused) within 1e-6 of the direct computation", async () => {
    const random = mulberry32(77);
    const vocab = { section: ["a", "b", "c", "d", "e", "f"], region: ["x", "y", "z"] };
    const model = buildTestRanker(tf, vocab, 3, { embeddingDim: 8, hidden: [64, 32] });
    randomiseWeights(model, random);
    const net = await roundTrip(model, "served-ranker");
    const rows = 200;
    const section = Int32Array.from({ length: rows }, () => Math.floor(random() * 7));
    const region = Int32Array.from({ length: rows }, () => Math.floor(random() * 4));
    // One reader's candidates: the reader's own columns are the same in every row.
    const reader = Array.from({ length: 5 }, () => (random() - 0.5) * 4);
    const numeric = Float32Array.from({ length: rows * DEFAULT_FEATURE_COLUMNS.length }, (_, i) =>
      i % DEFAULT_FEATURE_COLUMNS.length < 5
        ? (reader[i % DEFAULT_FEATURE_COLUMNS.length] as number)
        : (random() - 0.5) * 4,
    );
    const [sectionIn, regionIn, numericIn] = MODEL_INPUTS;
    const expected = tf.tidy(() =>
      (
        model.apply(
          [
            tf.tensor(section, [rows, 1], "int32"),
            tf.tensor(region, [rows, 1], "int32"),
            tf.tensor(numeric, [rows, DEFAULT_FEATURE_COLUMNS.length], "float32"),
          ],
          { training: false },
        ) as TfModule.Tensor
      ).dataSync(),
    );
    const feeds = { [sectionIn.name]: section, [regionIn.name]: region, [numericIn.name]: numeric };
    const [actual] = net.predict(feeds, rows);
    // The direct computation in float64 from the model's own weights: embeddings, concatenation, MLP.
    const w = (layer: string) =>
      model
        .getLayer(layer)
        .getWeights()
        .map((t) => t.dataSync() as Float32Array);
    const [sectionEmb, regionEmb] = [w("section_emb")[0], w("region_emb")[0]] as Float32Array[];
    const dense = ["hidden_0", "hidden_1", "score"].map((name) => w(name) as [Float32Array, Float32Array]);
    let worstDirect = 0;
    let worstTfjs = 0;
    for (let r = 0; r < rows; r++) {
      let h = [
        ...(sectionEmb as Float32Array).subarray((section[r] as number) * 8, (section[r] as number) * 8 + 8),
        ...(regionEmb as Float32Array).subarray((region[r] as number) * 8, (region[r] as number) * 8 + 8),
        ...numeric.subarray(r * DEFAULT_FEATURE_COLUMNS.length, (r + 1) * DEFAULT_FEATURE_COLUMNS.length),
      ];
      dense.forEach(([kernel, bias], l) => {
        const units = bias.length;
        h = Array.from({ length: units }, (_, u) => {
          let sum = bias[u] as number;
          for (let i = 0; i < h.length; i++) sum += (h[i] as number) * (kernel[i * units + u] as number);
          return l < 2 ? Math.max(0, sum) : 1 / (1 + Math.exp(-sum));
        });
      });
      const score = (actual as Float32Array)[r] as number;
      worstDirect = Math.max(worstDirect, Math.abs(score - (h[0] as number)));
      worstTfjs = Math.max(worstTfjs, Math.abs(score - (expected[r] as number)));
    }
    expect(actual).toHaveLength(rows);
    expect(worstDirect).toBeLessThanOrEqual(1e-6);
    expect(worstTfjs).toBeLessThan(1e-5);
    // The fused layer still refuses an id outside the section vocabulary.
    expect(() =>
      net.predict({ ...feeds, [sectionIn.name]: section.map((id, i) => (i === 9 ? 7 : id)) }, rows),
    ).toThrow(/section_emb: id 7 is outside the vocabulary/);
    model.dispose();
  });

  it("rejects an embedding id outside the vocabulary instead of reading garbage", async () => {
    const ids = tf.input({ shape: [1], dtype: "int32", name: "ids" });
    const out = tf.layers
      .flatten()
      .apply(tf.layers.embedding({ inputDim: 3, outputDim: 2, name: "e" }).apply(ids));
    const net = await roundTrip(tf.model({ inputs: ids, outputs: out as Sym }), "oov");
    expect(() => net.predict({ ids: Int32Array.from([0, 3]) }, 2)).toThrow(/outside the vocabulary/);
    expect(net.predict({ ids: Int32Array.from([0, 2]) }, 2)[0]).toHaveLength(4);
  });
});
