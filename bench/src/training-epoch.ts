/**
 * Seconds per training epoch of the reference ranker (2×Embedding(32) + MLP) on synthetic rows:
 * TensorFlow.js on the WASM backend (with the project's UnsortedSegmentSum kernel) next to the same
 * architecture in Keras 3 (JAX backend) in the project venv, on the very same rows. Prints the
 * median of the epochs of each side and the ratio.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-epoch.ts [--rows 200000]
 *     [--epochs 3] [--batch 256] [--users 10000] [--items 5000] [--backend wasm|cpu|node]
 *     [--keras-backend jax|torch|tensorflow]
 *
 * Needs the Keras pins (scripts/python-requirements.txt) plus a training backend for Keras
 * (all pinned in scripts/python-requirements.txt). The training workspace's sources are loaded at
 * run time (the bench workspace does not depend on @gplay/training), so this file declares the few
 * shapes it uses.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { mulberry32 } from "@gplay/common";
import { median } from "./stats.js";

interface Tensor {
  dispose(): void;
}

interface Tf {
  tensor2d(values: Int32Array | Float32Array, shape: [number, number], dtype: "int32" | "float32"): Tensor;
  train: { adam(learningRate: number): unknown };
  getBackend(): string;
}

interface Model {
  compile(args: { optimizer: unknown; loss: string }): void;
  fit(
    xs: Tensor[],
    ys: Tensor,
    args: {
      epochs: number;
      batchSize: number;
      shuffle: boolean;
      verbose: 0;
      callbacks: { onEpochBegin: () => void; onEpochEnd: () => void };
    },
  ): Promise<{ history: { loss?: unknown[] } }>;
}

interface RankerSpec {
  userVocab: number;
  itemVocab: number;
  embeddingDim: number;
  numericFeatures: number;
  hidden: number[];
  seed?: number;
}

interface TrainingModules {
  initTensorflow(options: {
    prefer: "node" | "wasm" | "cpu";
    log: { info: () => void; warn: (fields: unknown, msg: string) => void };
  }): Promise<{ tf: Tf; backend: string }>;
  buildRanker(tf: Tf, spec: RankerSpec): Model;
  runKerasScript(
    script: string,
    args: string[],
    options: { kerasBackend: string; timeoutMs?: number },
  ): Promise<string>;
}

const TRAINING = new URL("../../training/", import.meta.url);

async function loadTraining(): Promise<TrainingModules> {
  const [backend, ranker, python] = await Promise.all([
    import(new URL("src/tf/backend.ts", TRAINING).href),
    import(new URL("src/model/ranker.ts", TRAINING).href),
    import(new URL("test/keras/python.ts", TRAINING).href),
  ]);
  return {
    initTensorflow: backend.initTensorflow,
    buildRanker: ranker.buildRanker,
    runKerasScript: python.runKerasScript,
  };
}

interface Rows {
  user: Int32Array;
  item: Int32Array;
  numeric: Float32Array;
  label: Float32Array;
}

/** Clicks drawn from a logistic model of per-user and per-item biases plus the numeric features. */
function syntheticRows(rows: number, spec: RankerSpec): Rows {
  const rand = mulberry32(42);
  const userBias = Float32Array.from({ length: spec.userVocab }, () => rand() * 2 - 1);
  const itemBias = Float32Array.from({ length: spec.itemVocab }, () => rand() * 2 - 1);
  const n = spec.numericFeatures;
  const user = new Int32Array(rows);
  const item = new Int32Array(rows);
  const numeric = new Float32Array(rows * n);
  const label = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    // Skewed popularity: a few items and users get most of the rows, as in news logs.
    const u = Math.floor(rand() ** 2 * spec.userVocab);
    const i = Math.floor(rand() ** 3 * spec.itemVocab);
    let logit = (userBias[u] ?? 0) + (itemBias[i] ?? 0);
    for (let k = 0; k < n; k++) {
      const v = rand() * 2 - 1;
      numeric[r * n + k] = v;
      logit += v * (k % 2 === 0 ? 0.5 : -0.5);
    }
    user[r] = u;
    item[r] = i;
    label[r] = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { user, item, numeric, label };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "200000" },
      epochs: { type: "string", default: "3" },
      batch: { type: "string", default: "256" },
      users: { type: "string", default: "10000" },
      items: { type: "string", default: "5000" },
      backend: { type: "string", default: "wasm" },
      "keras-backend": { type: "string", default: "jax" },
    },
  });
  const rows = Number(values.rows);
  const epochs = Number(values.epochs);
  const batchSize = Number(values.batch);
  const learningRate = 0.001;
  const spec: RankerSpec = {
    userVocab: Number(values.users),
    itemVocab: Number(values.items),
    embeddingDim: 32,
    numericFeatures: 8,
    hidden: [64, 32],
    seed: 1,
  };

  const training = await loadTraining();
  const data = syntheticRows(rows, spec);
  console.log(
    `rows=${rows} epochs=${epochs} batch=${batchSize} users=${spec.userVocab} items=${spec.itemVocab} ` +
      `emb=${spec.embeddingDim} numeric=${spec.numericFeatures} hidden=${spec.hidden.join("x")}`,
  );
  // Timings on a shared machine mean little without the load they were taken under.
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(" ");
  console.log(`load average before: ${load()}`);

  // --- TensorFlow.js -------------------------------------------------------------------------
  const { tf, backend } = await training.initTensorflow({
    prefer: values.backend as "node" | "wasm" | "cpu",
    log: { info: () => undefined, warn: (fields, msg) => console.warn(msg, JSON.stringify(fields)) },
  });
  const model = training.buildRanker(tf, spec);
  model.compile({ optimizer: tf.train.adam(learningRate), loss: "binaryCrossentropy" });
  const xs = [
    tf.tensor2d(data.user, [rows, 1], "int32"),
    tf.tensor2d(data.item, [rows, 1], "int32"),
    tf.tensor2d(data.numeric, [rows, spec.numericFeatures], "float32"),
  ];
  const ys = tf.tensor2d(data.label, [rows, 1], "float32");
  const tfjsSeconds: number[] = [];
  const tfjsCpuSeconds: number[] = [];
  let started = 0;
  let startedCpu = process.cpuUsage();
  const history = await model.fit(xs, ys, {
    epochs,
    batchSize,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochBegin: () => {
        started = performance.now();
        startedCpu = process.cpuUsage();
      },
      onEpochEnd: () => {
        tfjsSeconds.push((performance.now() - started) / 1000);
        const cpu = process.cpuUsage(startedCpu);
        tfjsCpuSeconds.push((cpu.user + cpu.system) / 1e6);
      },
    },
  });
  for (const t of [...xs, ys]) t.dispose();
  const tfjsLoss = Number(history.history.loss?.at(-1));
  console.log(
    `tfjs (${backend}) epochs: ${tfjsSeconds.map((s) => s.toFixed(2)).join(", ")} s; loss ${tfjsLoss.toFixed(4)}`,
  );

  // --- Keras ---------------------------------------------------------------------------------
  const dir = await mkdtemp(path.join(tmpdir(), "gplay-bench-epoch-"));
  let keras: {
    keras_version: string;
    backend: string;
    epoch_seconds: number[];
    epoch_cpu_seconds: number[];
    final_loss: number;
  };
  try {
    await Promise.all([
      writeFile(path.join(dir, "user.i32"), data.user),
      writeFile(path.join(dir, "item.i32"), data.item),
      writeFile(path.join(dir, "numeric.f32"), data.numeric),
      writeFile(path.join(dir, "label.f32"), data.label),
    ]);
    const out = await training.runKerasScript(
      "bench_mlp.py",
      [
        dir,
        JSON.stringify({
          rows,
          ids: [
            { name: "user_id", file: "user.i32", vocab: spec.userVocab },
            { name: "item_id", file: "item.i32", vocab: spec.itemVocab },
          ],
          embeddingDim: spec.embeddingDim,
          numericFeatures: spec.numericFeatures,
          hidden: spec.hidden,
          epochs,
          batchSize,
          learningRate,
        }),
      ],
      { kerasBackend: values["keras-backend"] ?? "jax", timeoutMs: 30 * 60_000 },
    );
    keras = JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `keras ${keras.keras_version} (${keras.backend}) epochs: ${keras.epoch_seconds.map((s) => s.toFixed(2)).join(", ")} s; ` +
      `loss ${keras.final_loss.toFixed(4)}`,
  );

  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(`tfjs cpu-seconds per epoch: ${fmt(tfjsCpuSeconds)}; keras: ${fmt(keras.epoch_cpu_seconds)}`);
  const tfjsMedian = median(tfjsSeconds);
  const kerasMedian = median(keras.epoch_seconds);
  const tfjsCpu = median(tfjsCpuSeconds);
  const kerasCpu = median(keras.epoch_cpu_seconds);
  console.log("");
  console.log(
    `median of ${epochs} epochs        tfjs-${backend}   keras-${keras.backend}   ratio tfjs/keras`,
  );
  console.log(
    `wall s/epoch              ${tfjsMedian.toFixed(2).padStart(8)}   ${kerasMedian.toFixed(2).padStart(9)}   ${(tfjsMedian / kerasMedian).toFixed(2)}x`,
  );
  // CPU time is what a loaded, shared machine distorts least (Keras' counts all its threads).
  console.log(
    `cpu s/epoch               ${tfjsCpu.toFixed(2).padStart(8)}   ${kerasCpu.toFixed(2).padStart(9)}   ${(tfjsCpu / kerasCpu).toFixed(2)}x`,
  );
  console.log(`load average after: ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
