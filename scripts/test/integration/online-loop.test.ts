/**
 * The online loop end to end on the local stack, seeded (issue #19; the session:
 * test/support/online-session.ts). The api's real app serves two registered versions to a generated
 * world's readers, who click by its hidden preferences; each round's impression files are put under
 * `raw/` in the emulator's bucket and ingested by the featstore-engine into `processed/impressions/`;
 * the decision job (`training decide`'s use case) reads them from S3 and moves the aliases of a real
 * MLflow registry, where its decision lands as version tags and a run. (The api's arms are in-memory
 * rankers named by the registered versions: no bundle is trained; the api's loading and swapping of
 * the challenger's bundles is the same ModelLifecycle as the champion's.)
 * The test: α = 0.05, power 0.8 at a ratio of 1.3, maximum sample 1,500 clicks.
 */
import { CHALLENGER_ALIAS, CHAMPION_ALIAS } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestFile } from "../../../featstore-engine/src/app/ingest-file.js";
import {
  createTestEnvironment,
  type TestEnvironment,
} from "../../../featstore-engine/test/integration/support.js";
import { MlflowClient } from "../../../mlflow/src/index.js";
import { MlflowTracker } from "../../../training/src/adapters/mlflow-tracker.js";
import { S3ImpressionLog } from "../../../training/src/adapters/s3-impression-log.js";
import { runOnlineDecision } from "../../../training/src/app/decide-online.js";
import { runSession, type SimulatedWorld, simulatedWorld } from "../support/online-session.js";

const logger = { info: () => undefined, warn: () => undefined };

describe("the online loop on the local stack", () => {
  const environments: TestEnvironment[] = [];
  let mlflow: MlflowClient;
  let tracker: MlflowTracker;
  let world: SimulatedWorld;
  const names: string[] = [];

  beforeAll(async () => {
    // One environment (buckets, tables) per session, so each decision reads its own log only.
    environments.push(
      await createTestEnvironment("online-better"),
      await createTestEnvironment("online-worse"),
    );
    mlflow = new MlflowClient({ trackingUri: (environments[0] as TestEnvironment).endpoints.mlflowUrl });
    tracker = new MlflowTracker(mlflow);
    world = await simulatedWorld();
  }, 300_000);

  afterAll(async () => {
    for (const name of names) {
      await mlflow?.deleteRegisteredModel(name).catch(() => undefined);
      const experiment = await mlflow?.getExperimentByName(name).catch(() => undefined);
      if (experiment !== undefined)
        await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
    }
    for (const t of environments) await t.destroy();
  }, 120_000);

  /** A model with versions 1–3 registered, and a session whose files go through S3 and the engine. */
  async function session(
    t: TestEnvironment,
    label: string,
    champion: Map<string, number>,
    challenger: Map<string, number>,
    seed: number,
    swap: boolean,
  ) {
    const name = `${t.env.prefix}-${label}`;
    names.push(name);
    const runId = await tracker.startRun(name, "versions", {});
    for (let v = 1; v <= 3; v++) await tracker.registerVersion(name, runId, { "gplay.strategy": "test" });
    await tracker.finishRun(runId, "FINISHED");
    const ingest = t.ingestDeps();
    let ingested = 0;
    const result = await runSession(
      world,
      champion,
      challenger,
      seed,
      {
        registry: tracker,
        modelName: name,
        deliver: async (files) => {
          for (const [key, body] of files) {
            await t.putRaw(key, body);
            const outcome = await ingestFile(ingest, { bucket: t.env.buckets.raw, key });
            expect(outcome).toMatchObject({
              status: "ingested",
              kind: "impressions",
              counts: { rowsQuarantined: 0 },
            });
            ingested++;
          }
        },
        decide: () =>
          runOnlineDecision(
            {
              log: new S3ImpressionLog(t.clients.s3, t.env.buckets.processed),
              registry: tracker,
              tracker,
              logger,
            },
            { modelName: name, experimentName: name },
          ),
      },
      swap,
    );
    return { ...result, name, ingested };
  }

  it("promotes a better challenger and refuses a worse one in the registry; a swap under traffic loses nothing", async () => {
    expect(world.trueRatio).toBeGreaterThanOrEqual(1.3);

    const [forBetter, forWorse] = environments as [TestEnvironment, TestEnvironment];
    const better = await session(forBetter, "better", world.bad, world.good, 1, true);
    expect(better.report).toMatchObject({ status: "decided", champion: "3", championAfter: "2" });
    expect((await mlflow.getModelVersionByAlias(better.name, CHAMPION_ALIAS)).version).toBe("2");
    await expect(mlflow.getModelVersionByAlias(better.name, CHALLENGER_ALIAS)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const promoted = await mlflow.getModelVersion(better.name, "2");
    const tags = new Map(promoted.tags.map((tag) => [tag.key, tag.value]));
    expect(tags.get("gplay.online.decision")).toBe("promote");
    expect(tags.get("gplay.online.run_id")).toBe(
      better.report.status === "decided" ? better.report.runId : "",
    );

    // Nothing lost: the processed log holds one served row per response and one click row per click.
    const records: { eventType: string; modelVersion: string }[] = [];
    for await (const r of new S3ImpressionLog(
      forBetter.clients.s3,
      forBetter.env.buckets.processed,
    ).records())
      records.push(r);
    expect(records.filter((r) => r.eventType === "served")).toHaveLength(better.responses);
    expect(records.filter((r) => r.eventType === "click")).toHaveLength(better.clicksSent);
    expect(new Set(records.filter((r) => r.eventType === "served").map((r) => r.modelVersion))).toEqual(
      new Set(["1", "2", "3"]),
    );

    const worse = await session(forWorse, "worse", world.good, world.bad, 2, false);
    expect(worse.report).toMatchObject({ status: "decided", championAfter: "1" });
    expect((await mlflow.getModelVersionByAlias(worse.name, CHAMPION_ALIAS)).version).toBe("1");
    await expect(mlflow.getModelVersionByAlias(worse.name, CHALLENGER_ALIAS)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    process.stdout.write(
      `online loop on the stack: true CTR ratio ${world.trueRatio.toFixed(3)}; promoted after ${better.rounds} rounds (${better.ingested} files ingested), refused after ${worse.rounds}\n`,
    );
  }, 900_000);
});
