/**
 * The whole flow on the local stack, end to end, as production runs it: files dropped into raw/ reach
 * the featstore-engine through S3 → EventBridge → SQS → task runner; the snapshot step announces
 * "Snapshot Ready", which reaches the training task the same way; training registers and promotes a
 * model in the real MLflow server; the api (its real entrypoint, as a process) serves the champion.
 * Then a second day of data arrives, and the platform follows without a restart.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { AwsClients } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { generateDataset, type OutputSink } from "../../../featstore-engine/src/generator/generate.js";
import { silentRunnerLogger } from "../../src/demo/progress.js";
import {
  destroyEnvironment,
  type LocalStackEndpoints,
  LocalTaskRunner,
  localAwsClients,
  type ProvisionedEnvironment,
  provisionEnvironment,
  readLocalStack,
  stackEnvironment,
  uniquePrefix,
} from "../../src/index.js";

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
const TSX = ["--conditions=@gplay/source", "--import", "tsx"];
const API_KEY = "e2e-key-0123456789abcdef";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface Predict {
  modelVersion: string | null;
  strategy: string;
  items: { page: string; issued: string }[];
}

describe("the whole flow, end to end on the local stack", () => {
  let endpoints: LocalStackEndpoints;
  let env: ProvisionedEnvironment;
  let clients: AwsClients;
  let ingest: LocalTaskRunner;
  let training: LocalTaskRunner;
  let api: ChildProcess | undefined;
  let apiUrl: string;
  const modelName = `e2e-${Date.now().toString(36)}`;
  const files = new Map<string, string>();
  let expected: ReturnType<typeof generateDataset>;
  let day1: string[];
  let day2: string[];

  const taskEnv = () => ({ GPLAY_PREFIX: env.prefix, LOG_LEVEL: "warn" });

  async function putAndIngest(paths: string[]): Promise<void> {
    const before = ingest.results.length;
    for (const path of paths)
      await clients.s3.send(
        new PutObjectCommand({ Bucket: env.buckets.raw, Key: `raw/${path}`, Body: files.get(path) }),
      );
    await until(
      "ingestion of the dropped files",
      async () => {
        const done = ingest.results.slice(before).filter((r) => r.outcome !== "retrying");
        const failed = done.find((r) => r.outcome === "dead-lettered");
        if (failed !== undefined) throw new Error(`ingestion failed: ${failed.error}`);
        return done.length >= paths.length ? true : undefined;
      },
      240_000,
    );
  }

  /** The snapshot step (as the schedule runs it), then the training task it triggers through EventBridge. */
  async function snapshotAndTrain(): Promise<{ version: string; decision: string }> {
    const before = training.results.length;
    await promisify(execFile)(process.execPath, [...TSX, "featstore-engine/src/cli.ts", "snapshot"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...stackEnvironment(endpoints), ...taskEnv() },
    });
    const result = await until(
      "Snapshot Ready → training",
      async () => training.results.slice(before).find((r) => r.outcome !== "retrying"),
      600_000,
    );
    expect(result.outcome).toBe("succeeded");
    const versions = await registry<{ model_versions?: { version: string; run_id: string }[] }>(
      `model-versions/search?filter=${encodeURIComponent(`name='${modelName}'`)}`,
    );
    const newest = (versions.model_versions ?? []).sort((a, b) => Number(b.version) - Number(a.version))[0];
    if (newest === undefined) throw new Error("training registered no version");
    const run = await registry<{ run: { data: { tags?: { key: string; value: string }[] } } }>(
      `runs/get?run_id=${newest.run_id}`,
    );
    const tags = Object.fromEntries((run.run.data.tags ?? []).map((t) => [t.key, t.value]));
    return { version: newest.version, decision: tags["gplay.gate.decision"] ?? "" };
  }

  /** A GET on MLflow's REST API (the real server of the stack). */
  async function registry<T>(path: string): Promise<T> {
    const response = await fetch(`${endpoints.mlflowUrl}/api/2.0/mlflow/${path}`);
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  async function call<T>(path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${apiUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  beforeAll(async () => {
    endpoints = await readLocalStack();
    env = await provisionEnvironment(endpoints, uniquePrefix("e2e"));
    clients = localAwsClients(endpoints);
    const sink: OutputSink = {
      open(path) {
        const parts: string[] = [];
        return { write: (text) => void parts.push(text), close: () => void files.set(path, parts.join("")) };
      },
    };
    expected = generateDataset({ users: 1500, days: 5, seed: "e2e" }, sink);
    // "Day 1" is the first four days of history (enough before the training split); "day 2" the fifth
    // day, with its articles and the later accesses.
    const lastDay = new Date(expected.period.trainEnd - 86_400_000).toISOString().slice(0, 10);
    const dateOf = (p: string) => /(\d{4}-\d{2}-\d{2})/.exec(p)?.[1];
    const isDay1 = (p: string) => {
      const date = dateOf(p);
      return date !== undefined && date < lastDay;
    };
    day1 = [...files.keys()].filter(isDay1);
    day2 = [...files.keys()].filter((p) => !isDay1(p));
    expect(day1.some((p) => p.startsWith("treino/"))).toBe(true);
    expect(day2.some((p) => p.startsWith("treino/"))).toBe(true);

    ingest = LocalTaskRunner.forEnvironment("ingest", endpoints, env, {
      env: { ...taskEnv(), GPLAY_SNAPSHOT_AFTER_INGEST: "false" },
      logger: silentRunnerLogger,
      waitTimeSeconds: 1,
      backoffSeconds: 0,
    });
    training = LocalTaskRunner.forEnvironment("training", endpoints, env, {
      env: {
        ...taskEnv(),
        GPLAY_MODEL_NAME: modelName,
        GPLAY_EXPERIMENT_NAME: modelName,
      },
      logger: silentRunnerLogger,
      waitTimeSeconds: 1,
      maxAttempts: 1,
    });
    ingest.start();
    training.start();
  }, 120_000);

  afterAll(async () => {
    api?.kill("SIGTERM");
    await Promise.all([ingest?.stop(), training?.stop()]);
    if (env !== undefined) await destroyEnvironment(endpoints, env.prefix);
    clients?.destroy();
  }, 120_000);

  let firstVersion: string;

  it("day 1: raw files → ingestion → snapshot → training promotes a first model → the api serves it", async () => {
    await putAndIngest(day1);
    const trained = await snapshotAndTrain();
    expect(trained.decision).toBe("promote");
    firstVersion = trained.version;
    const champion = await registry<{ model_version: { version: string } }>(
      `registered-models/alias?name=${modelName}&alias=champion`,
    );
    expect(champion.model_version.version).toBe(firstVersion);

    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    api = spawn(process.execPath, [...TSX, "api/src/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...stackEnvironment(endpoints),
        PORT: String(port),
        GPLAY_PREFIX: env.prefix,
        GPLAY_API_KEYS: JSON.stringify([{ name: "e2e", key: API_KEY }]),
        GPLAY_MODEL_NAME: modelName,
        GPLAY_MODEL_REFRESH_MS: "1000",
        GPLAY_DATA_REFRESH_MS: "1000",
        LOG_LEVEL: "warn",
      },
      stdio: "ignore",
    });
    await until(
      "the api to be ready",
      async () => ((await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      120_000,
    );
    const reader = expected.heaviestUser.userId;
    const predicted = await call<Predict>("/predict", { userId: reader, k: 5 });
    expect(predicted.strategy).toBe("model");
    expect(predicted.modelVersion).toBe(firstVersion);
    expect(predicted.items).toHaveLength(5);
  }, 900_000);

  it("serves exactly what training evaluated: the same top-10 for every compared reader, the same NDCG@10", async () => {
    // The command the runbook names, run as a user would against the running api.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...TSX, "training/src/cli.ts", "parity", "--api", apiUrl, "--key", API_KEY, "--readers", "250"],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...stackEnvironment(endpoints), ...taskEnv(), GPLAY_MODEL_NAME: modelName },
      },
    );
    const compared = Number(
      /readers compared: (\d+); identical top-10 \(ties within [^)]+\): (\d+)/.exec(stdout)?.[1],
    );
    const identical = Number(/identical top-10 \(ties within [^)]+\): (\d+)/.exec(stdout)?.[1]);
    const ndcg = /offline (\d\.\d+)\s+served (\d\.\d+)/.exec(stdout);
    expect(compared).toBeGreaterThanOrEqual(250);
    expect(identical).toBe(compared);
    expect(Math.abs(Number(ndcg?.[1]) - Number(ndcg?.[2]))).toBeLessThanOrEqual(0.002);
  }, 600_000);

  it("day 2: features update, training is triggered, and after promotion the api serves the new version and the new day's articles", async () => {
    const reader = expected.heaviestUser.userId;
    const key = { userId: { S: reader } };
    const before = await clients.dynamodb.send(new GetItemCommand({ TableName: env.tables.users, Key: key }));
    await putAndIngest(day2);
    const after = await clients.dynamodb.send(new GetItemCommand({ TableName: env.tables.users, Key: key }));
    expect(Number(after.Item?.interactionCount?.N)).toBeGreaterThan(Number(before.Item?.interactionCount?.N));

    const trained = await snapshotAndTrain();
    expect(Number(trained.version)).toBeGreaterThan(Number(firstVersion));
    expect(trained.decision).toBe("promote");
    const served = await until(
      "the api to follow the promotion",
      async () => {
        const p = await call<Predict>("/predict", { userId: reader, k: 5 });
        return p.modelVersion === trained.version ? p : undefined;
      },
      60_000,
    );
    expect(served.items).toHaveLength(5);

    const secondDay = expected.period.trainEnd - 86_400_000;
    const fresh = await until(
      "the new day's articles in /coldstart",
      async () => {
        const c = await call<Predict>("/coldstart?k=20");
        return c.items.some((i) => Date.parse(i.issued) >= secondDay) ? c : undefined;
      },
      60_000,
    );
    expect(fresh.items.length).toBeGreaterThan(0);
  }, 900_000);
});
