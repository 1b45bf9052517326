/**
 * Scoring helper. `LayersModel.predict` splits its input into batches of 32 unless told otherwise,
 * which makes bulk scoring (offline evaluation, candidate ranking) needlessly slow on every
 * backend; this always passes a large batch and returns plain numbers.
 */
import type * as TfModule from "@tensorflow/tfjs";

/** Large enough to amortise per-batch overhead, small enough to keep activations in memory. */
export const DEFAULT_PREDICT_BATCH_SIZE = 8192;

/**
 * Predicts a single-output model on `inputs` (one tensor per model input, same row count) and
 * returns its `[rows, 1]` output as a flat Float32Array. Intermediate tensors are disposed.
 */
export async function predictScores(
  tf: typeof TfModule,
  model: TfModule.LayersModel,
  inputs: TfModule.Tensor | TfModule.Tensor[],
  batchSize: number = DEFAULT_PREDICT_BATCH_SIZE,
): Promise<Float32Array> {
  const output = tf.tidy(() => {
    const out = model.predict(inputs, { batchSize });
    if (Array.isArray(out)) throw new Error("predictScores expects a single-output model");
    return out;
  });
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}
