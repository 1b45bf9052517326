/**
 * The straightforward fit the production one must equal: Keras-style `model.fit` on the model's logit
 * view with `listwiseLoss` (or binary cross-entropy on the score), tfjs's Adam, the same seeded group
 * shuffles (its `groupPlan`, `shuffle` and `rowsOf`) and batches as `fitRanker` (rows permuted in
 * JavaScript, uploaded each epoch). It was the production fit before `RecommenderTrainer` wrote the
 * step out (issue #18); tests compare the two.
 */
import { DEFAULT_FEATURE_COLUMNS, type ModelInputArrays } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import {
  type EpochLog,
  type FitOptions,
  groupPlan,
  listwiseLoss,
  rowsOf,
  shuffle,
} from "../../src/app/model-ops.js";
import type { Examples } from "../../src/domain/examples.js";
import { inputTensors, logitView } from "../../src/model/recommender.js";
import type { Tf } from "../../src/tf/backend.js";

function permute(a: ModelInputArrays, labels: Float32Array, order: Int32Array) {
  const x: ModelInputArrays = {
    rows: order.length,
    article_section: new Int32Array(order.length),
    article_region: new Int32Array(order.length),
    numeric: new Float32Array(order.length * DEFAULT_FEATURE_COLUMNS.length),
  };
  const y = new Float32Array(order.length);
  order.forEach((src, dst) => {
    x.article_section[dst] = a.article_section[src] as number;
    x.article_region[dst] = a.article_region[src] as number;
    x.numeric.set(
      a.numeric.subarray(src * DEFAULT_FEATURE_COLUMNS.length, (src + 1) * DEFAULT_FEATURE_COLUMNS.length),
      dst * DEFAULT_FEATURE_COLUMNS.length,
    );
    y[dst] = labels[src] as number;
  });
  return { x, y };
}

/** `fitRanker` through `model.fit`, without early stopping. */
export async function referenceFit(
  tf: Tf,
  model: TfModule.LayersModel,
  examples: Examples,
  options: Omit<FitOptions, "patience">,
): Promise<EpochLog[]> {
  const { groupSize } = examples;
  const [fitted, loss] =
    options.loss === "listwise"
      ? [logitView(tf, model), listwiseLoss(tf, groupSize)]
      : [model, "binaryCrossentropy" as const];
  fitted.compile({ optimizer: tf.train.adam(options.learningRate), loss });
  const { batchSize, rng, validationGroups, trainGroups } = groupPlan(examples, options);
  const nVal = validationGroups.length;
  const val = permute(examples.inputs, examples.labels, rowsOf(validationGroups, groupSize));
  const valX = inputTensors(tf, val.x);
  const valY = tf.tensor2d(val.y, [val.y.length, 1]);
  const logs: EpochLog[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const batch = permute(
      examples.inputs,
      examples.labels,
      rowsOf(shuffle(trainGroups.slice(), rng), groupSize),
    );
    const x = inputTensors(tf, batch.x);
    const y = tf.tensor2d(batch.y, [batch.y.length, 1]);
    const h = await fitted.fit(x, y, {
      epochs: 1,
      batchSize,
      shuffle: false,
      verbose: 0,
      ...(nVal > 0 ? { validationData: [valX, valY] as [TfModule.Tensor[], TfModule.Tensor] } : {}),
    });
    logs.push({
      epoch,
      loss: Number(h.history.loss?.[0] ?? Number.NaN),
      valLoss: Number(h.history.val_loss?.[0] ?? Number.NaN),
      seconds: 0,
    });
    tf.dispose([...x, y]);
  }
  tf.dispose([...valX, valY]);
  return logs;
}
