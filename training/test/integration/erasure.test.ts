/**
 * Erasure against training (issue #20): after a training run has logged its artifacts to MLflow,
 * erasing readers scans those artifacts too (they name no reader: nothing to redact), every store
 * verifies clean, and the next snapshot trains without the erased readers.
 */
import { lakeBucketNames } from "@gplay/common";
import { MlflowClient } from "@gplay/mlflow";
import { LOCAL_STACK_PREFIX } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DynamoErasureTables } from "../../../featstore-engine/src/adapters/dynamo-erasure-tables.js";
import { S3VersionedStore } from "../../../featstore-engine/src/adapters/s3-versioned-store.js";
import { buildSnapshot } from "../../../featstore-engine/src/app/build-snapshot.js";
import { eraseReaders } from "../../../featstore-engine/src/app/erase.js";
import { ingestFile } from "../../../featstore-engine/src/app/ingest-file.js";
import {
  createTestEnvironment,
  generate,
  silentLogger,
  type TestEnvironment,
} from "../../../featstore-engine/test/integration/support.js";
import { DynamoArticleVectors } from "../../src/adapters/dynamo-article-vectors.js";
import { MlflowTracker } from "../../src/adapters/mlflow-tracker.js";
import { S3SnapshotReader } from "../../src/adapters/s3-snapshot-reader.js";
import { loadTrainingData } from "../../src/app/load-data.js";
import { type JobDeps, runTrainingJob } from "../../src/app/run-job.js";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "../../src/app/train.js";
import { initTensorflow } from "../../src/tf/backend.js";

const silent = { info: () => undefined, warn: () => undefined };
const TIMEOUT = 900_000;

describe("training around an erasure", () => {
  let t: TestEnvironment;
  let mlflow: MlflowClient;
  let deps: JobDeps;
  let config: TrainConfig;
  let readers: string[];

  beforeAll(async () => {
    t = await createTestEnvironment("erase-train");
    const data = generate({ users: 300, seed: "erasure-training", days: 3 });
    const tables = new DynamoErasureTables(t.clients.documents, t.env.tables);
    const ingest = {
      ...t.ingestDeps(),
      erasure: { ledger: tables, versions: new S3VersionedStore(t.clients.s3) },
    };
    for (const [file, body] of [...data.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await t.putRaw(`raw/${file}`, body);
      await ingestFile(ingest, { bucket: t.env.buckets.raw, key: `raw/${file}` });
    }
    expect((await buildSnapshot(t.snapshotDeps())).status).toBe("built");
    const treino = [...data.files].filter(([k]) => k.startsWith("treino/")).map(([, body]) => body);
    readers = [
      ...new Set(treino.flatMap((b) => [...b.matchAll(/^([0-9a-f]{64}),/gm)].map((m) => m[1] as string))),
    ].slice(0, 10);
    mlflow = new MlflowClient({ trackingUri: t.endpoints.mlflowUrl });
    const tracker = new MlflowTracker(mlflow);
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
      epochs: 2,
    };
  }, TIMEOUT);

  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(config.modelName).catch(() => undefined);
    const experiment = await mlflow?.getExperimentByName(config.experimentName).catch(() => undefined);
    if (experiment !== undefined)
      await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
    await t?.destroy();
  }, 120_000);

  it(
    "scans the run's MLflow artifacts (none names a reader), verifies every store clean, and trains again without the readers",
    async () => {
      const first = await runTrainingJob(deps, { bucket: t.env.buckets.processed }, config);
      expect(first.runId).toBeDefined();

      const tables = new DynamoErasureTables(t.clients.documents, t.env.tables);
      const result = await eraseReaders(
        {
          versions: new S3VersionedStore(t.clients.s3),
          ledger: tables,
          tables,
          // Locally MLflow keeps every run's artifacts in the stack's own models bucket.
          buckets: { ...t.env.buckets, models: lakeBucketNames(LOCAL_STACK_PREFIX).models },
          logger: silentLogger,
          snapshot: async () => {
            const r = await buildSnapshot(t.snapshotDeps());
            return r.status === "built" ? r.manifest.snapshotId : undefined;
          },
        },
        { userIds: readers },
      );
      expect(result.readers).toBe(10);
      expect(result.audit.stores["mlflow-artifacts"].scanned).toBeGreaterThan(0);
      expect(result.audit.stores["mlflow-artifacts"].rewritten).toBe(0);
      expect(Object.values(result.audit.verification)).toEqual(
        Object.values(result.audit.verification).map(() => 0),
      );
      expect(result.audit.snapshotId).toBeDefined();

      const manifestKey = await deps.snapshots.latestManifestKey(t.env.buckets.processed);
      const manifest = await deps.snapshots.readManifest(t.env.buckets.processed, manifestKey);
      expect(manifest.snapshotId).toBe(result.audit.snapshotId);
      const training = await loadTrainingData(deps.snapshots, deps.vectors, manifest);
      expect(training.readers.size).toBeGreaterThan(0);
      for (const id of readers) expect(training.readers.has(id)).toBe(false);

      const second = await runTrainingJob(deps, { bucket: t.env.buckets.processed }, config);
      expect(second.runId).toBeDefined();
      expect(second.runId).not.toBe(first.runId);
    },
    TIMEOUT,
  );
});
