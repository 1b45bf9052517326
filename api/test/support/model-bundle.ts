/**
 * Builds a small but real model bundle (common's model-bundle.ts contract) and registers it in
 * MLflow, so the API's tests and benchmark have a `@champion` without waiting for training: a tfjs
 * layers model over `MODEL_INPUTS` (standard Keras layers only), saved with training's
 * `fileSystemSaveHandler`, plus bundle.json, vocabularies, normalisation and candidate structures.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  BUNDLE_FILES,
  BUNDLE_SCHEMA_VERSION,
  type BundleManifest,
  type CovisitationTable,
  DEFAULT_FEATURE_COLUMNS,
  FEATURE_SCHEMA_VERSION,
  MODEL_INPUTS,
  type Normalisation,
  type NumericFeature,
  PORTAL_BUCKET_MS,
  type PopularityTable,
  RECENT_READS,
  type Vocabularies,
} from "@gplay/common";
import type { MlflowClient } from "@gplay/mlflow";
import type * as TfModule from "@tensorflow/tfjs";
import { fileSystemSaveHandler } from "../../../training/src/tf/file-io.js";

type Tf = typeof TfModule;
type Sym = TfModule.SymbolicTensor;

export interface TestBundleSpec {
  vocabularies: Vocabularies;
  /** Candidate structures' and article ages' "now". */
  asOf: number;
  popularity: PopularityTable["entries"];
  covisitation: CovisitationTable["neighbours"];
  /** Different seeds give different weights, so two versions rank differently. */
  seed: number;
  /**
   * The network's numeric columns (default `DEFAULT_FEATURE_COLUMNS`: a bundle as written before the
   * appeal, without the portal's reads); with `article_log_appeal`, the popularity table holds made-up
   * portal reads for its exposure.
   */
  features?: readonly NumericFeature[];
  /** Overrides of bundle.json (e.g. another featureSchemaVersion). */
  manifest?: Partial<Record<keyof BundleManifest, unknown>>;
  /** Network size (default: 4-wide embeddings, hidden [32, 16]; training's default is 8 and [64, 32]). */
  embeddingDim?: number;
  hidden?: readonly number[];
}

/** The test ranker: section/region embeddings + the numeric block → ReLU MLP (with dropout) → sigmoid. */
export function buildTestRanker(
  tf: Tf,
  vocab: Vocabularies,
  seed: number,
  size: { embeddingDim?: number; hidden?: readonly number[]; columns?: number } = {},
): TfModule.LayersModel {
  const hidden = size.hidden ?? [32, 16];
  const [sectionIn, regionIn, numericIn] = MODEL_INPUTS;
  const section = tf.input({ shape: [1], dtype: "int32", name: sectionIn.name });
  const region = tf.input({ shape: [1], dtype: "int32", name: regionIn.name });
  const numeric = tf.input({
    shape: [size.columns ?? DEFAULT_FEATURE_COLUMNS.length],
    dtype: "float32",
    name: numericIn.name,
  });
  const embed = (x: Sym, vocabSize: number, name: string, k: number) =>
    tf.layers.flatten({ name: `${name}_flat` }).apply(
      tf.layers
        .embedding({
          inputDim: vocabSize + 1,
          outputDim: size.embeddingDim ?? 4,
          embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: seed + k }),
          name: `${name}_emb`,
        })
        .apply(x),
    ) as Sym;
  let x = tf.layers
    .concatenate({ name: "features" })
    .apply([
      embed(section, vocab.section.length, "section", 1),
      embed(region, vocab.region.length, "region", 2),
      numeric,
    ]) as Sym;
  hidden.forEach((units, i) => {
    x = tf.layers
      .dense({
        units,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 + i }),
        name: `hidden_${i}`,
      })
      .apply(x) as Sym;
    if (i === 0) x = tf.layers.dropout({ rate: 0.2, name: "dropout_0" }).apply(x) as Sym;
  });
  const out = tf.layers
    .dense({
      units: 1,
      activation: "sigmoid",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 99 }),
      name: "score",
    })
    .apply(x) as Sym;
  return tf.model({ inputs: [section, region, numeric], outputs: out, name: "gplay_test_ranker" });
}

