/**
 * Seconds per epoch and peak memory of the production recommender (training/src/model/recommender.ts)
 * at 1/10 and at full generated scale, next to the baselines' fitting time and to Keras on the same
 * architecture, loss and batches over the very same rows — Keras 2.15 on TensorFlow 2.15 (the
 * libtensorflow tfjs-node runs: same kernels) and Keras 3 on JAX (training/test/keras/bench_mlp.py)
 * — and to the baseline tree's own fit, in one run:
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-speed.ts \
 *     [--scales 0.1,1] [--epochs 8] [--batch 512] [--backend node|wasm|cpu] [--skip-keras] \
 *     [--baseline REF|none] [--baseline-epochs 3]
 *
 * Scale: the ranker trains on one day of reads (the validation window), so a scale is the number of
 * reads per day of the real data set (8,123,951 reads over 46 days ≈ 176,600 a day at full scale).
 * The generator is run over 4 days with as many readers as that rate needs (≈ 50,000 at full scale),
 * through the featstore-engine's real ingestion and snapshot use cases, in memory.
 * Per step it prints the tfjs time and its tensor ops (counted by `tf.profile` over a short fit), and
 * the floor of the step on the tfjs backend: only its matrix products (forward, and the two of each
 * layer's backward pass), no activation, optimiser or embedding — no tfjs training loop on that
 * backend can beat that floor.
 * Baseline: `fitRanker` of the sources of REF (default: main before the written-out step, 8722634),
 * extracted by baseline-tree.ts, run by training-fit-child.ts in a process of its own (its own
 * TensorFlow settings) on the same rows, for `--baseline-epochs` epochs.
 * Keras 3 + JAX: the pins of scripts/python-requirements.txt in the stack's venv (.local/venv).
 * Keras on TensorFlow: a venv of its own, .local/bench-tf-venv, which this script creates from PyPI
 * (tensorflow-cpu==2.15.1; the wheel bootstrap.sh cached is reused) on its first run; Keras runs
 * with TensorFlow's default threads and kernels. Prints the whole training's time at each scale
 * (baselines, features, every epoch) and the peak RSS.
 * The training workspace's sources are loaded at run time.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { baselineTree } from "./baseline-tree.js";
import { writeFigures } from "./figures.js";
import { median } from "./stats.js";
import { type ExampleRows, kernelsPerStep, writeExampleFiles } from "./training-fit.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// biome-ignore lint/suspicious/noExplicitAny: training sources are loaded at run time, untyped here.
const load = async (rel: string): Promise<any> => import(pathToFileURL(path.join(root, rel)).href);

const FULL_READS_PER_DAY = 8_123_951 / 46;
const READS_PER_READER = 8_123_951 / 577_942;
const DAYS = 4;
/** The training job's learning rate (training/src/env.ts). */
const LEARNING_RATE = 0.003;
/** Steps of the short fit whose tensor ops are counted. */
const PROFILE_STEPS = 20;
/** main before the written-out training step (issue #18): the baseline re-measured beside this tree. */
const BASELINE_REF = "8722634";
/** The environment as given, before tfjs-node's settings (training/src/tf/backend.ts) join it. */
const inheritedEnv = { ...process.env };

const { values } = parseArgs({
  options: {
    scales: { type: "string", default: "0.1,1" },
    // The training job's defaults (training/src/env.ts): the run the 5-minute target is about.
    epochs: { type: "string", default: "8" },
    batch: { type: "string", default: "512" },
    backend: { type: "string", default: "node" },
    "skip-keras": { type: "boolean", default: false },
    baseline: { type: "string", default: BASELINE_REF },
    "baseline-epochs": { type: "string", default: "3" },
  },
});

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function kerasPython(): Promise<string | undefined> {
  const py = path.join(root, ".local/venv/bin/python");
  if (!existsSync(py)) return undefined;
  try {
    await promisify(execFile)(py, ["-c", "import jax, keras"], {
      env: { ...process.env, KERAS_BACKEND: "jax" },
    });
    return py;
  } catch {
    return undefined;
  }
}

