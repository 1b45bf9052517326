/**
 * The deployed training bundle (scripts/ci/deploy-bundle.sh, the Dockerfile's build step), run as
 * the container runs it: `node dist/main.js` with only the task's environment, on the image's native
 * TensorFlow backend.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processedKeys, SNAPSHOT_OVERRIDE_VARS } from "@gplay/common";
import { MlflowClient } from "@gplay/mlflow";
import { deployBundle, runDeployedEntrypoint, stackEnvironment } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { buildSnapshot } from "../../../featstore-engine/src/app/build-snapshot.js";
import { ingestFile } from "../../../featstore-engine/src/app/ingest-file.js";
import {
  createTestEnvironment,
  generate,
  type TestEnvironment,
} from "../../../featstore-engine/test/integration/support.js";

describe("the deployed training bundle, run as the container runs it", () => {
  let dir: string;
  let bundle: string;
  let t: TestEnvironment;
  let mlflow: MlflowClient;
  let modelName: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gplay-training-bundle-"));
    bundle = join(dir, "app");
    await deployBundle("training", bundle, { withTfjsNode: true });
    t = await createTestEnvironment("trainbundle");
    modelName = `${t.env.prefix}-recommender`;
    mlflow = new MlflowClient({ trackingUri: t.endpoints.mlflowUrl });
  }, 300_000);

  afterAll(async () => {
    await mlflow?.deleteRegisteredModel(modelName).catch(() => undefined);
    const experiment = await mlflow?.getExperimentByName(modelName).catch(() => undefined);
    if (experiment !== undefined)
      await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
    await t?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it("fails with exit 1 and one message naming every bad variable", async () => {
    const result = await runDeployedEntrypoint(bundle, {
      GPLAY_PREFIX: "X",
      MLFLOW_TRACKING_URI: "nope",
      GPLAY_TRAIN_EPOCHS: "-1",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("Invalid configuration");
    // The failure is counted for the TrainingFailures alarm (EMF on stdout).
    expect(result.stdout).toContain('"TrainingFailures":1');
    for (const key of ["GPLAY_PREFIX", "MLFLOW_TRACKING_URI", "GPLAY_TRAIN_EPOCHS"])
      expect(result.stdout).toContain(key);
  }, 60_000);

  it("trains on the snapshot named by the container overrides, registers a version and exits 0", async () => {
    const data = generate({ users: 200, seed: "training-bundle", days: 4 });
    const ingest = t.ingestDeps();
    for (const [file, body] of [...data.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await t.putRaw(`raw/${file}`, body);
      await ingestFile(ingest, { bucket: t.env.buckets.raw, key: `raw/${file}` });
    }
    const snapshot = await buildSnapshot(t.snapshotDeps());
    if (snapshot.status !== "built") throw new Error(`snapshot ${snapshot.status}`);
    const result = await runDeployedEntrypoint(bundle, {
      ...stackEnvironment(t.endpoints),
      GPLAY_PREFIX: t.env.prefix,
      GPLAY_MODEL_NAME: modelName,
      GPLAY_EXPERIMENT_NAME: modelName,
      GPLAY_TRAIN_EPOCHS: "2",
      GPLAY_TF_BACKEND: "node",
      [SNAPSHOT_OVERRIDE_VARS.bucket]: t.env.buckets.processed,
      [SNAPSHOT_OVERRIDE_VARS.manifestKey]: processedKeys.snapshotManifest(snapshot.manifest.snapshotId),
      [SNAPSHOT_OVERRIDE_VARS.snapshotId]: snapshot.manifest.snapshotId,
      [SNAPSHOT_OVERRIDE_VARS.eventId]: "event-1",
    });
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringMatching(/Error/),
    });
    // The image's native TensorFlow (tfjs-node built against the tensorflow-cpu wheel) runs the job.
    expect(result.stdout).toMatch(/"backend":"tensorflow"[^\n]*"msg":"tensorflow.js backend ready"/);
    expect(result.stdout).toContain('"msg":"epoch"');
    expect(result.stdout).toContain('"msg":"training run finished"');
    expect(result.stdout).toMatch(/"ModelPromoted":[01]/);
    expect(result.stdout).toContain('"Namespace":"GPlayRecommend"');
    const version = await mlflow.getModelVersion(modelName, "1");
    expect(version.tags?.find((tag) => tag.key === "gplay.gate.decision")?.value).toMatch(
      /^(promote|reject)$/,
    );
  }, 300_000);
});
