/**
 * The demo: the production flow on the local stack, as a new user runs it (`./scripts/demo.sh`).
 *   generated G1 files → raw/ → EventBridge → SQS → task runner → featstore-engine (ingest)
 *   → snapshot step → "Snapshot Ready" → EventBridge → SQS → task runner → training
 *   → MLflow run + registered, promoted version → the api serving the champion.
 * Ctrl-C stops the api, the runners and (if this demo started it) the stack. Running it again reuses
 * the stack, the generated data and whatever was already ingested and trained.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { stackPaths } from "../local-stack/paths.js";
import { provisionEnvironment } from "../local-stack/provision.js";
import {
  ensureLocalStack,
  type LocalStackEndpoints,
  stackEnvironment,
  stopLocalStack,
} from "../local-stack/stack.js";
import { LocalTaskRunner } from "../local-stack/task-runner.js";
import { localAwsClients } from "../local-stack/test-support.js";
import { silentRunnerLogger, step, waitFor } from "./progress.js";

const API_KEY = "demo-key-0123456789abcdef";
const TSX = ["--conditions=@gplay/source", "--import", "tsx"];

const { values: args } = parseArgs({
  options: {
    users: { type: "string", default: "2000" },
    days: { type: "string", default: "5" },
    seed: { type: "string", default: "demo" },
    port: { type: "string", default: "8080" },
    "no-serve": { type: "boolean", default: false },
  },
});

// One environment (buckets, tables, model name) per generated data set: running again with the same
// arguments reuses everything; other arguments never mix two data sets in one feature store.
const dataset = createHash("sha256")
  .update(`${args.users}|${args.days}|${args.seed}`)
  .digest("hex")
  .slice(0, 8);
const PREFIX = `gplay-demo-${dataset}`;
const MODEL_NAME = `gplay-recommender-${dataset}`;
const paths = stackPaths();
const root = paths.repoRoot;
const dataDir = join(root, ".local", "demo", `data-${args.users}u-${args.days}d-${args.seed}`);
const children = new Set<ChildProcess>();
const runners: LocalTaskRunner[] = [];
let stackStartedHere = false;
let stopping = false;

/** Runs a program to completion, failing on a non-zero exit; resolves with its stdout. */
function run(command: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program, ...rest] = command as [string, ...string[]];
    const child = spawn(program, rest, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    child.on("exit", (code) => {
      children.delete(child);
      code === 0 ? resolve(stdout) : reject(new Error(`${command.join(" ")} exited ${code}:\n${stderr}`));
    });
  });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

async function generateData(): Promise<string[]> {
  if (!existsSync(join(dataDir, "expected.json"))) {
    step(
      `generating ${args.users} readers × ${args.days} days of G1-format data into ${relative(root, dataDir)}`,
    );
    await run(
      [
        process.execPath,
        ...TSX,
        "featstore-engine/src/generator/cli.ts",
        "--out",
        dataDir,
        "--users",
        args.users,
        "--days",
        args.days,
        "--seed",
        args.seed,
      ],
      {},
    );
  } else step(`reusing the generated data in ${relative(root, dataDir)}`);
  return listFiles(dataDir).filter((f) => f.endsWith(".csv"));
}

async function upload(endpoints: LocalStackEndpoints, bucket: string, files: string[]): Promise<string[]> {
  const clients = localAwsClients(endpoints);
  const uploaded: string[] = [];
  try {
    for (const file of files) {
      const key = `raw/${relative(dataDir, file)}`;
      const exists = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        () => true,
        () => false,
      );
      if (exists) continue;
      await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
      uploaded.push(key);
    }
  } finally {
    clients.destroy();
  }
  return uploaded;
}

