/** Fitting the ranker on examples (seeded shuffles, one log line per epoch, bounded batches). */
import { type ModelInputArrays, mulberry32 } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import type { Examples, RankingLoss } from "../domain/examples.js";
import { RecommenderTrainer } from "../model/recommender-trainer.js";
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
  const width = mean.length;
  for (let r = 0; r < arrays.rows; r++)
    for (let k = 0; k < width; k++) {
      const i = r * width + k;
      arrays.numeric[i] = ((arrays.numeric[i] as number) - (mean[k] as number)) / (std[k] as number);
    }
}

/** Shuffles `idx` in place (Fisher–Yates with `rng`) and returns it. */
export function shuffle(idx: Int32Array, rng: () => number): Int32Array {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return idx;
}

/** The rows of `groups`, each group's rows kept together and in order. */
export function rowsOf(groups: Int32Array, groupSize: number): Int32Array {
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

/**
 * The seeded plan of a fit: whole groups per batch (the listwise loss needs them; pointwise loses
 * nothing by it), the first `validationShare` of the shuffled groups held out, and the generator that
 * goes on to shuffle the training groups each epoch.
 */
export function groupPlan(
  examples: Pick<Examples, "inputs" | "groupSize">,
  options: Pick<FitOptions, "batchSize" | "seed" | "validationShare">,
) {
  const { groupSize } = examples;
  const rng = mulberry32(options.seed);
  const groups = shuffle(
    Int32Array.from({ length: examples.inputs.rows / groupSize }, (_, i) => i),
    rng,
  );
  const nVal = Math.floor(groups.length * options.validationShare);
  return {
    batchSize: Math.max(1, Math.round(options.batchSize / groupSize)) * groupSize,
    rng,
    validationGroups: groups.subarray(0, nVal),
    trainGroups: groups.slice(nVal),
  };
}

/**
 * Fits the recommender (`buildRecommender`); examples must be standardised already. Each epoch runs
 * over the training groups in a fresh seeded order, whole groups per batch, with Adam; the steps are
 * `RecommenderTrainer`'s (what `model.fit` with `listwiseLoss` on `logitView`, or binary
 * cross-entropy on the score, computes, at a fraction of the per-op overhead). The rows go to the
 * device once; one read back per epoch (its loss) and per validation.
 */
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
  const { batchSize, rng, validationGroups, trainGroups } = groupPlan(examples, options);
  const trainer = new RecommenderTrainer(tf, model, {
    loss: options.loss,
    groupSize,
    learningRate: options.learningRate,
  });
  const all = trainer.upload(examples.inputs, examples.labels);
  const val =
    validationGroups.length > 0 ? trainer.take(all, rowsOf(validationGroups, groupSize)) : undefined;
  const logs: EpochLog[] = [];
  const stopping = options.patience !== undefined && val !== undefined;
  let best: { valLoss: number; epoch: number; weights: TfModule.Tensor } | undefined;
  try {
    if (stopping) {
      // Epoch 0 competes too: the untrained network (the popularity prior) stays when no epoch of
      // training ranks the held-out groups better, e.g. when a world gives too few examples to learn.
      best = { valLoss: await trainer.loss(val), epoch: 0, weights: trainer.snapshot() };
    }
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const rows = trainer.take(all, rowsOf(shuffle(trainGroups.slice(), rng), groupSize));
      let log: EpochLog;
      try {
        log = {
          epoch,
          loss: await trainer.epoch(rows, batchSize),
          valLoss: val === undefined ? Number.NaN : await trainer.loss(val),
          seconds: (performance.now() - started) / 1000,
        };
      } finally {
        trainer.disposeRows(rows);
      }
      logs.push(log);
      onEpoch(log);
      if (stopping && Number.isFinite(log.valLoss) && (best === undefined || log.valLoss < best.valLoss)) {
        best?.weights.dispose();
        best = { valLoss: log.valLoss, epoch, weights: trainer.snapshot() };
      }
      if (stopping && best !== undefined && epoch - best.epoch >= (options.patience as number)) break;
    }
    if (best !== undefined) {
      if (best.epoch !== logs.length) trainer.restore(best.weights);
      const kept = best.epoch > 0 ? logs[best.epoch - 1] : undefined;
      if (kept !== undefined) kept.kept = true;
    }
    trainer.commit();
  } finally {
    best?.weights.dispose();
    trainer.disposeRows(all);
    if (val !== undefined) trainer.disposeRows(val);
    trainer.dispose();
  }
  return logs;
}
