import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Cleanup, newClient, uniqueName } from "./support/mlflow.js";

const client = newClient();
const cleanup = new Cleanup(client);
let dir: string;
let experimentId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gplay-mlflow-registry-"));
  experimentId = cleanup.experiment(await client.createExperiment(uniqueName("registry")));
});
afterAll(async () => {
  await cleanup.run();
  await rm(dir, { recursive: true, force: true });
});

/** A finished training run whose artifacts hold `model/MLmodel` saying which fit it was. */
async function trainedRun(label: string): Promise<string> {
  const run = await client.createRun({ experimentId, runName: label });
  const file = join(dir, `${label}-MLmodel`);
  await writeFile(file, `trained-by: ${label}\n`);
  await client.uploadArtifact(run.info.run_id, file, { asPath: "model/MLmodel" });
  await client.updateRun(run.info.run_id, { status: "FINISHED" });
  return run.info.run_id;
}

describe("registered models and versions", () => {
  it("creates a version whose source is the run's artifact path, sent with run_id, and waits for READY", async () => {
    const name = cleanup.model(uniqueName("model"));
    const created = await client.createRegisteredModel(name, {
      description: "news ranker",
      tags: { owner: "recsys" },
    });
    expect(created).toMatchObject({
      name,
      description: "news ranker",
      tags: [{ key: "owner", value: "recsys" }],
    });

    const runId = await trainedRun("v1");
    const source = await client.runArtifactUri(runId, "model");
    expect(source).toMatch(new RegExp(`^mlflow-artifacts:/.*/${runId}/artifacts/model$`));
    const mv = await client.createModelVersion({ name, source, runId, tags: { "gplay.auc": "0.71" } });
    expect(mv).toMatchObject({ name, version: "1", source, run_id: runId });

    const ready = await client.waitForModelVersionReady(name, mv.version, { timeoutMs: 30_000, pollMs: 200 });
    expect(ready.status).toBe("READY");
    expect(ready.tags).toContainEqual({ key: "gplay.auc", value: "0.71" });
    await expect(client.createRegisteredModel(name)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("registerModel creates the registered model when missing and numbers versions", async () => {
    const name = cleanup.model(uniqueName("register"));
    const v1 = await client.registerModel(name, await trainedRun("r1"), "model");
    const v2 = await client.registerModel(name, await trainedRun("r2"), "model");
    expect([v1.version, v2.version]).toEqual(["1", "2"]);
    expect((await client.getRegisteredModel(name)).name).toBe(name);
  });

  it("reports an unknown model and an unknown version as NOT_FOUND", async () => {
    const missing = uniqueName("missing");
    await expect(client.getRegisteredModel(missing)).rejects.toMatchObject({
      code: "NOT_FOUND",
      details: expect.objectContaining({ errorCode: "RESOURCE_DOES_NOT_EXIST" }),
    });
    await expect(client.resolveModelUri(`models:/${missing}@champion`)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(client.downloadModel(`models:/${missing}/Production`, join(dir, "x"))).rejects.toMatchObject(
      {
        code: "NOT_FOUND",
      },
    );
    const name = cleanup.model(uniqueName("no-v9"));
    await client.createRegisteredModel(name);
    await expect(client.getModelVersion(name, 9)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("aliases (the source of truth) and stages (deprecated, kept for models:/<name>/Production)", () => {
  it("sets, reads, moves and deletes an alias; an alias not set is NOT_FOUND", async () => {
    const name = cleanup.model(uniqueName("alias"));
    const v1 = await client.registerModel(name, await trainedRun("a1"), "model");
    const v2 = await client.registerModel(name, await trainedRun("a2"), "model");

    await client.setAlias(name, "champion", v1.version);
    await client.setAlias(name, "champion", v1.version); // idempotent
    expect((await client.getModelVersionByAlias(name, "champion")).version).toBe("1");
    await client.setAlias(name, "champion", v2.version);
    const current = await client.getModelVersionByAlias(name, "champion");
    expect(current).toMatchObject({ version: "2", aliases: ["champion"] });
    expect((await client.getRegisteredModel(name)).aliases).toEqual([{ alias: "champion", version: "2" }]);

    await client.deleteAlias(name, "champion");
    const error = await client.getModelVersionByAlias(name, "champion").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: "NOT_FOUND",
      details: expect.objectContaining({ alias: "champion" }),
    });
    await expect(client.resolveModelUri(`models:/${name}@champion`)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("moves a version to Production archiving the previous one", async () => {
    const name = cleanup.model(uniqueName("stage"));
    const v1 = await client.registerModel(name, await trainedRun("s1"), "model");
    const v2 = await client.registerModel(name, await trainedRun("s2"), "model");
    expect((await client.transitionModelVersionStage(name, v1.version, "Production")).current_stage).toBe(
      "Production",
    );
    await client.transitionModelVersionStage(name, v2.version, "Production", true);
    expect((await client.getModelVersion(name, v1.version)).current_stage).toBe("Archived");
    const latest = await client.getLatestVersions(name, ["Production"]);
    expect(latest.map((v) => v.version)).toEqual(["2"]);
    await expect(client.resolveModelUri(`models:/${name}/Staging`)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("models:/ URIs", () => {
  it("resolves alias, stage, version and latest URIs and downloads the right files", async () => {
    const name = cleanup.model(uniqueName("resolve"));
    const v1 = await client.registerModel(name, await trainedRun("m1"), "model");
    const v2 = await client.registerModel(name, await trainedRun("m2"), "model");
    await client.setAlias(name, "champion", v1.version);
    await client.transitionModelVersionStage(name, v2.version, "Production", true);

    const byAlias = await client.resolveModelUri(`models:/${name}@champion`);
    expect(byAlias).toMatchObject({ name, version: "1", reference: { kind: "alias" } });
    expect(byAlias.artifactUri).toBe(v1.source);
    expect(byAlias.proxyPath).toMatch(/\/artifacts\/model$/);
    expect((await client.resolveModelUri(`models:/${name}/production`)).version).toBe("2");
    expect((await client.resolveModelUri(`models:/${name}/1`)).version).toBe("1");
    expect((await client.resolveModelUri(`models:/${name}/latest`)).version).toBe("2");

    const champion = await client.downloadModel(`models:/${name}@champion`, join(dir, "champion"));
    expect(champion.files).toEqual(["MLmodel"]);
    expect(await readFile(join(dir, "champion", "MLmodel"), "utf8")).toBe("trained-by: m1\n");
    const production = await client.downloadModel(`models:/${name}/Production`, join(dir, "production"));
    expect(await readFile(join(production.localDir, "MLmodel"), "utf8")).toBe("trained-by: m2\n");
  });

  it("rolls the Production alias back to the previous version", async () => {
    const name = cleanup.model(uniqueName("rollback"));
    const v1 = await client.registerModel(name, await trainedRun("good"), "model");
    const v2 = await client.registerModel(name, await trainedRun("bad"), "model");
    await client.setAlias(name, "production", v2.version);
    await client.setAlias(name, "production", v1.version);
    const rolledBack = await client.downloadModel(`models:/${name}@production`, join(dir, "rollback"));
    expect(rolledBack.version).toBe("1");
    expect(await readFile(join(rolledBack.localDir, "MLmodel"), "utf8")).toBe("trained-by: good\n");
  });

  it("refuses a malformed URI as VALIDATION_FAILED before calling the server", async () => {
    await expect(client.resolveModelUri("runs:/abc/model")).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await expect(client.resolveModelUri("models:/ranker/Shipping")).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });
});
