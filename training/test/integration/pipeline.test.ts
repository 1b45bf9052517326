/**
 * Generated data → featstore-engine (ingestFile + buildSnapshot, in-process) → training on the
 * local stack (moto S3/DynamoDB + a real MLflow server): runs, metrics, artifacts, registered
 * versions, the promotion gate, rollback, and feature parity between the training and serving paths.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type ArticleFeatureSource,
  articleItemSchema,
  BUNDLE_FILES,
  buildModelInputs,
  bundleManifestSchema,
  bundleWorlds,
  type FeatureContext,
  popularityTableSchema,
  readerProfileFromItem,
  servesRecentBuffer,
  unpackContentVector,
  userItemSchema,
  vocabularyIndex,
} from "@gplay/common";
import { MlflowClient } from "@gplay/mlflow";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { buildSnapshot } from "../../../featstore-engine/src/app/build-snapshot.js";
import { ingestFile } from "../../../featstore-engine/src/app/ingest-file.js";
import {
  createTestEnvironment,
  generate,
  type TestEnvironment,
} from "../../../featstore-engine/test/integration/support.js";
import { readBundle } from "../../src/adapters/bundle-dir.js";
import { DynamoArticleVectors } from "../../src/adapters/dynamo-article-vectors.js";
import { MlflowTracker } from "../../src/adapters/mlflow-tracker.js";
import { S3SnapshotReader } from "../../src/adapters/s3-snapshot-reader.js";
import { loadTrainingData } from "../../src/app/load-data.js";
import { type JobDeps, runTrainingJob } from "../../src/app/run-job.js";
import {
  CHAMPION_ALIAS,
  DEFAULT_TRAIN_CONFIG,
  rollback,
  type TrainConfig,
  type TrainOutcome,
} from "../../src/app/train.js";
import { DEFAULT_COVISITATION } from "../../src/domain/structures.js";
import { buildWorld, servingPopularityName } from "../../src/domain/world.js";
import { inputTensors } from "../../src/model/recommender.js";
import { initTensorflow } from "../../src/tf/backend.js";
import { runKerasScript } from "../keras/python.js";

const silent = { info: () => undefined, warn: () => undefined };

describe("training on the local stack", () => {
  let t: TestEnvironment;
  let mlflow: MlflowClient;
  let tracker: MlflowTracker;
  let deps: JobDeps;
  let config: TrainConfig;
  let work: string;
  const outcomes: TrainOutcome[] = [];

  beforeAll(async () => {
    t = await createTestEnvironment("train");
    work = await mkdtemp(path.join(tmpdir(), "gplay-train-it-"));
    const data = generate({ users: 400, seed: "training-it", days: 4 });
    const ingest = t.ingestDeps();
    for (const [file, body] of [...data.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await t.putRaw(`raw/${file}`, body);
      await ingestFile(ingest, { bucket: t.env.buckets.raw, key: `raw/${file}` });
    }
    const snapshot = await buildSnapshot(t.snapshotDeps());
    expect(snapshot.status).toBe("built");

    mlflow = new MlflowClient({ trackingUri: t.endpoints.mlflowUrl });
    tracker = new MlflowTracker(mlflow);
    const { tf, backend } = await initTensorflow({ prefer: "wasm", log: silent });
    deps = {
      tf,
      backend,
      tracker,
      registry: tracker,
      log: silent,
      snapshots: new S3SnapshotReader(t.clients.s3),
      vectors: new DynamoArticleVectors(t.clients.documents, t.env.tables.items),
    };
    config = {
      ...DEFAULT_TRAIN_CONFIG,
      modelName: `${t.env.prefix}-recommender`,
      experimentName: `${t.env.prefix}-training`,
      epochs: 6,
    };
  }, 300_000);

  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(config.modelName).catch(() => undefined);
    const experiment = await mlflow?.getExperimentByName(config.experimentName).catch(() => undefined);
    if (experiment !== undefined)
      await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
    await t?.destroy();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }, 120_000);

  it("the first run logs metrics, loss curves, lineage and the bundle, registers a version and becomes champion", async () => {
    const outcome = await runTrainingJob(deps, { bucket: t.env.buckets.processed }, config);
    outcomes.push(outcome);
    expect(outcome.decision).toEqual({ promote: true, reason: "first-model" });
    expect(outcome.version).toBe("1");

    const run = await mlflow.getRun(outcome.runId as string);
    const metrics = new Map(run.data.metrics.map((m) => [m.key, m.value]));
    for (const key of [
      "test.model.all.ndcg10",
      "test.model.history.hr10",
      "test.model.cold.recall10",
      "test.model.all.mrr",
      "test.model.all.coverage",
      "test.model.all.novelty",
      "test.baseline.popularity.all.ndcg10",
      "test.baseline.recent-buffer.history.ndcg10",
      "test.tiers.candidate_recall.all",
      "validacao.tiers.served_share.popular",
      "test.baseline.covisitation.all.ndcg10",
      "validacao.model.all.ndcg10",
    ])
      expect(metrics.has(key)).toBe(true);
    const loss = await mlflow.getMetricHistory(outcome.runId as string, "loss");
    expect(loss.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const tags = new Map(run.data.tags.map((tag) => [tag.key, tag.value]));
    expect(tags.get("gplay.gate.outcome")).toBe("promoted");
    expect(run.inputs?.dataset_inputs?.[0]?.dataset.name).toMatch(/^snap-/);

    const files = (await mlflow.listArtifacts(outcome.runId as string, "models")).map((f) => f.path);
    expect(files).toContain("models/model.h5");
    const evaluation = (await mlflow.listArtifacts(outcome.runId as string, "evaluation")).map((f) => f.path);
    expect(evaluation).toEqual(
      expect.arrayContaining([
        "evaluation/metrics.svg",
        "evaluation/metrics-history.svg",
        "evaluation/metrics-cold.svg",
        "evaluation/segments.md",
        "evaluation/loss.svg",
        "evaluation/report.json",
      ]),
    );
    expect(await tracker.aliasVersion(config.modelName, CHAMPION_ALIAS)).toBe("1");
    const production = await mlflow.getLatestVersions(config.modelName, ["Production"]);
    expect(production.map((v) => v.version)).toEqual(["1"]);
  }, 300_000);

  it("a deliberately weaker model (untrained) is registered but not promoted; the champion is served again in the new world", async () => {
    const outcome = await runTrainingJob(deps, { bucket: t.env.buckets.processed }, { ...config, epochs: 0 });
    outcomes.push(outcome);
    expect(outcome.decision).toEqual({ promote: false, reason: "below-champion" });
    expect(outcome.championVersion).toBe("1");
    expect(outcome.evaluation.model.all.ndcg10).toBeLessThan(outcomes[0]?.evaluation.model.all.ndcg10 ?? 0);
    const version = await mlflow.getModelVersion(config.modelName, outcome.version as string);
    expect(version.tags?.find((tag) => tag.key === "gplay.gate.decision")?.value).toBe("reject");
    // Version 3: version 1's network with this run's candidate tables, now the champion.
    expect(outcome.promotedVersion).toBe("3");
    expect(await tracker.aliasVersion(config.modelName, CHAMPION_ALIAS)).toBe("3");
    const refreshed = await mlflow.getModelVersion(config.modelName, "3");
    expect(refreshed.tags?.find((tag) => tag.key === "gplay.refreshed_from")?.value).toBe("1");
    const dir = path.join(work, "refreshed");
    await tracker.downloadVersion(config.modelName, "3", dir);
    const manifest = bundleManifestSchema.parse(
      JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8")),
    );
    expect(manifest.params.refreshed_from).toBe("1");
    expect(manifest.strategy).toEqual({ kind: "model" });
    // Its params name the popularity this run serves, and a buffer or a window comes with what advancing it needs.
    const popularity = popularityTableSchema.parse(
      JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.popularity), "utf8")),
    );
    const chosen = outcome.evaluation.tuned.servingPopularity;
    expect(manifest.params.serving_popularity).toBe(servingPopularityName(chosen));
    expect(popularity.buffer !== undefined || popularity.window !== undefined).toBe(
      servesRecentBuffer(manifest),
    );
    expect(popularity.window?.minutes).toBe(chosen.kind === "window" ? chosen.minutes : undefined);
  }, 300_000);

  it("rollback moves the champion alias and the Production stage to the given version", async () => {
    const { previous } = await rollback(tracker, config.modelName, "2");
    expect(previous).toBe("3");
    expect(await tracker.aliasVersion(config.modelName, CHAMPION_ALIAS)).toBe("2");
    const production = await mlflow.getLatestVersions(config.modelName, ["Production"]);
    expect(production.map((v) => v.version)).toEqual(["2"]);
  }, 60_000);

  it("a better model than the (rolled-back, weaker) champion is promoted after re-evaluating it", async () => {
    const outcome = await runTrainingJob(deps, { bucket: t.env.buckets.processed }, config);
    expect(outcome.championVersion).toBe("2");
    expect(outcome.championNdcg).toBeCloseTo(outcomes[1]?.evaluation.model.all.ndcg10 ?? -1, 10);
    expect(outcome.decision).toEqual({ promote: true, reason: "beats-champion" });
    expect(await tracker.aliasVersion(config.modelName, CHAMPION_ALIAS)).toBe(outcome.version);
  }, 300_000);

  it("the feature builder gives identical tensors in the training path and the serving path", async () => {
    const dir = path.join(work, "bundle");
    await tracker.downloadVersion(config.modelName, outcomes[0]?.version as string, dir);
    const manifest = bundleManifestSchema.parse(
      JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8")),
    );
    const bundle = await readBundle(deps.tf, dir);
    bundle.model.dispose();

    // Training path: Parquet partitions through the manifest, the world at the bundle's cut.
    const snapshots = new S3SnapshotReader(t.clients.s3);
    const data = await loadTrainingData(
      snapshots,
      deps.vectors,
      await snapshots.readManifest(t.env.buckets.processed, manifest.snapshot.manifestKey),
    );
    // The bundle's serving popularity (decayed, a buffer of the latest reads or a window of minutes), as training chose it.
    const serving = /^(buffer|window):(\d+)$/.exec(String(manifest.params.serving_popularity ?? ""));
    const world = buildWorld(
      data,
      manifest.asOf + 1,
      vocabularyIndex(bundle.vocabularies),
      manifest.candidates,
      DEFAULT_COVISITATION,
      undefined,
      {
        asOf: manifest.asOf,
        popularity:
          serving === null
            ? { kind: "decayed" }
            : serving[1] === "window"
              ? { kind: "window", minutes: Number(serving[2]) }
              : { kind: "buffer", reads: Number(serving[2]) },
      },
    );
    const trainingContext: FeatureContext = { ...world.context, normalisation: bundle.normalisation };

    // Serving path: DynamoDB items and users as the API reads them, the bundle's structures.
    const items = new Map<string, ArticleFeatureSource>();
    for (const raw of await t.scanTable("items")) {
      const a = articleItemSchema.parse(raw);
      items.set(a.page, {
        page: a.page,
        section: a.section,
        region: a.region,
        issued: a.issued,
        vector: unpackContentVector(a.vector),
      });
    }
    // The world the api builds from the bundle over the items it loaded (every read of a reader counts).
    const served = bundleWorlds(bundle)({ get: (page) => items.get(page), entries: () => items.values() });
    const servingContext: FeatureContext = {
      ...served.features,
      vocab: vocabularyIndex(bundle.vocabularies),
      normalisation: bundle.normalisation,
    };
    const users = (await t.scanTable("users")).map((u) => userItemSchema.parse(u)).slice(0, 40);
    expect(users.length).toBeGreaterThan(10);
    const pages = [...items.keys()].slice(0, 60);
    for (const user of users) {
      const offline = buildModelInputs(world.profile(user.userId), pages, trainingContext);
      const online = buildModelInputs(readerProfileFromItem(user, servingContext), pages, servingContext);
      expect(online).toEqual(offline);
    }
  }, 300_000);

  it("the registered bundle's models/model.h5 predicts like its TF.js model in Keras 3", async () => {
    const dir = path.join(work, "bundle-h5");
    await tracker.downloadVersion(config.modelName, outcomes[0]?.version as string, dir);
    const bundle = await readBundle(deps.tf, dir);
    const rows = 50;
    const section = Int32Array.from({ length: rows }, (_, i) => i % (bundle.vocabularies.section.length + 1));
    const region = Int32Array.from(
      { length: rows },
      (_, i) => (i * 7) % (bundle.vocabularies.region.length + 1),
    );
    const numeric = Float32Array.from(
      { length: rows * bundle.normalisation.mean.length },
      (_, i) => Math.sin(i) * 2,
    );
    const feeds = {
      article_section: Array.from(section, (v) => [v]),
      article_region: Array.from(region, (v) => [v]),
      numeric: Array.from({ length: rows }, (_, r) =>
        Array.from(
          numeric.subarray(r * bundle.normalisation.mean.length, (r + 1) * bundle.normalisation.mean.length),
        ),
      ),
    };
    const inputsFile = path.join(work, "h5-inputs.json");
    await writeFile(inputsFile, JSON.stringify(feeds));
    const keras = JSON.parse(
      await runKerasScript("predict_h5.py", [path.join(dir, BUNDLE_FILES.kerasH5), inputsFile], {
        kerasBackend: "numpy",
      }),
    ) as { predictions: number[][] };
    const x = inputTensors(deps.tf, { rows, article_section: section, article_region: region, numeric });
    const tfjs = (await (
      bundle.model.predict(x) as ReturnType<typeof deps.tf.tensor2d>
    ).array()) as number[][];
    deps.tf.dispose(x);
    bundle.model.dispose();
    const diff = Math.max(
      ...keras.predictions.map((row, i) => Math.abs((row[0] ?? 0) - (tfjs[i]?.[0] ?? Number.NaN))),
    );
    expect(keras.predictions).toHaveLength(rows);
    expect(diff).toBeLessThan(1e-5);
  }, 180_000);
});