/** TensorFlow's version in the Keras-on-TensorFlow venv: the one tfjs-node's addon is built against. */
const TENSORFLOW_VERSION = "2.15.1";

/** The venv with tensorflow-cpu (and its Keras 2.15), created on first use; undefined when that fails. */
async function kerasTensorflowPython(): Promise<string | undefined> {
  const venv = path.join(root, ".local/bench-tf-venv");
  const py = path.join(venv, "bin/python");
  const check = async () => {
    try {
      const { stdout } = await promisify(execFile)(
        py,
        ["-c", "import tensorflow as tf; print(tf.__version__)"],
        {
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" },
        },
      );
      return stdout.trim() === TENSORFLOW_VERSION;
    } catch {
      return false;
    }
  };
  if (existsSync(py) && (await check())) return py;
  console.log(`creating ${venv} with tensorflow-cpu==${TENSORFLOW_VERSION} from PyPI (once, a few minutes)…`);
  try {
    await promisify(execFile)("python3", ["-m", "venv", venv]);
    await promisify(execFile)(
      py,
      [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--find-links",
        path.join(root, ".local/tfjs-native/wheel"),
        `tensorflow-cpu==${TENSORFLOW_VERSION}`,
      ],
      { maxBuffer: 1 << 24, timeout: 1_800_000 },
    );
  } catch (error) {
    console.log(
      `Keras on TensorFlow skipped: ${error instanceof Error ? error.message.split("\n")[0] : error}`,
    );
    return undefined;
  }
  return (await check()) ? py : undefined;
}

/**
 * Milliseconds of the matrix products of one training step of an MLP (widths `dims`, batch `batch`)
 * on the current tfjs backend: per layer x·W, xᵀ·g (kernel gradient) and, past the first layer, g·Wᵀ.
 */
// biome-ignore lint/suspicious/noExplicitAny: tfjs is loaded at run time, untyped here.
function matmulFloorMs(tf: any, dims: readonly number[], batch: number): number {
  const layers = dims.slice(1).map((out, l) => [dims[l] as number, out] as const);
  const xs = layers.map(([i]) => tf.randomNormal([batch, i]));
  const ws = layers.map(([i, o]) => tf.randomNormal([i, o]));
  const gs = layers.map(([, o]) => tf.randomNormal([batch, o]));
  const step = () =>
    tf.tidy(() => {
      const outs = [];
      for (let l = 0; l < layers.length; l++) {
        outs.push(tf.matMul(xs[l], ws[l]), tf.matMul(xs[l], gs[l], true, false));
        if (l > 0) outs.push(tf.matMul(gs[l], ws[l], false, true));
      }
      for (const o of outs) o.dataSync();
    });
  for (let i = 0; i < 10; i++) step();
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < 20; i++) step();
    times.push((performance.now() - t) / 20);
  }
  tf.dispose([...xs, ...ws, ...gs]);
  return median(times);
}

