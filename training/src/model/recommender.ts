/**
 * The next-article ranker: a section embedding and a region embedding of the article (id 0 =
 * out of vocabulary), concatenated with the standardised numeric block (reader, article and
 * reader–article features of common's feature builder), then a ReLU MLP and a sigmoid score.
 * Standard Keras layers only (Embedding, Flatten, Concatenate, Dense), so `writeKerasH5` exports it.
 * Inputs in `MODEL_INPUTS` order.
 */
import { MODEL_INPUTS, NUMERIC_FEATURE_COUNT } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";

type Tf = typeof TfModule;
type Sym = TfModule.SymbolicTensor;

export interface RecommenderSpec {
  /** Known sections (vocabulary size without the OOV id). */
  sections: number;
  regions: number;
  embeddingDim: number;
  hidden: readonly number[];
  seed: number;
}

export const DEFAULT_SPEC: Omit<RecommenderSpec, "sections" | "regions"> = {
  embeddingDim: 8,
  hidden: [64, 32],
  seed: 42,
};

export function buildRecommender(tf: Tf, spec: RecommenderSpec): TfModule.LayersModel {
  const [sectionIn, regionIn, numericIn] = MODEL_INPUTS;
  const glorot = (k: number) => tf.initializers.glorotUniform({ seed: spec.seed + k });
  const emb = (k: number) =>
    tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: spec.seed + k });
  const section = tf.input({ shape: [1], dtype: "int32", name: sectionIn.name });
  const region = tf.input({ shape: [1], dtype: "int32", name: regionIn.name });
  const numeric = tf.input({ shape: [NUMERIC_FEATURE_COUNT], dtype: "float32", name: numericIn.name });
  const embed = (x: Sym, vocab: number, name: string, k: number) =>
    tf.layers.flatten({ name: `${name}_flat` }).apply(
      tf.layers
        .embedding({
          inputDim: vocab + 1,
          outputDim: spec.embeddingDim,
          embeddingsInitializer: emb(k),
          name: `${name}_emb`,
        })
        .apply(x),
    ) as Sym;
  let x = tf.layers
    .concatenate({ name: "features" })
    .apply([
      embed(section, spec.sections, "section", 1),
      embed(region, spec.regions, "region", 2),
      numeric,
    ]) as Sym;
  spec.hidden.forEach((units, i) => {
    x = tf.layers
      .dense({ units, activation: "relu", kernelInitializer: glorot(10 + i), name: `hidden_${i}` })
      .apply(x) as Sym;
  });
  const out = tf.layers
    .dense({ units: 1, activation: "sigmoid", kernelInitializer: glorot(99), name: "score" })
    .apply(x) as Sym;
  return tf.model({ inputs: [section, region, numeric], outputs: out, name: "gplay_recommender" });
}

/** Wraps feature-builder arrays as the model's input tensors (caller disposes). */
export function inputTensors(
  tf: Tf,
  arrays: { rows: number; article_section: Int32Array; article_region: Int32Array; numeric: Float32Array },
): TfModule.Tensor[] {
  return [
    tf.tensor2d(arrays.article_section, [arrays.rows, 1], "int32"),
    tf.tensor2d(arrays.article_region, [arrays.rows, 1], "int32"),
    tf.tensor2d(arrays.numeric, [arrays.rows, NUMERIC_FEATURE_COUNT], "float32"),
  ];
}
