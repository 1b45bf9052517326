/** Fitting the ranker on examples (seeded shuffles, one log line per epoch, bounded batches). */
import { type ModelInputArrays, mulberry32, NUMERIC_FEATURE_COUNT } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import type { Examples } from "../domain/examples.js";
import { inputTensors } from "../model/recommender.js";
import type { Tf } from "../tf/backend.js";

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Share of (shuffled) examples held out for the validation loss. */
  validationShare: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
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

function shuffled(n: number, rng: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return idx;
}

/** Fits a compiled-here model; examples must be standardised already. */
export async function fitRanker(
  tf: Tf,
  model: TfModule.LayersModel,
  examples: Examples,
  options: FitOptions,
  onEpoch: (log: EpochLog) => void,
): Promise<EpochLog[]> {
  model.compile({ optimizer: tf.train.adam(options.learningRate), loss: "binaryCrossentropy" });
  const rng = mulberry32(options.seed);
  const all = shuffled(examples.inputs.rows, rng);
  const nVal = Math.floor(all.length * options.validationShare);
  const val = permute(examples.inputs, examples.labels, all.subarray(0, nVal));
  const trainIdx = all.slice(nVal);
  const valX = inputTensors(tf, val.x);
  const valY = tf.tensor2d(val.y, [val.y.length, 1]);
  const logs: EpochLog[] = [];
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = trainIdx.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
      const batch = permute(examples.inputs, examples.labels, order);
      const x = inputTensors(tf, batch.x);
      const y = tf.tensor2d(batch.y, [batch.y.length, 1]);
      try {
        const h = await model.fit(x, y, {
          epochs: 1,
          batchSize: options.batchSize,
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
      } finally {
        tf.dispose([...x, y]);
      }
    }
  } finally {
    tf.dispose([...valX, valY]);
  }
  return logs;
}