async function main(): Promise<void> {
  const { initTensorflow } = await load("training/src/tf/backend.ts");
  const { loadTrainingData } = await load("training/src/app/load-data.ts");
  const { inMemorySnapshot } = await load("training/test/support/in-memory-pipeline.ts");
  const { timeSplit, windowCases } = await load("training/src/domain/split.ts");
  const { buildWorld, DEFAULT_CANDIDATES } = await load("training/src/domain/world.ts");
  const { tuneBaselines } = await load("training/src/domain/baselines.ts");
  const { buildExamples } = await load("training/src/domain/examples.ts");
  const { fitRanker, standardise } = await load("training/src/app/model-ops.ts");
  const { buildRecommender } = await load("training/src/model/recommender.ts");
  const common = await load("common/src/index.ts");
  const silent = { info: () => undefined, warn: () => undefined };
  const { tf, backend } = await initTensorflow({ prefer: values.backend, log: silent });
  const epochs = Number(values.epochs);
  const baselineEpochs = Number(values["baseline-epochs"]);
  const baseline = values.baseline === "none" ? undefined : baselineTree(root, values.baseline as string);
  const batchSize = Number(values.batch);
  const python = values["skip-keras"] ? undefined : await kerasPython();
  const kerasTf = values["skip-keras"] ? undefined : await kerasTensorflowPython();
  console.log(
    `tfjs backend ${backend}; Keras-JAX: ${python ?? "skipped (no venv with keras + jax)"}; Keras-TF: ${kerasTf ?? "skipped"}; epochs ${epochs}, batch ${batchSize}`,
  );
  const results: string[] = [];
  const figures: Record<string, unknown>[] = [];
  for (const scale of (values.scales ?? "0.1").split(",").map(Number)) {
    const users = Math.round((FULL_READS_PER_DAY * scale * DAYS) / READS_PER_READER);
    let t = performance.now();
    const snap = await inMemorySnapshot({ users, days: DAYS, seed: `speed-${scale}` });
    const data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
    const pipelineSeconds = (performance.now() - t) / 1000;
    const split = timeSplit(data.asOf, undefined, data.events[0]?.timestamp);
    const sections = [
      ...new Set([...data.articles.values()].map((a: { section: string }) => a.section)),
    ].sort();
    const regions = [...new Set([...data.articles.values()].map((a: { region: string }) => a.region))].sort();
    const vocab = common.vocabularyIndex({ section: sections, region: regions });
    const trainingCpu0 = process.cpuUsage();
    t = performance.now();
    const world = buildWorld(data, split.validCut, vocab, DEFAULT_CANDIDATES);
    const cases = windowCases(data, split.validCut, split.testCut - 1, Number.POSITIVE_INFINITY, 1);
    const tuned = tuneBaselines(world, cases.slice(0, 5_000));
    const baselineSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const examples = buildExamples(world, cases, 8, 1);
    const norm = common.computeNormalisation(examples.inputs.numeric, examples.inputs.rows);
    standardise(examples.inputs, norm.mean, norm.std);
    const featureSeconds = (performance.now() - t) / 1000;
    const spec = {
      sections: sections.length,
      regions: regions.length,
      embeddingDim: 8,
      hidden: [64, 32],
      seed: 1,
    };
    const model = buildRecommender(tf, spec);
    const fitOptions = {
      loss: "listwise",
      batchSize,
      learningRate: LEARNING_RATE,
      seed: 1,
      validationShare: 0,
    };
    // biome-ignore lint/suspicious/noExplicitAny: training sources are loaded at run time.
    const train = (m: any, rows: ExampleRows, n: number) =>
      fitRanker(tf, m, rows, { ...fitOptions, epochs: n }, () => undefined);
    const cpu0 = process.cpuUsage();
    const logs = await train(model, examples, epochs);
    const cpu = process.cpuUsage(cpu0);
    const trainingCpu = process.cpuUsage(trainingCpu0);
    const trainingCpuSeconds = (trainingCpu.user + trainingCpu.system) / 1e6;
    const trainingPeakMb = peakMb();
    const fitSeconds = logs.reduce((n: number, l: { seconds: number }) => n + l.seconds, 0);
    model.dispose();
    const tfjsEpoch = median(logs.map((l: { seconds: number }) => l.seconds));
    const tfjsCpuEpoch = (cpu.user + cpu.system) / 1e6 / epochs;
    const groupSize: number = examples.groupSize;
    const batchGroups = Math.max(1, Math.round(batchSize / groupSize));
    const steps = Math.ceil(examples.inputs.rows / (batchGroups * groupSize));
    const kernels = await kernelsPerStep(
      tf,
      train,
      () => buildRecommender(tf, spec),
      examples,
      batchGroups,
      PROFILE_STEPS,
    );
    const dir = await mkdtemp(path.join(tmpdir(), "gplay-speed-"));
    const keras: Record<string, { epoch: number; cpuEpoch: number }> = {};
    let base: { epoch: number; cpuEpoch: number; kernels: number; peakMb: number } | undefined;
    try {
      await writeExampleFiles(dir, examples);
      for (const [name, py, env] of [
        ["Keras-TF", kerasTf, { KERAS_BACKEND: "tensorflow" }],
        ["Keras-JAX", python, { KERAS_BACKEND: "jax" }],
      ] as const) {
        if (py === undefined) continue;
        const { stdout } = await promisify(execFile)(
          py,
          [
            path.join(root, "training/test/keras/bench_mlp.py"),
            dir,
            JSON.stringify({
              rows: examples.inputs.rows,
              groupSize,
              batchGroups,
              sectionVocab: spec.sections + 1,
              regionVocab: spec.regions + 1,
              embeddingDim: spec.embeddingDim,
              hidden: spec.hidden,
              numericFeatures: common.DEFAULT_FEATURE_COLUMNS.length,
              priorIndex: common.DEFAULT_FEATURE_COLUMNS.indexOf("article_log_popularity"),
              epochs: epochs + 1,
              learningRate: LEARNING_RATE,
            }),
          ],
          {
            // Keras runs with TensorFlow's own defaults, not the settings this process gave tfjs-node.
            env: { ...inheritedEnv, ...env, TF_CPP_MIN_LOG_LEVEL: "3" },
            maxBuffer: 1 << 24,
            timeout: 1_800_000,
          },
        );
        const k = JSON.parse(stdout) as { epoch_seconds: number[]; epoch_cpu_seconds: number[] };
        // The first Keras epoch compiles (XLA / tf.function): the median of the others is the steady state.
        keras[name] = {
          epoch: median(k.epoch_seconds.slice(1)),
          cpuEpoch: median(k.epoch_cpu_seconds.slice(1)),
        };
      }
      if (baseline !== undefined) {
        // The baseline tree's own fitRanker in a process of its own, with that tree's TensorFlow settings.
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [
            "--conditions=@gplay/source",
            "--import",
            "tsx",
            path.join(root, "bench/src/training-fit-child.ts"),
            baseline.dir,
            dir,
            JSON.stringify({
              ...spec,
              groupSize,
              epochs: baselineEpochs,
              batchSize,
              learningRate: LEARNING_RATE,
              profileSteps: PROFILE_STEPS,
            }),
          ],
          { cwd: root, env: { ...inheritedEnv }, maxBuffer: 1 << 24, timeout: 1_800_000 },
        );
        const b = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
          epochSeconds: number[];
          cpuSecondsPerEpoch: number;
          kernelsPerStep: number;
          peakRssMb: number;
        };
        base = {
          epoch: median(b.epochSeconds),
          cpuEpoch: b.cpuSecondsPerEpoch,
          kernels: b.kernelsPerStep,
          peakMb: b.peakRssMb,
        };
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const kerasEpoch = keras["Keras-JAX"]?.epoch ?? Number.NaN;
    const kerasTfEpoch = keras["Keras-TF"]?.epoch ?? Number.NaN;
    const kerasTfCpuEpoch = keras["Keras-TF"]?.cpuEpoch ?? Number.NaN;
    const kerasCpuEpoch = keras["Keras-JAX"]?.cpuEpoch ?? Number.NaN;
    const floorMs = matmulFloorMs(
      tf,
      [2 * spec.embeddingDim + common.DEFAULT_FEATURE_COLUMNS.length, ...spec.hidden, 1],
      batchGroups * groupSize,
    );
    const stepMs = (seconds: number) => (seconds / steps) * 1000;
    const trainingSeconds = baselineSeconds + featureSeconds + fitSeconds;
    const ratio = tfjsEpoch / kerasTfEpoch;
    const line =
      `scale ${scale}: ${users} readers × ${DAYS} days, ${data.events.length} reads (${cases.length} readers in the training day), ` +
      `${examples.inputs.rows} rows/epoch in ${steps} steps of ${batchGroups} groups of ${groupSize}; pipeline ${pipelineSeconds.toFixed(1)} s; ` +
      `baselines fit+tune ${baselineSeconds.toFixed(2)} s (half-life ${tuned.halfLifeHours} h); features ${featureSeconds.toFixed(2)} s; ` +
      `tfjs-${backend} ${tfjsEpoch.toFixed(2)} s/epoch (${tfjsCpuEpoch.toFixed(2)} CPU s); ` +
      `Keras-TF ${kerasTfEpoch.toFixed(2)} s/epoch (${kerasTfCpuEpoch.toFixed(2)} CPU s); ` +
      `Keras-JAX ${kerasEpoch.toFixed(2)} s/epoch (${kerasCpuEpoch.toFixed(2)} CPU s); ` +
      `tfjs-${backend} ÷ Keras-TF ${ratio.toFixed(2)}× wall (target ≤ 2: ${ratio <= 2 ? "met" : "MISSED"}), ` +
      `${(tfjsCpuEpoch / kerasTfCpuEpoch).toFixed(2)}× CPU, ` +
      `÷ Keras-JAX ${(tfjsEpoch / kerasEpoch).toFixed(2)}× wall, ${(tfjsCpuEpoch / kerasCpuEpoch).toFixed(2)}× CPU; ` +
      `training (baselines + features + ${epochs} epochs) ${trainingSeconds.toFixed(1)} s ` +
      `(target ≤ 300 s at full scale: ${trainingSeconds <= 300 ? "met" : "MISSED"}); ` +
      `step: tfjs-${backend} ${stepMs(tfjsEpoch).toFixed(2)} ms and ${kernels.toFixed(0)} tensor ops, its matmuls alone ${floorMs.toFixed(2)} ms, ` +
      `Keras-TF ${stepMs(kerasTfEpoch).toFixed(2)} ms, Keras-JAX ${stepMs(kerasEpoch).toFixed(2)} ms; ` +
      (base === undefined
        ? ""
        : `baseline ${baseline?.commit.slice(0, 7)} (its own process, ${baselineEpochs} epochs): ${base.epoch.toFixed(2)} s/epoch ` +
          `(${base.cpuEpoch.toFixed(2)} CPU s), ` +
          `${stepMs(base.epoch).toFixed(2)} ms and ${base.kernels.toFixed(0)} tensor ops a step, ÷ Keras-TF ${(base.epoch / kerasTfEpoch).toFixed(2)}×, ` +
          `${(base.cpuEpoch / kerasTfCpuEpoch).toFixed(2)}× CPU, peak RSS ${base.peakMb} MB (rows only, no pipeline); ` +
          `this tree ${(base.epoch / tfjsEpoch).toFixed(1)}× faster per epoch, ${(base.cpuEpoch / tfjsCpuEpoch).toFixed(1)}× less CPU; `) +
      `peak RSS ${trainingPeakMb} MB (pipeline, features and training in one process)`;
    console.log(line);
    results.push(line);
    figures.push({
      scale,
      reads: data.events.length,
      rowsPerEpoch: examples.inputs.rows,
      epochs,
      batchSize,
      backend,
      tfjsEpochSeconds: tfjsEpoch,
      kerasTfEpochSeconds: kerasTfEpoch,
      kerasJaxEpochSeconds: kerasEpoch,
      tfjsStepMs: stepMs(tfjsEpoch),
      tfjsKernelsPerStep: kernels,
      matmulFloorMs: floorMs,
      baselineCommit: baseline?.commit ?? null,
      baselineEpochSeconds: base?.epoch ?? null,
      baselineEpochCpuSeconds: base?.cpuEpoch ?? null,
      tfjsEpochCpuSeconds: tfjsCpuEpoch,
      kerasTfEpochCpuSeconds: kerasTfCpuEpoch,
      baselineKernelsPerStep: base?.kernels ?? null,
      trainingSeconds,
      trainingCpuSeconds,
      peakRssMb: trainingPeakMb,
    });
  }
  writeFigures(root, "training", { scales: figures });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
