/**
 * The demo: the production flow on the local stack, as a new user runs it (`./scripts/demo.sh`, or
 * `./scripts/demo.sh --data DIR` with one's own G1 files; docs/data.md).
 *   generated (or given) G1 files → raw/ → EventBridge → SQS → task runner → featstore-engine (ingest)
 *   → snapshot step → "Snapshot Ready" → EventBridge → SQS → task runner → training
 *   → MLflow run + registered, promoted version → the api serving the champion
 *   → a short simulated session (readers of the generated world click by their hidden preferences)
 *   and CTR per version from the impression log the api filed (skip with --no-session).
 * Ctrl-C stops the api, the runners and (if this demo started it) the stack. Running it again reuses
 * the generated data; on a stack that kept running (`pnpm stack up` before the demo) it also reuses
 * what was ingested and trained. A stack the demo started stops with it, and the emulator and MLflow
 * keep that state only while they run, so the next run ingests and trains again (it says so).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  API_IMPRESSIONS_PREFIX,
  type AwsClients,
  CHAMPION_ALIAS,
  ENGINE_NODE_ARGS,
  isAppError,
  tableNames,
} from "@gplay/common";
import { planUpload } from "../data/raw-upload.js";
import { uploadFolder } from "../data/upload-folder.js";
import { stackPaths } from "../local-stack/paths.js";
import { type ProvisionedEnvironment, provisionEnvironment } from "../local-stack/provision.js";
import {
  ensureLocalStack,
  type LocalStackEndpoints,
  stackEnvironment,
  stopLocalStack,
} from "../local-stack/stack.js";
import { LocalTaskRunner } from "../local-stack/task-runner.js";
import { localAwsClients } from "../local-stack/test-support.js";
import {
  awaitSessionFigures,
  type ClickingReader,
  formatSessionFigures,
  runOnlineSession,
} from "./online-session.js";
import { silentRunnerLogger, step, waitFor } from "./progress.js";

const API_KEY = "demo-key-0123456789abcdef";
const TSX = ["--conditions=@gplay/source", "--import", "tsx"];

const { values: args } = parseArgs({
  options: {
    users: { type: "string", default: "2000" },
    days: { type: "string", default: "5" },
    seed: { type: "string", default: "demo" },
    // GPLAY_DEMO_PORT: another default (the docs test runs the README's demo on a free port).
    port: { type: "string", default: process.env.GPLAY_DEMO_PORT ?? "8080" },
    "no-serve": { type: "boolean", default: false },
    /** Serve without the short simulated session and its CTR per version. */
    "no-session": { type: "boolean", default: false },
    /** A folder of one's own G1 files instead of generated ones. */
    data: { type: "string" },
  },
});

/**
 * Below this many readers with history the demo does not train: training holds out the last half of the
 * reads (up to 4 days) for tuning and evaluation, and its promotion gate needs readers in that window to compare the
 * model with the baselines (with the two real sample readers it trains on nothing and promotes nothing).
 */
const MIN_READERS_TO_TRAIN = 100;

const paths = stackPaths();
const root = paths.repoRoot;
const ownData =
  args.data === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), args.data);
// A generated world (`generate --world`): its readers' hidden preferences drive the simulated session.
const dataDir = ownData ?? join(root, ".local", "demo", `world-${args.users}u-${args.days}d-${args.seed}`);

/**
 * One environment (buckets, tables, model) per data set: running again with the same arguments (or the
 * same files) reuses everything; another data set never mixes into the same feature store.
 */
function datasetId(): string {
  const hash = createHash("sha256");
  if (ownData === undefined) hash.update(`world|${args.users}|${args.days}|${args.seed}`);
  else for (const file of planUpload(ownData)) hash.update(`${file.key}\0`).update(readFileSync(file.path));
  return hash.digest("hex").slice(0, 8);
}
const dataset = datasetId();
const PREFIX = `gplay-demo-${dataset}`;
const MODEL_NAME = `gplay-recommender-${dataset}`;
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

