/**
 * Seconds per epoch and peak memory of the production recommender (training/src/model/recommender.ts)
 * at 1/10 and at full generated scale, next to the baselines' fitting time and to Keras 3 (JAX) on
 * the same architecture and the very same rows, in one run:
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-speed.ts \
 *     [--scales 0.1,1] [--epochs 3] [--batch 2048] [--backend wasm|cpu|node] [--skip-keras]
 *
 * Scale: the ranker trains on one day of reads (the validation window), so a scale is the number of
 * reads per day of the real data set (8,123,951 reads over 46 days ≈ 176,600 a day at full scale).
 * The generator is run over 4 days with as many readers as that rate needs (≈ 50,000 at full scale),
 * through the featstore-engine's real ingestion and snapshot use cases, in memory.
 * It also times the floor of one training step on the tfjs backend: only the step's matrix products
 * (forward, and the two of each layer's backward pass), no activation, optimiser or embedding, next
 * to Keras's whole step — no tfjs training loop on that backend can beat that floor.
 * Needs the Keras and JAX pins (scripts/python-requirements.txt) in a venv the script
 * finds (.local/venv or /tmp/keras-venv). The training workspace's sources are loaded at run time.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { median } from "./stats.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// biome-ignore lint/suspicious/noExplicitAny: training sources are loaded at run time, untyped here.
const load = async (rel: string): Promise<any> => import(pathToFileURL(path.join(root, rel)).href);

const FULL_READS_PER_DAY = 8_123_951 / 46;
const READS_PER_READER = 8_123_951 / 577_942;
const DAYS = 4;

const { values } = parseArgs({
  options: {
    scales: { type: "string", default: "0.1,1" },
    epochs: { type: "string", default: "3" },
    batch: { type: "string", default: "2048" },
    backend: { type: "string", default: "wasm" },
    "skip-keras": { type: "boolean", default: false },
  },
});

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function kerasPython(): Promise<string | undefined> {
  for (const py of [path.join(root, ".local/venv/bin/python"), "/tmp/keras-venv/bin/python"]) {
    if (!existsSync(py)) continue;
    try {
      await promisify(execFile)(py, ["-c", "import jax, keras"], {
        env: { ...process.env, KERAS_BACKEND: "jax" },
      });
      return py;
    } catch {}
  }
  return undefined;
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
  const batchSize = Number(values.batch);
  const python = values["skip-keras"] ? undefined : await kerasPython();
  console.log(
    `tfjs backend ${backend}; Keras: ${python ?? "skipped (no venv with keras + jax)"}; epochs ${epochs}, batch ${batchSize}`,
  );
  const results: string[] = [];
  for (const scale of (values.scales ?? "0.1").split(",").map(Number)) {
    const users = Math.round((FULL_READS_PER_DAY * scale * DAYS) / READS_PER_READER);
    let t = performance.now();
    const snap = await inMemorySnapshot({ users, days: DAYS, seed: `speed-${scale}` });
    const data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
    const pipelineSeconds = (performance.now() - t) / 1000;
    const split = timeSplit(data.asOf);
    const sections = [
      ...new Set([...data.articles.values()].map((a: { section: string }) => a.section)),
    ].sort();
    const regions = [...new Set([...data.articles.values()].map((a: { region: string }) => a.region))].sort();
    const vocab = common.vocabularyIndex({ section: sections, region: regions });
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
    const cpu0 = process.cpuUsage();
    const logs = await fitRanker(
      tf,
      model,
      examples,
      { epochs, batchSize, learningRate: 0.003, seed: 1, validationShare: 0 },
      () => undefined,
    );
    const cpu = process.cpuUsage(cpu0);
    model.dispose();
    const tfjsEpoch = median(logs.map((l: { seconds: number }) => l.seconds));
    const tfjsCpuEpoch = (cpu.user + cpu.system) / 1e6 / epochs;
    let kerasEpoch = Number.NaN;
    let kerasCpuEpoch = Number.NaN;
    if (python !== undefined) {
      const dir = await mkdtemp(path.join(tmpdir(), "gplay-speed-"));
      try {
        const x = examples.inputs;
        await writeFile(path.join(dir, "section.i32"), Buffer.from(x.article_section.buffer));
        await writeFile(path.join(dir, "region.i32"), Buffer.from(x.article_region.buffer));
        await writeFile(path.join(dir, "numeric.f32"), Buffer.from(x.numeric.buffer));
        await writeFile(path.join(dir, "label.f32"), Buffer.from(examples.labels.buffer));
        const { stdout } = await promisify(execFile)(
          python,
          [
            path.join(root, "training/test/keras/bench_mlp.py"),
            dir,
            JSON.stringify({
              rows: x.rows,
              ids: [
                { name: "article_section", file: "section.i32", vocab: spec.sections + 1 },
                { name: "article_region", file: "region.i32", vocab: spec.regions + 1 },
              ],
              embeddingDim: spec.embeddingDim,
              hidden: spec.hidden,
              numericFeatures: common.NUMERIC_FEATURE_COUNT,
              epochs: epochs + 1,
              batchSize,
              learningRate: 0.003,
            }),
          ],
          {
            env: { ...process.env, KERAS_BACKEND: "jax", TF_CPP_MIN_LOG_LEVEL: "3" },
            maxBuffer: 1 << 24,
            timeout: 1_800_000,
          },
        );
        const k = JSON.parse(stdout) as { epoch_seconds: number[]; epoch_cpu_seconds: number[] };
        // The first Keras epoch compiles (XLA): the median of the others is the steady state.
        kerasEpoch = median(k.epoch_seconds.slice(1));
        kerasCpuEpoch = median(k.epoch_cpu_seconds.slice(1));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const steps = Math.ceil(examples.inputs.rows / batchSize);
    const floorMs = matmulFloorMs(
      tf,
      [2 * spec.embeddingDim + common.NUMERIC_FEATURE_COUNT, ...spec.hidden, 1],
      batchSize,
    );
    const kerasStepMs = (kerasEpoch / steps) * 1000;
    const line =
      `scale ${scale}: ${users} readers × ${DAYS} days, ${data.events.length} reads (${cases.length} readers in the training day), ` +
      `${examples.inputs.rows} rows/epoch; pipeline ${pipelineSeconds.toFixed(1)} s; baselines fit+tune ${baselineSeconds.toFixed(2)} s ` +
      `(half-life ${tuned.halfLifeHours} h); features ${featureSeconds.toFixed(2)} s; tfjs-${backend} ${tfjsEpoch.toFixed(2)} s/epoch ` +
      `(${tfjsCpuEpoch.toFixed(2)} CPU s); Keras-JAX ${kerasEpoch.toFixed(2)} s/epoch (${kerasCpuEpoch.toFixed(2)} CPU s); ` +
      `ratio ${(tfjsEpoch / kerasEpoch).toFixed(2)}× wall, ${(tfjsCpuEpoch / kerasCpuEpoch).toFixed(2)}× CPU; ` +
      `step: tfjs-${backend} ${((tfjsEpoch / steps) * 1000).toFixed(1)} ms, its matmuls alone ${floorMs.toFixed(1)} ms, ` +
      `Keras-JAX whole step ${kerasStepMs.toFixed(1)} ms (floor ${(floorMs / kerasStepMs).toFixed(1)}×); peak RSS ${peakMb()} MB`;
    console.log(line);
    results.push(line);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