async function startApi(endpoints: LocalStackEndpoints): Promise<string> {
  const url = `http://127.0.0.1:${args.port}`;
  const child = spawn(process.execPath, [...TSX, "api/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      ...stackEnvironment(endpoints),
      PORT: args.port,
      GPLAY_PREFIX: PREFIX,
      GPLAY_API_KEYS: JSON.stringify([{ name: "demo", key: API_KEY }]),
      GPLAY_MODEL_NAME: MODEL_NAME,
      GPLAY_MODEL_REFRESH_MS: "5000",
      GPLAY_DATA_REFRESH_MS: "10000",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.add(child);
  child.on("exit", (code) => {
    children.delete(child);
    if (!stopping) step(`the api exited (${code}); see the output above`);
  });
  await waitFor(
    "the api to be ready",
    async () => {
      const response = await fetch(`${url}/readyz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    },
    120_000,
  );
  return url;
}

async function main(): Promise<void> {
  step("starting the local stack (moto + MLflow; the first run installs the Python tools)");
  const stack = await ensureLocalStack({ log: (m) => step(m), startedBy: "demo" });
  stackStartedHere = stack.startedHere;
  const endpoints = stack.endpoints;
  const env = await provisionEnvironment(endpoints, PREFIX);
  step(`provisioned ${PREFIX}: buckets ${Object.values(env.buckets).join(", ")}; rules and task queues`);

  const files = await generateData();
  const common = { GPLAY_PREFIX: PREFIX, LOG_LEVEL: "warn" };
  const ingest = LocalTaskRunner.forEnvironment("ingest", endpoints, env, {
    env: { ...common, GPLAY_SNAPSHOT_AFTER_INGEST: "false" },
    logger: silentRunnerLogger,
    waitTimeSeconds: 1,
  });
  const training = LocalTaskRunner.forEnvironment("training", endpoints, env, {
    env: { ...common, GPLAY_MODEL_NAME: MODEL_NAME },
    logger: silentRunnerLogger,
    waitTimeSeconds: 1,
    maxAttempts: 1,
  });
  runners.push(ingest, training);
  ingest.start();
  training.start();

  const uploaded = await upload(endpoints, env.buckets.raw, files);
  step(
    `uploaded ${uploaded.length} new file(s) to s3://${env.buckets.raw}/raw/ (${files.length - uploaded.length} already there)`,
  );
  if (uploaded.length > 0) {
    const done = () => ingest.results.filter((r) => r.outcome !== "retrying").length;
    await waitFor(
      "EventBridge → SQS → featstore-engine to ingest them",
      () => (done() >= uploaded.length ? true : undefined),
      15 * 60_000,
      () => `(${done()}/${uploaded.length} files)`,
    );
    const failed = ingest.results.filter((r) => r.outcome === "dead-lettered");
    if (failed.length > 0) throw new Error(`ingestion failed: ${failed.map((f) => f.error).join("\n")}`);
    step("ingested: features in DynamoDB, Parquet partitions and reports in processed/");
  }

  step("running the snapshot step (cold-start lists, co-visitation, manifest, Snapshot Ready)");
  const snapshotOut = await run([process.execPath, ...TSX, "featstore-engine/src/cli.ts", "snapshot"], {
    ...stackEnvironment(endpoints),
    ...common,
  });
  // The CLI prints {"snapshot":"built"|"unchanged"|"empty", …} (log lines may come before it).
  const snapshot = snapshotOut
    .trim()
    .split("\n")
    .map((line) => {
      try {
        return JSON.parse(line) as { snapshot?: string };
      } catch {
        return {};
      }
    })
    .findLast((line) => line.snapshot !== undefined) ?? { snapshot: undefined };
  if (snapshot.snapshot === "built") {
    const trained = await waitFor(
      "Snapshot Ready → training (train, evaluate, log to MLflow, register, gate promotion)",
      () => training.results.find((r) => r.outcome !== "retrying"),
      20 * 60_000,
    );
    if (trained.outcome !== "succeeded") throw new Error(`training failed: ${trained.error}`);
    step("training finished: the run, its figures and the registered version are in MLflow");
  } else step("the snapshot is unchanged since the last run: reusing the model trained on it");
  if (!(await championExists(endpoints)))
    throw new Error(
      `no version of ${MODEL_NAME} beat the baselines, so nothing is promoted: see the run's gplay.gate.* tags in MLflow`,
    );

  if (args["no-serve"]) return;
  const url = await startApi(endpoints);
  const expected = JSON.parse(readFileSync(join(dataDir, "expected.json"), "utf8")) as {
    heaviestUser: { userId: string };
  };
  const known = expected.heaviestUser.userId;
  const h = `-H 'x-api-key: ${API_KEY}' -H 'content-type: application/json'`;
  process.stdout.write(`
GPlayRecommend is running on the local stack.

  API            ${url}   (key: ${API_KEY})
  OpenAPI        ${url}/openapi.json
  MLflow UI      ${endpoints.mlflowUrl}   (experiment and model "${MODEL_NAME}")
  AWS emulator   ${endpoints.awsEndpoint}   (prefix ${PREFIX})

  # a known reader (their full history is never recommended again)
  curl -s ${h} -d '{"userId":"${known}","k":5}' ${url}/predict

  # a new reader, shaped by what they clicked in this visit
  curl -s ${h} -d '{"k":5,"context":{"region":"sp"}}' ${url}/coldstart

  # record a click (excluded from that reader's recommendations within seconds)
  curl -s ${h} -d '{"events":[{"type":"click","userId":"${known}","page":"<a page id from /predict>"}]}' ${url}/events

Ctrl-C stops everything this demo started.
`);
  await new Promise(() => undefined);
}

async function championExists(endpoints: LocalStackEndpoints): Promise<boolean> {
  const response = await fetch(
    `${endpoints.mlflowUrl}/api/2.0/mlflow/registered-models/alias?name=${MODEL_NAME}&alias=champion`,
  ).catch(() => undefined);
  return response?.ok === true;
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  step("stopping…");
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(runners.map((r) => r.stop()));
  await Promise.all(
    [...children].map(
      (c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.on("exit", resolve))),
    ),
  );
  if (stackStartedHere) await stopLocalStack();
  step(
    stackStartedHere
      ? "stopped the api, the runners and the stack"
      : "stopped the api and the runners (the stack was already running: left as it was)",
  );
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
main().catch((error: unknown) => {
  step(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown(1);
});
