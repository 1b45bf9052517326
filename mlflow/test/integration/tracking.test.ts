import { AppError } from "@gplay/common";
import { afterAll, describe, expect, it } from "@jest/globals";
import type { MetricEntry } from "../../src/index.js";
import { Cleanup, newClient, uniqueName } from "./support/mlflow.js";

const client = newClient();
const cleanup = new Cleanup(client);
afterAll(() => cleanup.run());

describe("experiments", () => {
  it("creates an experiment, finds it by name, and refuses a second one with the same name", async () => {
    const name = uniqueName("exp");
    const id = cleanup.experiment(await client.createExperiment(name, { tags: { team: "recsys" } }));
    const found = await client.getExperimentByName(name);
    expect(found.experiment_id).toBe(id);
    expect(found.tags).toContainEqual({ key: "team", value: "recsys" });
    expect(found.artifact_location).toMatch(/^mlflow-artifacts:/);
    await expect(client.createExperiment(name)).rejects.toMatchObject({
      code: "CONFLICT",
      details: expect.objectContaining({ errorCode: "RESOURCE_ALREADY_EXISTS" }),
    });
  });

  it("reports an unknown experiment name as NOT_FOUND with the server's error code and message", async () => {
    const error = await client.getExperimentByName(uniqueName("missing")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "NOT_FOUND", details: { errorCode: "RESOURCE_DOES_NOT_EXIST" } });
    expect((error as AppError).message).toMatch(/Could not find experiment/i);
  });

  it("getOrCreateExperiment creates once and then returns the same id", async () => {
    const name = uniqueName("get-or-create");
    const first = cleanup.experiment(await client.getOrCreateExperiment(name));
    expect(await client.getOrCreateExperiment(name)).toBe(first);
    expect((await client.getExperiment(first)).name).toBe(name);
  });
});

describe("runs", () => {
  it("creates a run, updates its status to FINISHED with an end time", async () => {
    const experimentId = cleanup.experiment(await client.createExperiment(uniqueName("runs")));
    const run = await client.createRun({
      experimentId,
      runName: "fit-1",
      tags: { "mlflow.source.type": "JOB" },
    });
    expect(run.info.status).toBe("RUNNING");
    expect(run.info.run_name).toBe("fit-1");
    expect(run.data.tags).toContainEqual({ key: "mlflow.source.type", value: "JOB" });

    const info = await client.updateRun(run.info.run_id, { status: "FINISHED" });
    expect(info.status).toBe("FINISHED");
    expect(info.end_time).toBeGreaterThanOrEqual(run.info.start_time ?? 0);
    expect((await client.getRun(run.info.run_id)).info.status).toBe("FINISHED");
  });

  it("logs 2500 metrics, 250 params and 150 tags in batches within the server's limits", async () => {
    const experimentId = cleanup.experiment(await client.createExperiment(uniqueName("batch")));
    const run = await client.createRun({ experimentId });
    const now = Date.now();
    const metrics: MetricEntry[] = Array.from({ length: 2500 }, (_, step) => ({
      key: "loss",
      value: 1 / (step + 1),
      timestamp: now + step,
      step,
    }));
    metrics.push({ key: "diverged", value: Number.NaN, timestamp: now, step: 0 });
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, `value-${i}`]));
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, "x".repeat(2_000)]));

    const requests = await client.logBatch(run.info.run_id, { metrics, params, tags });
    expect(requests).toBeGreaterThanOrEqual(3);

    const history = await client.getMetricHistory(run.info.run_id, "loss");
    expect(history).toHaveLength(2500);
    expect(history[2499]).toMatchObject({ step: 2499, value: 1 / 2500 });
    const stored = await client.getRun(run.info.run_id);
    expect(stored.data.params).toHaveLength(250);
    expect(stored.data.params).toContainEqual({ key: "p249", value: "value-249" });
    expect(stored.data.tags.filter((t) => /^t[0-9]+$/.test(t.key))).toHaveLength(150);
    expect(stored.data.metrics.find((m) => m.key === "diverged")?.value).toBeNaN();

    // Sending the same values again is accepted: log-batch is safe to retry.
    await expect(client.logBatch(run.info.run_id, { params: { p0: "value-0" } })).resolves.toBe(1);
  });

  it("splits by size: 100 params of 6000 chars and 100 tags of 7000 chars (1.3 MB) go as 2 requests", async () => {
    const experimentId = cleanup.experiment(await client.createExperiment(uniqueName("batch-bytes")));
    const run = await client.createRun({ experimentId });
    const params = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`big${i}`, `${i}`.padEnd(6000, "p")]),
    );
    const tags = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`tag${i}`, `${i}`.padEnd(7000, "t")]),
    );
    expect(await client.logBatch(run.info.run_id, { params, tags })).toBe(2);
    const stored = await client.getRun(run.info.run_id);
    expect(stored.data.params).toHaveLength(100);
    expect(stored.data.params.find((p) => p.key === "big99")?.value).toHaveLength(6000);
    expect(stored.data.tags.filter((t) => t.key.startsWith("tag"))).toHaveLength(100);
  });

  it("refuses to change a logged param, as VALIDATION_FAILED with the server's message", async () => {
    const experimentId = cleanup.experiment(await client.createExperiment(uniqueName("param-change")));
    const run = await client.createRun({ experimentId });
    await client.logBatch(run.info.run_id, { params: { lr: "0.1" } });
    await expect(client.logBatch(run.info.run_id, { params: { lr: "0.2" } })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: expect.objectContaining({ errorCode: "INVALID_PARAMETER_VALUE" }),
    });
  });

  it("records dataset lineage with log-inputs", async () => {
    const experimentId = cleanup.experiment(await client.createExperiment(uniqueName("inputs")));
    const run = await client.createRun({ experimentId });
    const dataset = {
      name: "g1-interactions-2026-11-27",
      digest: "9f86d081",
      source_type: "s3",
      source: JSON.stringify({ uri: "s3://gplay-lake/processed/dt=2026-11-27/" }),
      schema: JSON.stringify({ columns: ["userId", "history"] }),
    };
    await client.logInputs(run.info.run_id, [{ dataset, tags: { "mlflow.data.context": "training" } }]);
    const stored = await client.getRun(run.info.run_id);
    expect(stored.inputs.dataset_inputs).toHaveLength(1);
    expect(stored.inputs.dataset_inputs[0]).toEqual({
      dataset,
      tags: [{ key: "mlflow.data.context", value: "training" }],
    });
  });

  it("reports an unknown run as NOT_FOUND", async () => {
    await expect(client.getRun("0".repeat(32))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
