import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError } from "@gplay/common";
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import { MlflowClient } from "../../src/index.js";
import { closedPort, type FaultyProxy, startFaultyProxy } from "./support/faulty-proxy.js";
import { Cleanup, newClient, trackingUri, uniqueName } from "./support/mlflow.js";

const direct = newClient();
const cleanup = new Cleanup(direct);
const proxies: FaultyProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(() => cleanup.run());

async function proxy(options: Parameters<typeof startFaultyProxy>[1]): Promise<FaultyProxy> {
  const p = await startFaultyProxy(trackingUri(), options);
  proxies.push(p);
  return p;
}

const fastRetries = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 };

describe("retries and failures", () => {
  it("retries a GET answered 503 twice, then succeeds against the real server", async () => {
    const name = uniqueName("retry-get");
    cleanup.experiment(await direct.createExperiment(name));
    const p = await proxy({ failFirst: 2, status: 503 });
    const client = new MlflowClient({ trackingUri: p.url, retry: fastRetries });
    expect((await client.getExperimentByName(name)).name).toBe(name);
    expect(p.requests).toHaveLength(3);
    expect(new Set(p.requests).size).toBe(1);
  });

  it("retries an idempotent set (set-alias) after a 502 and the alias is set once", async () => {
    const experimentId = cleanup.experiment(await direct.createExperiment(uniqueName("retry-alias")));
    const run = await direct.createRun({ experimentId });
    const name = cleanup.model(uniqueName("retry-alias"));
    await direct.createRegisteredModel(name);
    await direct.createModelVersion({
      name,
      source: await direct.runArtifactUri(run.info.run_id, "model"),
      runId: run.info.run_id,
    });
    const p = await proxy({ failFirst: 1, status: 502 });
    const client = new MlflowClient({ trackingUri: p.url, retry: fastRetries });
    await client.setAlias(name, "champion", 1);
    expect(p.requests.filter((r) => r.startsWith("POST"))).toHaveLength(2);
    expect((await direct.getModelVersionByAlias(name, "champion")).version).toBe("1");
  });

  it("honours 429 with Retry-After as RATE_LIMITED, retried", async () => {
    const name = uniqueName("retry-429");
    cleanup.experiment(await direct.createExperiment(name));
    const p = await proxy({ failFirst: 1, status: 429, headers: { "Retry-After": "0" } });
    const client = new MlflowClient({ trackingUri: p.url, retry: fastRetries });
    expect((await client.getExperimentByName(name)).name).toBe(name);
    expect(p.requests).toHaveLength(2);
  });

  it("never repeats create-run after a 503: one request, UPSTREAM_UNAVAILABLE, no duplicate run", async () => {
    const experimentId = cleanup.experiment(await direct.createExperiment(uniqueName("no-retry-create")));
    const p = await proxy({ failFirst: 1, status: 503 });
    const client = new MlflowClient({ trackingUri: p.url, retry: fastRetries });
    const error = await client.createRun({ experimentId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      details: expect.objectContaining({ httpStatus: 503 }),
    });
    expect(p.requests).toEqual(["POST /api/2.0/mlflow/runs/create"]);
  });

  it("gives up on a server that is down with UPSTREAM_UNAVAILABLE after a bounded number of attempts", async () => {
    const port = await closedPort();
    const client = new MlflowClient({ trackingUri: `http://127.0.0.1:${port}`, retry: fastRetries });
    const started = Date.now();
    const error = await client.getExperimentByName("anything").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      details: expect.objectContaining({ errorCode: "ECONNREFUSED", attempts: 4 }),
    });
    expect((error as AppError).message).toMatch(/gave up after 4 attempts/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("keeps failing 5xx bounded: 4 attempts then UPSTREAM_UNAVAILABLE with the server's code", async () => {
    const p = await proxy({ failFirst: 100, status: 500 });
    const client = new MlflowClient({ trackingUri: p.url, retry: fastRetries });
    await expect(client.getRegisteredModel("x")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      details: expect.objectContaining({ errorCode: "TEMPORARILY_UNAVAILABLE", attempts: 4 }),
    });
    expect(p.requests).toHaveLength(4);
  });

  it("times out a hung request as TIMEOUT, then succeeds on the retry", async () => {
    const name = uniqueName("timeout");
    cleanup.experiment(await direct.createExperiment(name));
    const p = await proxy({ failFirst: 1, hangMs: 5_000 });
    const client = new MlflowClient({ trackingUri: p.url, timeoutMs: 300, retry: fastRetries });
    expect((await client.getExperimentByName(name)).name).toBe(name);
    expect(p.requests).toHaveLength(2);

    const p2 = await proxy({ failFirst: 1, hangMs: 5_000 });
    const noRetry = new MlflowClient({ trackingUri: p2.url, timeoutMs: 300, retry: { maxAttempts: 1 } });
    await expect(noRetry.getExperimentByName(name)).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("re-opens and re-sends a streamed upload after a 503, and retries a download after a 503", async () => {
    const experimentId = cleanup.experiment(await direct.createExperiment(uniqueName("retry-upload")));
    const run = await direct.createRun({ experimentId });
    const dir = await mkdtemp(join(tmpdir(), "gplay-mlflow-retry-"));
    try {
      const file = join(dir, "weights.bin");
      const content = randomBytes(3 * 1024 * 1024);
      await writeFile(file, content);
      const up = await proxy({ failFirst: 1, status: 503, match: /^PUT / });
      const client = new MlflowClient({ trackingUri: up.url, retry: fastRetries });
      await client.uploadArtifact(run.info.run_id, file);
      expect(up.requests.filter((r) => r.startsWith("PUT"))).toHaveLength(2);

      const down = await proxy({ failFirst: 1, status: 503, match: /^GET .*mlflow-artifacts/ });
      const reader = new MlflowClient({ trackingUri: down.url, retry: fastRetries });
      await reader.downloadArtifact(run.info.run_id, "weights.bin", join(dir, "back.bin"));
      expect(down.requests.filter((r) => r.includes("mlflow-artifacts"))).toHaveLength(2);
      expect((await readFile(join(dir, "back.bin"))).equals(content)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("sends a bearer token from config on every request", async () => {
    const name = uniqueName("bearer");
    cleanup.experiment(await direct.createExperiment(name));
    const p = await proxy({ failFirst: 0 });
    const client = new MlflowClient({ trackingUri: p.url, auth: { kind: "bearer", token: "tok-123" } });
    await client.getExperimentByName(name);
    expect(p.authorizations).toEqual(["Bearer tok-123"]);
  });
});
