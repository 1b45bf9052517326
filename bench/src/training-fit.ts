/**
 * What training-speed.ts hands to the processes it compares with: the example rows as files (Keras
 * and the baseline tree read the very same rows), and the count of tensor ops per training step.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** The example rows `buildExamples` made, in the layout of the feature builder. */
export interface ExampleRows {
  inputs: { rows: number; article_section: Int32Array; article_region: Int32Array; numeric: Float32Array };
  labels: Float32Array;
  positives: number;
  groupSize: number;
}

const FILES = { section: "section.i32", region: "region.i32", numeric: "numeric.f32", label: "label.f32" };

/** Writes the rows under `dir` (raw little-endian arrays, as `training/test/keras/bench_mlp.py` reads them). */
export async function writeExampleFiles(dir: string, examples: ExampleRows): Promise<void> {
  const x = examples.inputs;
  const bytes = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  await Promise.all([
    writeFile(path.join(dir, FILES.section), bytes(x.article_section)),
    writeFile(path.join(dir, FILES.region), bytes(x.article_region)),
    writeFile(path.join(dir, FILES.numeric), bytes(x.numeric)),
    writeFile(path.join(dir, FILES.label), bytes(examples.labels)),
  ]);
}

/** Reads rows `writeExampleFiles` wrote. */
export async function readExampleFiles(dir: string, groupSize: number): Promise<ExampleRows> {
  const read = async (file: string) => {
    const b = await readFile(path.join(dir, file));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const section = new Int32Array(await read(FILES.section));
  const labels = new Float32Array(await read(FILES.label));
  return {
    inputs: {
      rows: section.length,
      article_section: section,
      article_region: new Int32Array(await read(FILES.region)),
      numeric: new Float32Array(await read(FILES.numeric)),
    },
    labels,
    positives: section.length / groupSize,
    groupSize,
  };
}

/** The first `groups` groups of `examples`. */
function headOf(examples: ExampleRows, groups: number): ExampleRows {
  const rows = Math.min(examples.inputs.rows, groups * examples.groupSize);
  const width = examples.inputs.numeric.length / examples.inputs.rows;
  return {
    inputs: {
      rows,
      article_section: examples.inputs.article_section.subarray(0, rows),
      article_region: examples.inputs.article_region.subarray(0, rows),
      numeric: examples.inputs.numeric.subarray(0, rows * width),
    },
    labels: examples.labels.subarray(0, rows),
    positives: rows / examples.groupSize,
    groupSize: examples.groupSize,
  };
}

/**
 * Tensor ops (tfjs kernels) per training step of `fit` over `steps` batches of `examples`, set-up
 * included, counted by `tf.profile` on a one-epoch `train` of a fresh model.
 */
export async function kernelsPerStep(
  // biome-ignore lint/suspicious/noExplicitAny: tfjs and the training sources are loaded at run time.
  tf: any,
  // biome-ignore lint/suspicious/noExplicitAny: idem.
  train: (model: any, examples: ExampleRows, epochs: number) => Promise<unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: idem.
  build: () => any,
  examples: ExampleRows,
  batchGroups: number,
  steps: number,
): Promise<number> {
  const model = build();
  const head = headOf(examples, batchGroups * steps);
  const info = await tf.profile(() => train(model, head, 1));
  model.dispose();
  return info.kernels.length / Math.ceil(head.inputs.rows / (batchGroups * examples.groupSize));
}
