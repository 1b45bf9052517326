/**
 * Keeps the fuzz run's findings found: schemathesis (the project's Python venv) runs every check of its
 * OpenAPI document against the real api process on the local stack, serving a registered model —
 * bounded (examples per operation) and seeded, so a run is reproducible. 0 failures required.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AwsClients, hashTerm, packContentVector, sparseVectorFromWeights } from "@gplay/common";
import { MlflowClient } from "@gplay/mlflow";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
  stackEnvironment,
  stackPaths,
  uniquePrefix,
} from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { initTensorflow } from "../../../training/src/tf/backend.js";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import { type AppProcess, startApp, waitFor } from "../support/app-process.js";
import { AS_OF, article, pageId, reader, userId } from "../support/fixtures.js";
import { registerTestBundle, writeTestBundle } from "../support/model-bundle.js";
import { seedCatalog } from "../support/seed-stack.js";

const KEY = "schemathesis-key-0123456789";
const SEED = "20261206";
const EXAMPLES_PER_OPERATION = "150"; // as the fuzz run that found #14

let endpoints: LocalStackEndpoints;
let clients: AwsClients;
let env: ProvisionedEnvironment;
let mlflow: MlflowClient;
let app: AppProcess;
let workDir: string;
const modelName = uniquePrefix("api-fuzz-ranker");
const experiment = uniquePrefix("api-fuzz");

beforeAll(async () => {
  ({ endpoints, clients, env } = await provisionTestEnvironment("api-fuzz"));
  mlflow = new MlflowClient({ trackingUri: endpoints.mlflowUrl, timeoutMs: 60_000 });
  workDir = await mkdtemp(join(tmpdir(), "gplay-api-fuzz-"));
  const articles = Array.from({ length: 40 }, (_, i) =>
    article(i + 1, {
      section: ["sp", "rj"][i % 2] as string,
      vector: packContentVector(sparseVectorFromWeights(new Map([[hashTerm(`t${i % 7}`), 1]]))),
    }),
  );
  await seedCatalog(clients, env.tables, articles);
  await new DynamoFeatureStore(clients.documents, env.tables).putUser(
    reader(userId(1), [1, 2, 3].map(pageId)),
    undefined,
  );
  const { tf } = await initTensorflow({
    prefer: "wasm",
    log: { info: () => undefined, warn: () => undefined } as never,
  });
  const dir = join(workDir, "bundle");
  await writeTestBundle(tf, dir, {
    vocabularies: { section: ["sp", "rj"], region: ["sao-paulo"] },
    asOf: AS_OF,
    popularity: articles.map((a, i) => [a.page, 100 - i] as [string, number]),
    covisitation: {},
    seed: 1,
  });
  await registerTestBundle(mlflow, { experiment, modelName, dir, alias: "champion" });
  app = await startApp({
    ...stackEnvironment(endpoints),
    MLFLOW_TRACKING_URI: endpoints.mlflowUrl,
    GPLAY_PREFIX: env.prefix,
    GPLAY_API_KEYS: JSON.stringify([{ name: "fuzz", key: KEY, ratePerSecond: 100_000, burst: 100_000 }]),
    // The run sends requests without a key or with a wrong one (ignored_auth) from one address.
    GPLAY_AUTH_FAILURES_BURST: "100000",
    GPLAY_MODEL_NAME: modelName,
    GPLAY_READY_REQUIRES_MODEL: "true",
    GPLAY_DRAIN_DELAY_MS: "0",
    GPLAY_REQUEST_TIMEOUT_MS: "10000",
    LOG_LEVEL: "info",
  });
  await waitFor(
    "the model to load",
    async () => ((await fetch(`${app.url}/readyz`)).status === 200 ? true : undefined),
    120_000,
  );
}, 300_000);

afterAll(async () => {
  app?.kill();
  await mlflow?.deleteRegisteredModel(modelName).catch(() => undefined);
  await mlflow
    ?.getExperimentByName(experiment)
    .then((e) => mlflow.deleteExperiment(e.experiment_id))
    .catch(() => undefined);
  if (env !== undefined) await destroyTestEnvironment({ endpoints, clients, env });
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}, 120_000);

describe("schemathesis against the real api", () => {
  it("finds no failure with every check, seeded and bounded", async () => {
    const paths = stackPaths();
    const bin = join(paths.venvDir, "bin", "schemathesis");
    // schemathesis keeps a cache in its working directory: under .local/, never in the source tree.
    const cwd = join(paths.repoRoot, ".local", "schemathesis");
    await mkdir(cwd, { recursive: true });
    const args = [
      "run",
      `${app.url}/openapi.json`,
      "--checks",
      "all",
      "--seed",
      SEED,
      "--max-examples",
      EXAMPLES_PER_OPERATION,
      "--workers",
      "1",
      "--generation-database",
      "none",
      "--request-timeout",
      "30",
      "--header",
      `x-api-key: ${KEY}`,
      "--no-color",
    ];
    const child = spawn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    // The whole report on failure: it names each failing check with a curl command to reproduce it.
    expect({ code, report: code === 0 ? "" : output }).toEqual({ code: 0, report: "" });
    expect(output).toMatch(/No issues found|passed/i);
  }, 900_000);
});