async function generateData(): Promise<void> {
  if (!existsSync(join(dataDir, "expected.json"))) {
    step(
      `generating ${args.users} readers × ${args.days} days of G1-format data into ${relative(root, dataDir)}`,
    );
    await run(
      [
        process.execPath,
        ...TSX,
        "featstore-engine/src/generator/cli.ts",
        "--world",
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
}

async function startApi(endpoints: LocalStackEndpoints, requireModel: boolean): Promise<string> {
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
      GPLAY_READY_REQUIRES_MODEL: String(requireModel),
      GPLAY_READER_VIEW: "true",
      GPLAY_MODEL_REFRESH_MS: "5000",
      GPLAY_DATA_REFRESH_MS: "10000",
      // Impression files every second, so the session's CTR can be read from the log soon after it.
      GPLAY_EVENTS_FLUSH_MS: "1000",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.add(child);
  child.on("exit", (code) => {
    children.delete(child);
    if (!stopping) step(`the api exited (${code}); see the output above`);
  });
  // What /readyz says while it is not ready (e.g. the model cannot be loaded), shown with the wait.
  let notReady = "";
  await waitFor(
    "the api to be ready",
    async () => {
      const response = await fetch(`${url}/readyz`).catch(() => undefined);
      if (response?.ok) return true;
      const body = (await response?.json().catch(() => undefined)) as
        | { checks?: Record<string, { ok: boolean; detail?: string }> }
        | undefined;
      notReady = Object.entries(body?.checks ?? {})
        .filter(([, c]) => !c.ok)
        .map(([name, c]) => `${name}: ${c.detail ?? "not ok"}`)
        .join("; ");
      return undefined;
    },
    120_000,
    () => (notReady === "" ? "" : `(/readyz: ${notReady})`),
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}${notReady === "" ? "" : `; /readyz says ${notReady}`}`);
  });
  return url;
}

/** What training left for the api: the champion's version and what ranks in it, or why there is none. */
type ModelOutcome = { version: string; strategy: string } | { none: string };

async function main(): Promise<void> {
  step("starting the local stack (moto + MLflow; the first run installs the Python tools)");
  const stack = await ensureLocalStack({ log: (m) => step(m), startedBy: "demo" });
  stackStartedHere = stack.startedHere;
  step(
    stackStartedHere
      ? "the stack starts empty and stops with this demo (Ctrl-C), its data with it"
      : "the stack was already running: what it holds for this data set is reused, and it stays up after Ctrl-C",
  );
  const endpoints = stack.endpoints;
  const env = await provisionEnvironment(endpoints, PREFIX);
  step(`provisioned ${PREFIX}: buckets ${Object.values(env.buckets).join(", ")}; rules and task queues`);

  if (ownData === undefined) await generateData();
  else step(`using your G1 files in ${ownData}`);
  const common = { GPLAY_PREFIX: PREFIX, LOG_LEVEL: "warn" };
  const ingest = LocalTaskRunner.forEnvironment("ingest", endpoints, env, {
    env: { ...common, GPLAY_SNAPSHOT_AFTER_INGEST: "false" },
    logger: silentRunnerLogger,
    waitTimeSeconds: 1,
  });
  runners.push(ingest);
  ingest.start();

  const clients = localAwsClients(endpoints);
  try {
    const { rows = [] } = await uploadFolder(clients, PREFIX, dataDir, { log: step, timeoutMs: 15 * 60_000 });
    const notIngested = rows.filter((r) => r.status !== "succeeded");
    if (notIngested.length > 0) {
      const why = notIngested.map((r) => `${r.key}: ${"error" in r ? r.error : r.status}`).join("\n");
      // Generated files must all ingest; with one's own files, the rest still goes through.
      if (ownData === undefined) throw new Error(`ingestion failed:\n${why}`);
      step(`${notIngested.length} file(s) not ingested (above); going on with the rest`);
    }

    step("running the snapshot step (cold-start lists, co-visitation, manifest, Snapshot Ready)");
    const snapshot = await runSnapshot(endpoints, common);
    const readers = await countReaders(clients);
    const model = await trainOrExplain(endpoints, env, common, snapshot, readers);

    if (args["no-serve"]) return;
    const url = await startApi(endpoints, "version" in model);
    if ("version" in model && ownData === undefined && !args["no-session"])
      await simulatedSession(url, clients, env.buckets.raw);
    const known = ownData === undefined ? generatedHeaviestReader() : await someReader(clients);
    banner(url, endpoints, model, known, await experimentExists(endpoints));
  } finally {
    clients.destroy();
  }
  await new Promise(() => undefined);
}

/** Lists the session asks for, and the length of each (CTR@K). */
const SESSION_LISTS = 400;
const SESSION_K = 10;

/**
 * A short simulated session against the running api (scripts/src/demo/online-session.ts): readers of
 * the generated world (its hidden preferences, regenerated from the same seed without writing files)
 * ask for lists and click by the click simulator; then CTR per version, arm and strategy from the
 * impression files the api wrote under raw/.
 */
async function simulatedSession(url: string, clients: AwsClients, rawBucket: string): Promise<void> {
  const load = async (rel: string) => import(pathToFileURL(join(root, rel)).href);
  const { generateWorld } = (await load("featstore-engine/src/generator/worlds.ts")) as WorldsModule;
  const { simulateClicks } = (await load(
    "featstore-engine/src/generator/click-simulator.ts",
  )) as ClickSimulatorModule;
  const readers: ClickingReader[] = [];
  const nowhere = { write: () => undefined, close: () => undefined };
  generateWorld(
    {
      users: Number(args.users),
      days: Number(args.days),
      seed: args.seed,
      onReader: (hidden) =>
        readers.push({
          userId: hidden.userId,
          clicks: (pages, random) => simulateClicks(hidden, pages, random),
        }),
    },
    { open: () => nowhere },
  );
  step(
    `simulated session: ${SESSION_LISTS} lists for readers of the generated world, who click by its hidden preferences`,
  );
  const seed = createHash("sha256").update(`session|${args.seed}`).digest().readUInt32BE(0);
  const traffic = await runOnlineSession({
    url,
    apiKey: API_KEY,
    readers,
    lists: SESSION_LISTS,
    k: SESSION_K,
    seed,
  });
  const files = new Map<string, string>();
  const figures = await awaitSessionFigures(
    () => impressionFiles(clients, rawBucket, files),
    traffic,
    60_000,
  );
  for (const line of formatSessionFigures(figures, SESSION_K)) step(line);
}

/** What the session uses of featstore-engine's generator (loaded from the tree, as the bench does). */
interface HiddenReaderLike {
  userId: string;
}
interface WorldsModule {
  generateWorld(
    options: { users: number; days: number; seed: string; onReader: (reader: HiddenReaderLike) => void },
    sink: { open(path: string): { write(text: string): void; close(): void } },
  ): unknown;
}
interface ClickSimulatorModule {
  simulateClicks(reader: HiddenReaderLike, pages: readonly string[], random: () => number): string[];
}

/** The impression files the api wrote (key → CSV), added to `files` (files never change: each is read once). */
async function impressionFiles(
  clients: AwsClients,
  bucket: string,
  files: Map<string, string>,
): Promise<Map<string, string>> {
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: API_IMPRESSIONS_PREFIX, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || files.has(object.Key)) continue;
      const body = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      files.set(object.Key, (await body.Body?.transformToString()) ?? "");
    }
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return files;
}

async function runSnapshot(endpoints: LocalStackEndpoints, env: Record<string, string>): Promise<string> {
  // Under the heap settings the engine's ECS task runs with (common's engine-runtime.ts).
  const out = await run(
    [process.execPath, ...ENGINE_NODE_ARGS, ...TSX, "featstore-engine/src/cli.ts", "snapshot"],
    {
      ...stackEnvironment(endpoints),
      ...env,
    },
  );
  // The CLI prints {"snapshot":"built"|"unchanged"|"empty", …} (log lines may come before it).
  const line = out
    .trim()
    .split("\n")
    .map((text) => {
      try {
        return JSON.parse(text) as { snapshot?: string };
      } catch {
        return {};
      }
    })
    .findLast((l) => l.snapshot !== undefined);
  return line?.snapshot ?? "unknown";
}

/**
 * Trains on a new snapshot when there is enough data, and otherwise says why not. Generated data must
 * end with a champion; with one's own data, no champion is reported and the api serves cold start.
 */
async function trainOrExplain(
  endpoints: LocalStackEndpoints,
  env: ProvisionedEnvironment,
  common: Record<string, string>,
  snapshot: string,
  readers: number,
): Promise<ModelOutcome> {
  if (readers < MIN_READERS_TO_TRAIN) {
    const why = `too little data to train a model: ${readers} reader(s) with history, the demo trains from ${MIN_READERS_TO_TRAIN} (training holds out the last half of the reads, up to 4 days, to tune and evaluate, and promotes only a model that beats the baselines there)`;
    if (ownData === undefined) throw new Error(`${why}; generate more with --users`);
    step(`${why}. Not training: the api serves the cold-start lists.`);
    return { none: "too little data to train" };
  }
  if (snapshot === "built") {
    const training = LocalTaskRunner.forEnvironment("training", endpoints, env, {
      env: { ...common, GPLAY_MODEL_NAME: MODEL_NAME, GPLAY_EXPERIMENT_NAME: MODEL_NAME },
      logger: silentRunnerLogger,
      waitTimeSeconds: 1,
      maxAttempts: 1,
    });
    runners.push(training);
    training.start();
    const trained = await waitFor(
      "Snapshot Ready → training (train, evaluate, log to MLflow, register, gate promotion)",
      () => training.results.find((r) => r.outcome !== "retrying"),
      20 * 60_000,
    );
    if (trained.outcome !== "succeeded") throw new Error(`training failed: ${trained.error}`);
    step("training finished: the run, its figures and the registered version are in MLflow");
  } else step(`the snapshot is ${snapshot} since the last run: reusing the model trained on it`);
  const champion = await championVersion(endpoints);
  if (champion !== undefined) {
    // The gate serves the best of all: say when a baseline, not the trained model, won.
    step(
      champion.strategy === "model"
        ? `promoted: version ${champion.version}, the trained model`
        : `promoted: version ${champion.version}, the ${champion.strategy.replace("baseline:", "")} baseline (it beat the trained model on the test window)`,
    );
    return champion;
  }
  const why = `no version of ${MODEL_NAME} beat the baselines, so nothing is promoted: see the run's gplay.gate.* tags in MLflow`;
  if (ownData === undefined) throw new Error(why);
  step(`${why}. The api serves the cold-start lists.`);
  return { none: "no version beat the baselines" };
}

/** Readers with history in the feature store (what training learns from). */
async function countReaders(clients: AwsClients): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await clients.dynamodb.send(
      new ScanCommand({
        TableName: tableNames(PREFIX).users,
        Select: "COUNT",
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return count;
}

async function someReader(clients: AwsClients): Promise<string | undefined> {
  const page = await clients.dynamodb.send(
    new ScanCommand({ TableName: tableNames(PREFIX).users, Limit: 1, ProjectionExpression: "userId" }),
  );
  return page.Items?.[0]?.userId?.S;
}

function generatedHeaviestReader(): string {
  const expected = JSON.parse(readFileSync(join(dataDir, "expected.json"), "utf8")) as {
    heaviestUser: { userId: string };
  };
  return expected.heaviestUser.userId;
}

function banner(
  url: string,
  endpoints: LocalStackEndpoints,
  model: ModelOutcome,
  known: string | undefined,
  experiment: boolean,
): void {
  const h = `-H 'x-api-key: ${API_KEY}' -H 'content-type: application/json'`;
  const served =
    "version" in model
      ? `model "${MODEL_NAME}" version ${model.version} (@${CHAMPION_ALIAS}; ${model.strategy === "model" ? "the trained model" : `the ${model.strategy.replace("baseline:", "")} baseline`})`
      : `no model (${model.none}): cold start only`;
  const mlflow = experiment
    ? `experiment "${MODEL_NAME}" with its runs; ${served}`
    : `no experiment yet (nothing trained); ${served}`;
  const reader =
    known === undefined
      ? "  # (no reader with history in this data: /predict answers every reader from cold start)\n"
      : `  # a known reader (their full history is never recommended again)
  curl -s ${h} -d '{"userId":"${known}","k":5}' ${url}/predict
`;
  process.stdout.write(`
GPlayRecommend is running on the local stack.

  API            ${url}   (key: ${API_KEY})
  OpenAPI        ${url}/openapi.json
  Reader view    ${url}/view?key=${API_KEY}${known === undefined ? "" : `&userId=${known}`}   (reads, recommendations, cold start, the model's figures)
  MLflow UI      ${endpoints.mlflowUrl}   (${mlflow})
  AWS emulator   ${endpoints.awsEndpoint}   (prefix ${PREFIX})
  Ingestions     pnpm ingestions --prefix ${PREFIX}   (add files: pnpm upload DIR --prefix ${PREFIX})

${reader}
  # a new reader, shaped by what they clicked in this visit
  curl -s ${h} -d '{"k":5,"context":{"region":"sp"}}' ${url}/coldstart

  # record a click (excluded from that reader's recommendations within seconds)
  curl -s ${h} -d '{"events":[{"type":"click","userId":"${known ?? "<64 hex characters>"}","page":"<a page id from /predict>"}]}' ${url}/events

Ctrl-C stops everything this demo started.
`);
}

/** The champion's version and its `gplay.strategy` tag (`model`, or `baseline:<name>`). */
async function championVersion(
  endpoints: LocalStackEndpoints,
): Promise<{ version: string; strategy: string } | undefined> {
  const response = await fetch(
    `${endpoints.mlflowUrl}/api/2.0/mlflow/registered-models/alias?name=${MODEL_NAME}&alias=${CHAMPION_ALIAS}`,
  ).catch(() => undefined);
  if (response?.ok !== true) return undefined;
  const body = (await response.json()) as {
    model_version?: { version?: string; tags?: { key: string; value: string }[] };
  };
  const version = body.model_version?.version;
  if (version === undefined) return undefined;
  const strategy = body.model_version?.tags?.find((t) => t.key === "gplay.strategy")?.value ?? "model";
  return { version, strategy };
}

async function experimentExists(endpoints: LocalStackEndpoints): Promise<boolean> {
  const response = await fetch(
    `${endpoints.mlflowUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${MODEL_NAME}`,
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
      ? "stopped the api, the runners and the stack (its ingested data and MLflow runs go with it: the next run ingests and trains again; to keep them between runs, `pnpm stack up` before the demo)"
      : "stopped the api and the runners (the stack was already running: left as it was)",
  );
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// main() returns only with --no-serve (it waits for Ctrl-C otherwise): stop the runners and exit.
main().then(
  () => shutdown(0),
  (error: unknown) => {
    step(
      `demo failed: ${isAppError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)}`,
    );
    void shutdown(1);
  },
);
