/**
 * The next-article ranker: a section embedding and a region embedding of the article (id 0 =
 * out of vocabulary), concatenated with the standardised numeric block (reader, article and
 * reader–article features of common's feature builder), then a ReLU MLP whose logit adds to a
 * linear prior that starts as the serving popularity, and the sigmoid of the sum (the score). Standard Keras layers only (Embedding, Flatten, Concatenate, Dense,
 * Activation), so `writeKerasH5` exports it.
 * Inputs in `MODEL_INPUTS` order.
 */
import { DEFAULT_FEATURE_COLUMNS, MODEL_INPUTS, type NumericFeature, numericWidth } from "@gplay/common";
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
  /** The numeric input's columns (common's `featureColumns` of the examples); default `DEFAULT_FEATURE_COLUMNS`. */
  features?: readonly NumericFeature[];
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
  const features = spec.features ?? DEFAULT_FEATURE_COLUMNS;
  const numeric = tf.input({ shape: [features.length], dtype: "float32", name: numericIn.name });
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
  // The logit is a prior plus what the MLP learns on top of it. The prior is a linear function of the
  // numeric block that starts as the serving popularity alone, and the MLP's output starts at 0: an
  // untrained network (or one that learned nothing, in a world without signal beyond popularity)
  // ranks by popularity, the strongest simple baseline, instead of at random.
  const mlp = tf.layers
    .dense({ units: 1, useBias: false, kernelInitializer: "zeros", name: MLP_LAYER })
    .apply(x) as Sym;
  const prior = tf.layers
    .dense({ units: 1, useBias: false, kernelInitializer: "zeros", name: PRIOR_LAYER })
    .apply(numeric) as Sym;
  // No bias anywhere at the top: a listwise softmax is blind to a shift, so a bias would only drift.
  const logit = tf.layers.add({ name: SCORE_LOGIT_LAYER }).apply([mlp, prior]) as Sym;
  const out = tf.layers.activation({ activation: "sigmoid", name: "score" }).apply(logit) as Sym;
  const model = tf.model({ inputs: [section, region, numeric], outputs: out, name: "gplay_recommender" });
  const kernel = tf.tensor2d(initialPriorKernel(features), [features.length, 1]);
  model.getLayer(PRIOR_LAYER).setWeights([kernel]);
  kernel.dispose();
  return model;
}

export const PRIOR_LAYER = "prior_logit";
export const MLP_LAYER = "mlp_logit";

/** The prior's kernel before training: weight `PRIOR_WEIGHT` on the serving popularity, 0 elsewhere. */
function initialPriorKernel(features: readonly NumericFeature[]): Float32Array {
  const k = new Float32Array(features.length);
  const at = PRIOR_FEATURES.reduce((found, f) => (found >= 0 ? found : features.indexOf(f)), -1);
  if (at < 0) throw new RangeError(`the feature columns lack the prior's ${PRIOR_FEATURES.join(" or ")}`);
  k[at] = PRIOR_WEIGHT;
  return k;
}

/**
 * Shrinks a trained network toward its untrained popularity prior: with weight w its logit is
 * (1 − w) × prior₀ + w × trained logit, exactly (both top layers are linear and bias-free), so w = 0
 * ranks by the serving popularity alone and w = 1 is the trained network. Returns a setter over the
 * weights the model holds now.
 */
export function priorShrinkage(
  tf: Tf,
  model: TfModule.LayersModel,
  features: readonly NumericFeature[] = DEFAULT_FEATURE_COLUMNS,
): (weight: number) => void {
  const kernelOf = (layer: string) => {
    const w = model.getLayer(layer).getWeights()[0];
    return w === undefined ? undefined : Float32Array.from(w.dataSync());
  };
  const mlp = kernelOf(MLP_LAYER);
  const prior = kernelOf(PRIOR_LAYER);
  if (mlp === undefined || prior === undefined)
    throw new Error(`the model has no ${MLP_LAYER} / ${PRIOR_LAYER} kernels to shrink`);
  const prior0 = initialPriorKernel(features);
  return (weight) => {
    if (!(weight >= 0 && weight <= 1))
      throw new RangeError(`shrinkage weight must be in [0, 1], got ${weight}`);
    const set = (layer: string, values: Float32Array) => {
      const t = tf.tensor2d(values, [values.length, 1]);
      model.getLayer(layer).setWeights([t]);
      t.dispose();
    };
    set(
      MLP_LAYER,
      mlp.map((v) => weight * v),
    );
    set(
      PRIOR_LAYER,
      prior.map((v, i) => (1 - weight) * (prior0[i] as number) + weight * v),
    );
  };
}

/**
 * The prior's feature, the first of these the columns hold: the serving popularity (decayed at the tuned
 * half-life, or the recent reads), as a count or as a share of the portal's reads. Either orders a
 * world's articles the same way.
 */
const PRIOR_FEATURES: readonly NumericFeature[] = ["article_log_popularity", "article_log_share"];
/** Its starting weight on the standardised feature (one standard deviation: e ≈ 2.7× the odds). */
const PRIOR_WEIGHT = 1;

/** The layer whose output is the score before its sigmoid: what a listwise loss ranks by. */
export const SCORE_LOGIT_LAYER = "score_logit";

/**
 * The same network ending at its logit (shared weights: fitting the view fits the model). Throws for a
 * model without a `score_logit` layer.
 */
export function logitView(tf: Tf, model: TfModule.LayersModel): TfModule.LayersModel {
  const layer = model.layers.find((l) => l.name === SCORE_LOGIT_LAYER);
  if (layer === undefined) throw new Error(`the model has no ${SCORE_LOGIT_LAYER} layer to rank by`);
  return tf.model({ inputs: model.inputs, outputs: layer.output as Sym, name: `${model.name}_logit` });
}

/** Wraps feature-builder arrays as the model's input tensors (caller disposes). */
export function inputTensors(
  tf: Tf,
  arrays: { rows: number; article_section: Int32Array; article_region: Int32Array; numeric: Float32Array },
): TfModule.Tensor[] {
  return [
    tf.tensor2d(arrays.article_section, [arrays.rows, 1], "int32"),
    tf.tensor2d(arrays.article_region, [arrays.rows, 1], "int32"),
    tf.tensor2d(arrays.numeric, [arrays.rows, numericWidth(arrays)], "float32"),
  ];
}