/** Writes a complete bundle into `dir`; returns its manifest. */
export async function writeTestBundle(tf: Tf, dir: string, spec: TestBundleSpec): Promise<BundleManifest> {
  const features = spec.features ?? DEFAULT_FEATURE_COLUMNS;
  const model = buildTestRanker(tf, spec.vocabularies, spec.seed, {
    ...(spec.embeddingDim === undefined ? {} : { embeddingDim: spec.embeddingDim }),
    ...(spec.hidden === undefined ? {} : { hidden: spec.hidden }),
    columns: features.length,
  });
  await model.save(fileSystemSaveHandler(join(dir, BUNDLE_FILES.tfjsDir)));
  model.dispose();
  const normalisation: Normalisation = {
    features: [...features],
    mean: features.map((_, k) => 0.1 * (k % 4)),
    std: features.map((_, k) => 0.5 + 0.25 * (k % 3)),
  };
  // Scales made up from the main popularity (the 1 h scale a tenth of it, the 24 h one twice it).
  const popularity: PopularityTable = {
    asOf: spec.asOf,
    halfLifeHours: 24,
    entries: spec.popularity,
    scales: Object.fromEntries(spec.popularity.map(([page, v]) => [page, [v / 10, v / 2, v * 2]])),
    // The appeal's exposure: 40 reads per bucket over the two days before asOf.
    ...(features.includes("article_log_appeal")
      ? {
          portal: Array.from({ length: (48 * 3_600_000) / PORTAL_BUCKET_MS }, (_, i): [number, number] => [
            Math.floor(spec.asOf / PORTAL_BUCKET_MS) * PORTAL_BUCKET_MS - (i + 1) * PORTAL_BUCKET_MS,
            40,
          ]).reverse(),
        }
      : {}),
  };
  const covisitation: CovisitationTable = { topK: 20, neighbours: spec.covisitation };
  const manifest: BundleManifest = {
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    snapshot: {
      snapshotId: "test-snapshot",
      manifestKey: "snapshots/test/manifest.json",
      digest: "sha256:test",
    },
    asOf: spec.asOf,
    inputs: MODEL_INPUTS.map((i) => ({
      name: i.name,
      dtype: i.dtype,
      shape: i.name === "numeric" ? [null, features.length] : [...i.shape],
    })),
    numericFeatures: [...features],
    recentReads: RECENT_READS,
    strategy: { kind: "model" },
    candidates: {
      popular: 100,
      covisited: 100,
      contentSimilar: 0,
      scoped: 0,
      freshHours: 48,
      popularityHalfLifeHours: 24,
    },
    files: {
      tfjsModel: BUNDLE_FILES.tfjsModel,
      kerasH5: BUNDLE_FILES.kerasH5,
      vocabularies: BUNDLE_FILES.vocabularies,
      normalisation: BUNDLE_FILES.normalisation,
      popularity: BUNDLE_FILES.popularity,
      covisitation: BUNDLE_FILES.covisitation,
    },
    params: { seed: spec.seed, builder: "api test helper" },
  };
  const write = async (relative: string, value: unknown) => {
    await mkdir(join(dir, relative, ".."), { recursive: true });
    await writeFile(join(dir, relative), JSON.stringify(value));
  };
  await write(BUNDLE_FILES.manifest, { ...manifest, ...spec.manifest });
  await write(BUNDLE_FILES.vocabularies, spec.vocabularies);
  await write(BUNDLE_FILES.normalisation, normalisation);
  await write(BUNDLE_FILES.popularity, popularity);
  await write(BUNDLE_FILES.covisitation, covisitation);
  return manifest;
}

/**
 * Logs `dir` as the artifacts (under `bundle/`) of a finished run, registers it as a new version of
 * `modelName` and, when `alias` is given, points the alias at it. Returns the version.
 */
export async function registerTestBundle(
  client: MlflowClient,
  options: { experiment: string; modelName: string; dir: string; alias?: string },
): Promise<string> {
  const experimentId = await client.getOrCreateExperiment(options.experiment);
  const run = await client.createRun({ experimentId, runName: "api-test-bundle" });
  await client.uploadArtifacts(run.info.run_id, options.dir, "bundle");
  await client.updateRun(run.info.run_id, { status: "FINISHED" });
  const version = await client.registerModel(options.modelName, run.info.run_id, "bundle", {
    wait: { timeoutMs: 30_000, pollMs: 200 },
  });
  if (options.alias !== undefined) await client.setAlias(options.modelName, options.alias, version.version);
  return version.version;
}
