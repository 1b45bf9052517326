/**
 * The reference ranker architecture: one Embedding per id input (user, item), flattened and
 * concatenated with dense numeric features, then an MLP ending in a sigmoid click probability.
 * Built from standard layers only, so it exports to Keras (`keras-h5.ts`) and runs on any tfjs
 * backend.
 */
import type * as TfModule from "@tensorflow/tfjs";

type Tf = typeof TfModule;

export interface RankerSpec {
  /** Number of distinct user ids (ids are 0 … userVocab-1). */
  userVocab: number;
  /** Number of distinct item ids. */
  itemVocab: number;
  /** Width of both embeddings. */
  embeddingDim: number;
  /** Number of numeric features fed next to the embeddings (0 for none). */
  numericFeatures: number;
  /** Widths of the hidden ReLU layers. */
  hidden: readonly number[];
  /** Dropout after each hidden layer (0 for none). */
  dropout?: number;
  /** Seed for the kernel initializers, for reproducible tests. */
  seed?: number;
}

/** Input names, in the order `model.predict` / `model.fit` expect their tensors. */
export const RANKER_INPUTS = { user: "user_id", item: "item_id", numeric: "numeric" } as const;

/**
 * Builds (does not compile) the ranker. Inputs: `user_id` int32 `[batch, 1]`, `item_id` int32
 * `[batch, 1]` and, if `numericFeatures > 0`, `numeric` float32 `[batch, numericFeatures]`.
 * Output: `[batch, 1]` probabilities.
 */
export function buildRanker(tf: Tf, spec: RankerSpec): TfModule.LayersModel {
  const seed = spec.seed;
  const init = (offset: number) =>
    seed === undefined ? "glorotUniform" : tf.initializers.glorotUniform({ seed: seed + offset });
  const embInit = (offset: number) =>
    seed === undefined
      ? "randomUniform"
      : tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed + offset });

  const user = tf.input({ shape: [1], dtype: "int32", name: RANKER_INPUTS.user });
  const item = tf.input({ shape: [1], dtype: "int32", name: RANKER_INPUTS.item });
  const userVec = tf.layers.flatten({ name: "user_flat" }).apply(
    tf.layers
      .embedding({
        inputDim: spec.userVocab,
        outputDim: spec.embeddingDim,
        embeddingsInitializer: embInit(1),
        name: "user_emb",
      })
      .apply(user),
  ) as TfModule.SymbolicTensor;
  const itemVec = tf.layers.flatten({ name: "item_flat" }).apply(
    tf.layers
      .embedding({
        inputDim: spec.itemVocab,
        outputDim: spec.embeddingDim,
        embeddingsInitializer: embInit(2),
        name: "item_emb",
      })
      .apply(item),
  ) as TfModule.SymbolicTensor;

  const inputs: TfModule.SymbolicTensor[] = [user, item];
  const parts: TfModule.SymbolicTensor[] = [userVec, itemVec];
  if (spec.numericFeatures > 0) {
    const numeric = tf.input({
      shape: [spec.numericFeatures],
      dtype: "float32",
      name: RANKER_INPUTS.numeric,
    });
    inputs.push(numeric);
    parts.push(numeric);
  }
  let x = tf.layers.concatenate({ name: "features" }).apply(parts) as TfModule.SymbolicTensor;
  spec.hidden.forEach((units, i) => {
    x = tf.layers
      .dense({ units, activation: "relu", kernelInitializer: init(10 + i), name: `hidden_${i}` })
      .apply(x) as TfModule.SymbolicTensor;
    if (spec.dropout)
      x = tf.layers.dropout({ rate: spec.dropout, name: `dropout_${i}` }).apply(x) as TfModule.SymbolicTensor;
  });
  const output = tf.layers
    .dense({ units: 1, activation: "sigmoid", kernelInitializer: init(99), name: "click" })
    .apply(x) as TfModule.SymbolicTensor;
  return tf.model({ inputs, outputs: output, name: "ranker" });
}
