/** Fitting the ranker on examples (seeded shuffles, one log line per epoch, bounded batches). */
import { type ModelInputArrays, mulberry32, NUMERIC_FEATURE_COUNT } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import type { Examples, RankingLoss } from "../domain/examples.js";
import { inputTensors, logitView } from "../model/recommender.js";
import type { Tf } from "../tf/backend.js";

export interface FitOptions {
  loss: RankingLoss;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Share of (shuffled) groups held out for the validation loss. */
  validationShare: number;
  /**
   * Early stopping on the validation loss: stop after this many epochs without a new best, and keep
   * the weights of the best epoch, the untrained network (epoch 0) included (undefined: every epoch
   * runs and the last weights stay).
   */
  patience?: number | undefined;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
  /** True for the epoch whose weights the model keeps (the best validation loss, with early stopping). */
  kept?: boolean;
}

/** Standardises raw numeric features in place. */
export function standardise(arrays: ModelInputArrays, mean: readonly number[], std: readonly number[]): void {
  for (let r = 0; r < arrays.rows; r++)
    for (let k = 0; k < NUMERIC_FEATURE_COUNT; k++) {
      const i = r * NUMERIC_FEATURE_COUNT + k;
      arrays.numeric[i] = ((arrays.numeric[i] as number) - (mean[k] as number)) / (std[k] as number);
    }
}

function permute(a: ModelInputArrays, labels: Float32Array, order: Int32Array) {
  const out: ModelInputArrays = {
    rows: order.length,
    article_section: new Int32Array(order.length),
    article_region: new Int32Array(order.length),
    numeric: new Float32Array(order.length * NUMERIC_FEATURE_COUNT),
  };
  const y = new Float32Array(order.length);
  order.forEach((src, dst) => {
    out.article_section[dst] = a.article_section[src] as number;
    out.article_region[dst] = a.article_region[src] as number;
    out.numeric.set(
      a.numeric.subarray(src * NUMERIC_FEATURE_COUNT, (src + 1) * NUMERIC_FEATURE_COUNT),
      dst * NUMERIC_FEATURE_COUNT,
    );
    y[dst] = labels[src] as number;
  });
  return { x: out, y };
}

function shuffle(idx: Int32Array, rng: () => number): Int32Array {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return idx;
}

/** The rows of `groups`, each group's rows kept together and in order. */
function rowsOf(groups: Int32Array, groupSize: number): Int32Array {
  const rows = new Int32Array(groups.length * groupSize);
  groups.forEach((g, i) => {
    for (let k = 0; k < groupSize; k++) rows[i * groupSize + k] = g * groupSize + k;
  });
  return rows;
}

/**
 * Softmax cross-entropy over each group of `groupSize` consecutive rows of logits (the positive's
 * label 1, its negatives' 0). Batches must hold whole groups.
 */
export function listwiseLoss(tf: Tf, groupSize: number) {
  return (yTrue: TfModule.Tensor, logits: TfModule.Tensor): TfModule.Tensor =>
    tf.losses.softmaxCrossEntropy(yTrue.reshape([-1, groupSize]), logits.reshape([-1, groupSize]));
}

/** Fits a compiled-here model; examples must be standardised already. */
export async function fitRanker(
  tf: Tf,
  model: TfModule.LayersModel,
  examples: Examples,
  options: FitOptions,
  onEpoch: (log: EpochLog) => void,
): Promise<EpochLog[]> {
  const { groupSize } = examples;
  if (examples.inputs.rows % groupSize !== 0)
    throw new RangeError(`${examples.inputs.rows} example rows do not split into groups of ${groupSize}`);
  // Listwise: the softmax runs on the network's logit (its view shares the weights), not on the
  // sigmoid score, whose logit would lose precision where the score saturates.
  const [fitted, loss] =
    options.loss === "listwise"
      ? [logitView(tf, model), listwiseLoss(tf, groupSize)]
      : [model, "binaryCrossentropy" as const];
  fitted.compile({ optimizer: tf.train.adam(options.learningRate), loss });
  // Whole groups per batch (the listwise loss needs them; pointwise loses nothing by it).
  const batchSize = Math.max(1, Math.round(options.batchSize / groupSize)) * groupSize;
  const rng = mulberry32(options.seed);
  const groups = shuffle(
    Int32Array.from({ length: examples.inputs.rows / groupSize }, (_, i) => i),
    rng,
  );
  const nVal = Math.floor(groups.length * options.validationShare);
  const val = permute(examples.inputs, examples.labels, rowsOf(groups.subarray(0, nVal), groupSize));
  const trainGroups = groups.slice(nVal);
  const valX = inputTensors(tf, val.x);
  const valY = tf.tensor2d(val.y, [val.y.length, 1]);
  const logs: EpochLog[] = [];
  const stopping = options.patience !== undefined && nVal > 0;
  let best: { valLoss: number; epoch: number; weights: TfModule.Tensor[] } | undefined;
  try {
    if (stopping) {
      // Epoch 0 competes too: the untrained network (the popularity prior) stays when no epoch of
      // training ranks the held-out groups better, e.g. when a world gives too few examples to learn.
      const initial = fitted.evaluate(valX, valY, { batchSize }) as TfModule.Scalar;
      const valLoss = (await initial.data())[0] as number;
      initial.dispose();
      best = { valLoss, epoch: 0, weights: model.getWeights().map((w) => w.clone()) };
    }
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = rowsOf(shuffle(trainGroups.slice(), rng), groupSize);
      const batch = permute(examples.inputs, examples.labels, order);
      const x = inputTensors(tf, batch.x);
      const y = tf.tensor2d(batch.y, [batch.y.length, 1]);
      try {
        const h = await fitted.fit(x, y, {
          epochs: 1,
          batchSize,
          shuffle: false,
          verbose: 0,
          ...(nVal > 0 ? { validationData: [valX, valY] as [TfModule.Tensor[], TfModule.Tensor] } : {}),
        });
        const log: EpochLog = {
          epoch,
          loss: Number(h.history.loss?.[0] ?? Number.NaN),
          valLoss: Number(h.history.val_loss?.[0] ?? Number.NaN),
          seconds: (performance.now() - started) / 1000,
        };
        logs.push(log);
        onEpoch(log);
        if (stopping && Number.isFinite(log.valLoss) && (best === undefined || log.valLoss < best.valLoss)) {
          if (best !== undefined) tf.dispose(best.weights);
          best = { valLoss: log.valLoss, epoch, weights: model.getWeights().map((w) => w.clone()) };
        }
      } finally {
        tf.dispose([...x, y]);
      }
      if (stopping && best !== undefined && epoch - best.epoch >= (options.patience as number)) break;
    }
    if (best !== undefined) {
      if (best.epoch !== logs.length) model.setWeights(best.weights);
      const kept = best.epoch > 0 ? logs[best.epoch - 1] : undefined;
      if (kept !== undefined) kept.kept = true;
    }
  } finally {
    if (best !== undefined) tf.dispose(best.weights);
    tf.dispose([...valX, valY]);
  }
  return logs;
}
