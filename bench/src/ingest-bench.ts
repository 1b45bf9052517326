/**
 * End-to-end ingestion throughput of the featstore-engine against the local stack's emulator, next
 * to its two ceilings, measured in the same run on the same files:
 *   (a) a plain parse: read + CSV parse only (the engine's own parser; no cleaning, no writes);
 *   (b) the emulator's BatchWriteItem ceiling with user items shaped as the engine writes them,
 *       25 per batch, at the engine's concurrency (the engine's own batch writer).
 * The engine runs as a child process (`cli ingest --prefix raw/ --no-snapshot`), so the peak RSS
 * (VmHWM, sampled from /proc) is the engine's; the snapshot step is then timed separately.
 *
 *   pnpm --filter @gplay/bench bench:ingest -- --scale 0.1|1 [--repeat N] [--concurrency 16]
 *     [--schema-check true|false] [--node-options "…" (default: the engine's, common's ENGINE_NODE_OPTIONS)] [--ceiling-items 50000]
 *     [--time-limit SECONDS] [--only itens/itens-2022-07-01,treino/] [--snapshot true|false]
 *     [--keep-alive-front true|false] [--baseline <git ref>|none] [--cpu-prof DIR]
 *     [--group-interactions N] [--dynamo emulator|stand-in] [--parse true|false] [--memory-log DIR]
 *
 * The engine reaches the emulator through a keep-alive front (keep-alive-front.ts; moto closes every
 * connection, AWS does not), which also counts the DynamoDB requests and the units they bill
 * (dynamo-meter.ts); the baseline ref's engine is re-measured beside this tree's in each
 * repetition, and sdk-floor.ts measures the SDK's write path alone (the floor under the engine's CPU).
 *
 * A backfill merges readers across consecutive treino objects up to GPLAY_INGEST_GROUP_INTERACTIONS
 * interactions held; --group-interactions is that budget at full scale (default the engine's,
 * 1,000,000) and the engine gets it times the scale, so a group spans as many days of the kit as it
 * would at full scale and the per-interaction figures extrapolate.
 *
 * With --dynamo stand-in, DynamoDB's data plane is answered by dynamo-standin.ts through the front
 * (items stored and read back, conditions evaluated; what it does not emulate is in that file) and
 * S3 stays on the emulator: the engine's code path is unchanged, only the emulator's write ceiling
 * is gone, so a full-scale run (--scale 1) takes minutes instead of hours.
 *
 * With --time-limit the engine is stopped after that long and the rates are over the objects it
 * finished (they are committed in key order); --only restricts the run to files under some paths.
 *
 * Generated data is cached under `.local/bench/data-<scale>` (seed "bench", 46 days, users scaled
 * from the real kit's 577,942). Each repetition ingests into a fresh environment (own buckets and
 * tables) that is removed afterwards. The engine's and scripts' sources are loaded at run time (the
 * bench workspace does not depend on them), so this file declares the few shapes it uses.
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ENGINE_NODE_OPTIONS } from "@gplay/common";
import { baselineTree } from "./baseline-tree.js";
import { DynamoMeter, type MeterReading } from "./dynamo-meter.js";
import { DynamoStandIn } from "./dynamo-standin.js";
import { ensureData, ROOT, runMeasured } from "./engine-run.js";
import { writeFigures } from "./figures.js";
import { startKeepAliveFront } from "./keep-alive-front.js";
import { memoryLogOption, PROBE } from "./memory-summary.js";
import { median } from "./stats.js";

interface Endpoints {
  awsEndpoint: string;
  region: string;
}
interface Environment {
  prefix: string;
  buckets: { raw: string; processed: string };
  tables: { users: string };
}
interface Clients {
  s3: unknown;
  documents: unknown;
  dynamodb: unknown;
  destroy(): void;
}
interface ScriptsModule {
  ensureLocalStack(): Promise<{ endpoints: Endpoints }>;
  provisionEnvironment(endpoints: Endpoints, prefix: string): Promise<Environment>;
  destroyEnvironment(endpoints: Endpoints, prefix: string): Promise<void>;
  localAwsClients(endpoints: Endpoints): Clients;
  uniquePrefix(label: string): string;
  stackEnvironment(endpoints: Endpoints): Record<string, string>;
}
interface Interaction {
  page: string;
  timestamp: number;
}
interface Outcome {
  kind: string;
  user?: { userId: string; userType: "Logged" | "Non-Logged" };
  interactions?: Interaction[];
}
interface DomainModule {
  openRawFile(
    source: AsyncIterable<Uint8Array>,
    key: string,
  ): Promise<{ kind: string; batches: AsyncIterable<unknown[]> }>;
  cleanRawFile(
    source: AsyncIterable<Uint8Array>,
    key: string,
    options: { schemaCheck: boolean },
  ): Promise<{ kind: string; batches: AsyncIterable<Outcome[]> }>;
  buildUserItem(
    update: { userId: string; userType: string; interactions: Interaction[] },
    updatedAt: string,
  ): Record<string, unknown>;
}
interface FeatureStoreModule {
  DynamoFeatureStore: new (
    clients: { documents: unknown; dynamodb: unknown },
    tables: unknown,
    options: { concurrency: number },
  ) => {
    batchPut(
      table: string,
      keyName: string,
      items: readonly Record<string, unknown>[],
    ): Promise<{ written: number }>;
    mergeUsers(merges: ReadonlyMap<string, (existing: unknown) => unknown>): Promise<{ written: number }>;
    batchGet(table: string, keyName: string, keys: readonly string[]): Promise<Map<string, unknown>>;
  };
}
interface S3StoreModule {
  S3ObjectStore: new (
    s3: unknown,
  ) => {
    put(bucket: string, key: string, body: Uint8Array, contentType: string): Promise<unknown>;
  };
}

const load = <T>(relative: string): Promise<T> =>
  import(pathToFileURL(path.join(ROOT, relative)).href) as Promise<T>;

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const load1 = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".csv"))
      out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/** (a) read + CSV parse only: rows of every file, and treino rows per second over all files. */
async function plainParse(domain: DomainModule, dir: string, files: string[]) {
  const started = process.hrtime.bigint();
  let rows = 0;
  let treinoRows = 0;
  for (const file of files) {
    const raw = await domain.openRawFile(createReadStream(path.join(dir, file)), file);
    for await (const batch of raw.batches) {
      rows += batch.length;
      if (raw.kind === "treino") treinoRows += batch.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, rows, treinoRows };
}

/** (b) BatchWriteItem ceiling: user items as the engine builds them, written by the engine's batch writer. */
async function batchWriteCeiling(
  domain: DomainModule,
  store: FeatureStoreModule,
  clients: Clients,
  env: Environment,
  dir: string,
  files: string[],
  limit: number,
  concurrency: number,
) {
  const items: Record<string, unknown>[] = [];
  const updatedAt = new Date().toISOString();
  for (const [index, file] of files.filter((f) => f.startsWith("treino")).entries()) {
    const cleaned = await domain.cleanRawFile(createReadStream(path.join(dir, file)), file, {
      schemaCheck: false,
    });
    for await (const batch of cleaned.batches) {
      for (const o of batch) {
        if (o.kind !== "treino" || o.user === undefined || o.interactions === undefined) continue;
        // Distinct keys: one reader appears in many files.
        const userId = `${o.user.userId}#${index}`;
        items.push({
          ...domain.buildUserItem(
            { userId, userType: o.user.userType, interactions: o.interactions },
            updatedAt,
          ),
          version: 1,
        });
        if (items.length >= limit) break;
      }
      if (items.length >= limit) break;
    }
    if (items.length >= limit) break;
  }
  const writer = new store.DynamoFeatureStore(clients, env.tables, { concurrency });
  const started = process.hrtime.bigint();
  const report = await writer.batchPut(env.tables.users, "userId", items);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // (b'') Reading those items back, 100 keys per BatchGetItem at the same concurrency: the cost of
  // reading a stored reader before merging into it (most treino rows re-merge a known reader).
  const keys = items.map((item) => String(item.userId));
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
  const startedReads = process.hrtime.bigint();
  let read = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
        const found = await writer.batchGet(env.tables.users, "userId", chunk);
        read += found.size; // after the await: `read += await …` would add to a stale value
      }
    }),
  );
  const readSeconds = Number(process.hrtime.bigint() - startedReads) / 1e9;
  // (b') The engine's own conditional path alone (BatchGetItem + one conditional PutItem per reader),
  // on fresh keys and a tenth of the items: what the engine's writes can reach without parsing.
  const merges = new Map<string, (existing: unknown) => unknown>();
  for (const item of items.slice(0, Math.ceil(items.length / 10))) {
    const { version: _version, ...draft } = item;
    merges.set(`${String(item.userId)}#c`, () => ({ ...draft, userId: `${String(item.userId)}#c` }));
  }
  const startedConditional = process.hrtime.bigint();
  const conditional = await writer.mergeUsers(merges);
  const conditionalSeconds = Number(process.hrtime.bigint() - startedConditional) / 1e9;
  return {
    items: report.written,
    seconds,
    itemsPerSecond: report.written / seconds,
    readItemsPerSecond: read / readSeconds,
    conditionalItemsPerSecond: conditional.written / conditionalSeconds,
    conditionalItems: conditional.written,
  };
}

interface EngineRun {
  files: number;
  stopped: boolean;
  seconds: number;
  peakRssMb: number;
  cpuSeconds: number;
  itemsWritten: number;
  treinoRows: number;
  interactions: number;
  userItems: number;
  snapshotSeconds: number;
  snapshotPeakRssMb: number;
  snapshotCpuSeconds: number;
  /** Mean write and strongly consistent read units of a stored reader item (its real size). */
  wcuPerItem: number;
  rcuPerItem: number;
  meanItemBytes: number;
}

/**
 * The stored reader items' mean size as DynamoDB counts it (attribute names + values) and the units
 * one write (1 KB each) and one strongly consistent read (4 KB each) of such an item consume.
 */
async function readerItemUnits(
  clients: Clients,
  env: Environment,
): Promise<{ wcuPerItem: number; rcuPerItem: number; meanItemBytes: number }> {
  const { ScanCommand } = (await import(
    pathToFileURL(
      createRequire(path.join(ROOT, "featstore-engine", "package.json")).resolve("@aws-sdk/lib-dynamodb"),
    ).href
  )) as { ScanCommand: new (input: Record<string, unknown>) => unknown };
  const documents = clients.documents as { send(c: unknown): Promise<Record<string, unknown>> };
  let items = 0;
  let bytes = 0;
  let wcu = 0;
  let rcu = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: env.tables.users,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    for (const item of (page.Items ?? []) as Record<string, unknown>[]) {
      const size = itemBytes(item);
      items++;
      bytes += size;
      wcu += Math.ceil(size / 1024);
      rcu += Math.ceil(size / 4096);
    }
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start !== undefined);
  const per = (x: number) => (items === 0 ? Number.NaN : x / items);
  return { wcuPerItem: per(wcu), rcuPerItem: per(rcu), meanItemBytes: per(bytes) };
}

/** DynamoDB's item size: each attribute's name and value (numbers ~1 byte per 2 digits + 1). */
function itemBytes(value: unknown, name = ""): number {
  const key = Buffer.byteLength(name);
  if (typeof value === "string") return key + Buffer.byteLength(value);
  if (typeof value === "number")
    return key + Math.ceil(String(Math.abs(value)).replace(/[.-]/g, "").length / 2) + 1;
  if (typeof value === "boolean" || value === null) return key + 1;
  if (value instanceof Uint8Array) return key + value.byteLength;
  if (value instanceof Set) return key + [...value].reduce((n: number, v) => n + itemBytes(v), 0);
  if (Array.isArray(value)) return key + 3 + value.reduce((n: number, v) => n + 1 + itemBytes(v), 0);
  if (typeof value === "object")
    return (
      (name === "" ? 0 : key + 3) +
      Object.entries(value as Record<string, unknown>).reduce(
        (n, [k, v]) => n + (name === "" ? 0 : 1) + itemBytes(v, k),
        0,
      )
    );
  return key;
}

/** Expected treino records of the data set, by file (written by the generator). */
async function expectedRecords(dir: string): Promise<Map<string, number>> {
  const expected = JSON.parse(await readFile(path.join(dir, "expected.json"), "utf8")) as {
    files: { path: string; kind: string; records: number }[];
  };
  return new Map(expected.files.filter((f) => f.kind === "treino").map((f) => [f.path, f.records]));
}

/**
 * One `cli ingest --prefix raw/ --no-snapshot` of the engine in `tree` (this checkout or a baseline),
 * measured; the interactions are those of the objects it finished.
 */
async function ingestOnce(
  tree: string,
  engineEnv: Record<string, string>,
  timeLimitSeconds: number,
  dir: string,
  files: string[],
  cpuProf?: string,
  probe: string[] = [],
) {
  const ingest = await runMeasured(
    [
      ...(cpuProf === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`]),
      "--conditions=@gplay/source",
      "--import",
      "tsx",
      ...probe,
      "featstore-engine/src/cli.ts",
      "ingest",
      "--prefix",
      "raw/",
      "--no-snapshot",
    ],
    engineEnv,
    timeLimitSeconds,
    tree,
  );
  if (ingest.code !== 0 && !ingest.stopped)
    throw new Error(`engine failed (${ingest.code}): ${ingest.stderr.slice(-2000)}`);
  const done = ingest.lines.filter((l) => l.text.startsWith('{"status"'));
  const results = done.map(
    (l) =>
      JSON.parse(l.text) as {
        status: string;
        kind: string;
        counts: { rowsIn: number; itemsWritten: number };
      },
  );
  // Stopped at the time limit: rate the objects finished, up to the moment the last one finished.
  const wall = ingest.stopped ? (done.at(-1)?.at ?? ingest.seconds) : ingest.seconds;
  // Objects are committed in key order: the finished ones are the first of the sorted list.
  const records = await expectedRecords(dir);
  const interactions = files.slice(0, results.length).reduce((n, f) => n + (records.get(f) ?? 0), 0);
  return { ingest, results, wall, interactions };
}

/**
 * The floor under the engine's CPU per interaction: the SDK's CPU for the engine's write path alone
 * (sdk-floor.ts of `tree`, in its own process), per conditional write.
 */
async function sdkFloor(engineEnv: Record<string, string>, dir: string, items: number, tree = ROOT) {
  const run = await runMeasured(
    [
      "--conditions=@gplay/source",
      "--import",
      "tsx",
      "bench/src/sdk-floor.ts",
      "--dir",
      dir,
      "--items",
      String(items),
    ],
    engineEnv,
    Number.POSITIVE_INFINITY,
    tree,
  );
  if (run.code !== 0) throw new Error(`sdk floor failed: ${run.stderr.slice(-2000)}`);
  const line = run.stdout.trim().split("\n").at(-1) ?? "{}";
  const { items: written, cpuSeconds } = JSON.parse(line) as { items: number; cpuSeconds: number };
  return { items: written, cpuSecondsPerItem: cpuSeconds / Math.max(1, written) };
}

/** Medians over runs of the DynamoDB requests and units per 1,000 interactions the front measured. */
function dynamoPer1000(runs: readonly { dynamo: MeterReading; interactions: number }[]) {
  const per = (pick: (r: MeterReading) => number) =>
    median(runs.map((r) => (1000 * pick(r.dynamo)) / Math.max(1, r.interactions)));
  const op = (name: string) => per((r) => r.requests[name] ?? 0);
  const total = per((r) => Object.values(r.requests).reduce((n, x) => n + x, 0));
  return {
    putItem: op("PutItem"),
    batchGet: op("BatchGetItem"),
    batchWrite: op("BatchWriteItem"),
    other: total - op("PutItem") - op("BatchGetItem") - op("BatchWriteItem"),
    total,
    wcu: per((r) => r.wcu),
    rcu: per((r) => r.rcu),
  };
}
const dynamoText = (d: ReturnType<typeof dynamoPer1000>) =>
  `${fmt(d.total, 1)} requests (${fmt(d.putItem, 1)} PutItem, ${fmt(d.batchGet, 2)} BatchGetItem, ${fmt(d.batchWrite, 2)} BatchWriteItem, ${fmt(d.other, 2)} other), ${fmt(d.wcu, 1)} WCU, ${fmt(d.rcu, 1)} RCU`;

/**
 * main before the SDK's request path was trimmed (issue #18, item 4: the pooled DynamoDB handler and
 * the low-level client on the engine's per-reader writes): its engine is re-measured beside this tree's.
 */
const BASELINE_REF = "ff93400";

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `pnpm … bench:ingest -- --scale 1` passes the `--` along.
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      scale: { type: "string", default: "0.1" },
      repeat: { type: "string", default: "1" },
      concurrency: { type: "string", default: "16" },
      "schema-check": { type: "string", default: "true" },
      // Stop the engine after this many seconds and rate the objects it finished (for full scale).
      "time-limit": { type: "string", default: "Infinity" },
      // The engine's heap settings, as its ECS task runs it (common's engine-runtime.ts).
      "node-options": { type: "string", default: ENGINE_NODE_OPTIONS },
      "ceiling-items": { type: "string", default: "50000" },
      snapshot: { type: "string", default: "true" },
      // The engine reaches the emulator through a keep-alive front (keep-alive-front.ts): moto closes
      // every connection, AWS does not. "false" measures the engine straight against the emulator.
      "keep-alive-front": { type: "string", default: "true" },
      // The engine of this git ref is measured beside this tree's in each repetition ("none": not).
      baseline: { type: "string", default: BASELINE_REF },
      // Comma-separated path prefixes: ingest only these files (e.g. "itens/itens-2022-07-01,treino/").
      only: { type: "string" },
      // The engine's group budget at full scale (GPLAY_INGEST_GROUP_INTERACTIONS); it gets this × scale.
      "group-interactions": { type: "string", default: "1000000" },
      // Write a V8 CPU profile of this tree's engine process (one per repetition) into this directory.
      "cpu-prof": { type: "string" },
      // "stand-in": DynamoDB's data plane answered at once by dynamo-standin.ts (items stored, conditions
      // evaluated) instead of the emulator, whose ~300 writes/s make a full-scale run take hours.
      dynamo: { type: "string", default: "emulator" },
      // A directory: the engine's and the snapshot's memory logged there (memory-probe.ts) and summed up.
      "memory-log": { type: "string" },
      // "false": skip (a), the plain parse of every file (minutes of CPU at full scale).
      parse: { type: "string", default: "true" },
    },
  });
  if (values.dynamo !== "emulator" && values.dynamo !== "stand-in")
    throw new Error(`--dynamo is "emulator" or "stand-in", not "${values.dynamo}"`);
  if (values.dynamo === "stand-in" && values["keep-alive-front"] !== "true")
    throw new Error("--dynamo stand-in answers through the keep-alive front: drop --keep-alive-front false");
  const scale = Number(values.scale);
  const repeat = Number(values.repeat);
  const concurrency = Number(values.concurrency);
  const { dir: memoryLog, report: reportMemory } = await memoryLogOption(values["memory-log"]);
  const scripts = await load<ScriptsModule>("scripts/src/index.ts");
  const domain = await load<DomainModule>("featstore-engine/src/domain/index.ts");
  const store = await load<FeatureStoreModule>("featstore-engine/src/adapters/dynamo-feature-store.ts");
  const { S3ObjectStore } = await load<S3StoreModule>("featstore-engine/src/adapters/s3-object-store.ts");

  const dir = await ensureData(scale);
  const only = values.only?.split(",").filter((p) => p !== "");
  const files = (await listFiles(dir)).filter((f) => only === undefined || only.some((p) => f.startsWith(p)));
  let rawBytes = 0;
  for (const f of files) rawBytes += (await stat(path.join(dir, f))).size;
  const { endpoints } = await scripts.ensureLocalStack();
  const meter = new DynamoMeter();
  const standIn = values.dynamo === "stand-in" ? new DynamoStandIn() : undefined;
  const front =
    values["keep-alive-front"] === "true"
      ? await startKeepAliveFront(endpoints.awsEndpoint, meter, { standIn })
      : undefined;
  // With the stand-in, the bench's own requests (provisioning, the ceilings, the item scan) go through
  // the front too, so they see the items the engine wrote and table deletions free the stand-in's.
  const benchEndpoints =
    standIn === undefined || front === undefined ? endpoints : { ...endpoints, awsEndpoint: front.url };
  const fullBudget = Number(values["group-interactions"]);
  const groupBudget = fullBudget === 0 ? 0 : Math.max(1, Math.round(fullBudget * scale));
  console.log(
    `scale ${scale}: ${files.length} files, ${fmt(rawBytes / 1_048_576, 1)} MB in ${dir}; load ${load1()}`,
  );

  const parses: { rowsPerSecond: number; treinoRows: number }[] = [];
  const ceilings: number[] = [];
  const readCeilings: number[] = [];
  const conditionalCeilings: number[] = [];
  const runs: EngineRun[] = [];
  const baseline = values.baseline === "none" ? undefined : baselineTree(ROOT, values.baseline as string);
  const baseRuns: { cpuSeconds: number; interactions: number; dynamo: MeterReading }[] = [];
  /** The baseline's snapshot step over the lake its engine wrote (with --snapshot true). */
  const baseSnapshots: { seconds: number; cpuSeconds: number; peakRssMb: number }[] = [];
  const dynamoRuns: MeterReading[] = [];
  const floors: number[] = [];
  /** Reader items the stand-in held after each engine run (with --dynamo stand-in). */
  const standInItems: number[] = [];
  const baseFloors: number[] = [];
  for (let r = 0; r < repeat; r++) {
    // (a) over the whole kit is minutes of CPU at full scale; --parse false leaves it out.
    const parse =
      values.parse === "true"
        ? await plainParse(domain, dir, files)
        : { seconds: Number.NaN, rows: 0, treinoRows: Number.NaN };
    parses.push({ rowsPerSecond: parse.treinoRows / parse.seconds, treinoRows: parse.treinoRows });

    const prefix = scripts.uniquePrefix("bench-ingest");
    const env = await scripts.provisionEnvironment(benchEndpoints, prefix);
    const clients = scripts.localAwsClients(benchEndpoints);
    try {
      const objects = new S3ObjectStore(clients.s3);
      for (const f of files)
        await objects.put(env.buckets.raw, `raw/${f}`, await readFile(path.join(dir, f)), "text/csv");
      const engineEnv = {
        ...scripts.stackEnvironment(endpoints),
        ...(front === undefined ? {} : { GPLAY_AWS_ENDPOINT: front.url }),
        GPLAY_PREFIX: prefix,
        LOG_LEVEL: "warn",
        GPLAY_DYNAMO_CONCURRENCY: String(concurrency),
        GPLAY_INGEST_GROUP_INTERACTIONS: String(groupBudget),
        // The task's own limit (an hour by default) would stop a full-scale run on a loaded machine;
        // the bench's --time-limit is the one that applies here.
        GPLAY_INGEST_TIME_LIMIT_S: "86400",
        GPLAY_SCHEMA_CHECK: values["schema-check"] as string,
        NODE_OPTIONS: values["node-options"] as string,
      };
      const loadBefore = load1();
      meter.take();
      const ingestLog = memoryLog && path.join(memoryLog, `ingest-${r + 1}.jsonl`);
      const { ingest, results, wall, interactions } = await ingestOnce(
        ROOT,
        { ...engineEnv, ...(ingestLog === undefined ? {} : { GPLAY_BENCH_MEMORY_LOG: ingestLog }) },
        Number(values["time-limit"]),
        dir,
        files,
        values["cpu-prof"],
        memoryLog === undefined ? [] : PROBE,
      ).finally(() => reportMemory("engine", ingestLog));
      dynamoRuns.push(meter.take());
      if (standIn !== undefined) standInItems.push(standIn.counts()[env.tables.users] ?? 0);
      const treino = results.filter((x) => x.kind === "treino");
      let snapshotSeconds = Number.NaN;
      let snapshotPeakRssMb = Number.NaN;
      let snapshotCpuSeconds = Number.NaN;
      if (values.snapshot === "true") {
        const snapshotLog = memoryLog && path.join(memoryLog, `snapshot-${r + 1}.jsonl`);
        const snap = await runMeasured(
          [
            "--conditions=@gplay/source",
            "--import",
            "tsx",
            ...(memoryLog === undefined ? [] : PROBE),
            "featstore-engine/src/cli.ts",
            "snapshot",
          ],
          { ...engineEnv, ...(snapshotLog === undefined ? {} : { GPLAY_BENCH_MEMORY_LOG: snapshotLog }) },
        ).finally(() => reportMemory("snapshot", snapshotLog));
        if (snap.code !== 0) throw new Error(`snapshot failed: ${snap.stderr.slice(-2000)}`);
        snapshotSeconds = snap.seconds;
        snapshotPeakRssMb = snap.peakRssMb;
        snapshotCpuSeconds = snap.cpuSeconds;
      }
      const units = await readerItemUnits(clients, env);
      const ceiling = await batchWriteCeiling(
        domain,
        store,
        clients,
        env,
        dir,
        files,
        Number(values["ceiling-items"]),
        concurrency,
      );
      floors.push((await sdkFloor(engineEnv, dir, Number(values["ceiling-items"]))).cpuSecondsPerItem);
      ceilings.push(ceiling.itemsPerSecond);
      conditionalCeilings.push(ceiling.conditionalItemsPerSecond);
      readCeilings.push(ceiling.readItemsPerSecond);
      const run: EngineRun = {
        files: results.length,
        stopped: ingest.stopped,
        seconds: wall,
        peakRssMb: ingest.peakRssMb,
        cpuSeconds: ingest.cpuSeconds,
        itemsWritten: results.reduce((n, x) => n + (x.counts?.itemsWritten ?? 0), 0),
        treinoRows: treino.reduce((n, x) => n + x.counts.rowsIn, 0),
        interactions,
        userItems: treino.reduce((n, x) => n + x.counts.itemsWritten, 0),
        snapshotSeconds,
        snapshotPeakRssMb,
        snapshotCpuSeconds,
        ...units,
      };
      runs.push(run);
      console.log(
        `run ${r + 1}/${repeat}: engine ${fmt(run.seconds, 1)} s (${results.length}/${files.length} files ingested${ingest.stopped ? ", stopped at the time limit" : ""}, load before ${loadBefore}, after ${load1()}), ` +
          `${fmt(run.treinoRows / run.seconds)} treino rows/s, peak RSS ${fmt(run.peakRssMb)} MB; parse ${fmt(parse.treinoRows / parse.seconds)} rows/s; ` +
          `BatchWriteItem ${fmt(ceiling.itemsPerSecond)} items/s (${ceiling.items} items); snapshot ${fmt(snapshotSeconds, 1)} s, peak RSS ${fmt(snapshotPeakRssMb)} MB`,
      );
      if (baseline !== undefined) {
        // The baseline's engine on the same objects, in an environment of its own.
        const basePrefix = scripts.uniquePrefix("bench-ingest-base");
        const baseEnv = await scripts.provisionEnvironment(benchEndpoints, basePrefix);
        try {
          for (const f of files)
            await objects.put(baseEnv.buckets.raw, `raw/${f}`, await readFile(path.join(dir, f)), "text/csv");
          meter.take();
          const base = await ingestOnce(
            baseline.dir,
            { ...engineEnv, GPLAY_PREFIX: basePrefix },
            Number(values["time-limit"]),
            dir,
            files,
          );
          baseRuns.push({
            cpuSeconds: base.ingest.cpuSeconds,
            interactions: base.interactions,
            dynamo: meter.take(),
          });
          if (values.snapshot === "true") {
            const snap = await runMeasured(
              ["--conditions=@gplay/source", "--import", "tsx", "featstore-engine/src/cli.ts", "snapshot"],
              { ...engineEnv, GPLAY_PREFIX: basePrefix },
              Number.POSITIVE_INFINITY,
              baseline.dir,
            );
            if (snap.code !== 0) throw new Error(`baseline snapshot failed: ${snap.stderr.slice(-2000)}`);
            baseSnapshots.push({
              seconds: snap.seconds,
              cpuSeconds: snap.cpuSeconds,
              peakRssMb: snap.peakRssMb,
            });
            meter.take();
          }
          baseFloors.push(
            (
              await sdkFloor(
                { ...engineEnv, GPLAY_PREFIX: basePrefix },
                dir,
                Number(values["ceiling-items"]),
                baseline.dir,
              )
            ).cpuSecondsPerItem,
          );
          console.log(
            `run ${r + 1}/${repeat}, baseline ${baseline.commit.slice(0, 7)}: ${fmt(base.interactions / base.ingest.cpuSeconds)} interactions per engine CPU-second (this tree: ${fmt(run.interactions / run.cpuSeconds)})`,
          );
        } finally {
          await scripts.destroyEnvironment(benchEndpoints, basePrefix);
        }
      }
    } finally {
      clients.destroy();
      await scripts.destroyEnvironment(benchEndpoints, prefix);
    }
  }

  await front?.close();
  const m = (key: Exclude<keyof EngineRun, "stopped">) => median(runs.map((x) => x[key]));
  const baseRate =
    baseRuns.length === 0 ? undefined : median(baseRuns.map((b) => b.interactions / b.cpuSeconds));
  const floorCpu = median(floors);
  const dynamo =
    front === undefined
      ? undefined
      : dynamoPer1000(
          runs.map((run, i) => ({ dynamo: dynamoRuns[i] as MeterReading, interactions: run.interactions })),
        );
  const baseDynamo = front === undefined || baseRuns.length === 0 ? undefined : dynamoPer1000(baseRuns);
  // Conditional writes per 1,000 interactions: measured when the front counts them.
  const writesPer1000 = dynamo?.putItem ?? (1000 * m("userItems")) / m("interactions");
  const seconds = m("seconds");
  const treinoRows = m("treinoRows");
  const rowsPerSecond = treinoRows / seconds;
  const parseRowsPerSecond = median(parses.map((p) => p.rowsPerSecond));
  const ceilingItems = median(ceilings);
  // The engine writes about one user item per treino row; the ceiling in the same unit as (a):
  const userItemsPerRow = (runs[0]?.userItems ?? 0) / Math.max(1, treinoRows);
  const ceilingRowsPerSecond = ceilingItems / Math.max(1e-9, userItemsPerRow);
  const slower = Math.min(parseRowsPerSecond, ceilingRowsPerSecond);
  const peak = Math.max(...runs.map((x) => x.peakRssMb));
  const rows: [string, string][] = [
    ["scale / files / raw MB", `${scale} / ${files.length} / ${fmt(rawBytes / 1_048_576, 1)}`],
    ["repetitions (medians)", String(runs.length)],
    [
      "objects ingested",
      `${m("files")}/${files.length}${runs.some((x) => x.stopped) ? " (stopped at the time limit; rates over the finished objects)" : ""}`,
    ],
    ["engine wall time", `${fmt(seconds, 1)} s`],
    ["end-to-end treino rows/s", fmt(rowsPerSecond)],
    ["end-to-end interactions/s", fmt(m("interactions") / seconds)],
    [
      "engine CPU per 1,000 interactions",
      `${(m("cpuSeconds") / (m("interactions") / 1000)).toFixed(3)} s (its process only: ${fmt(m("interactions") / m("cpuSeconds"))} interactions per CPU-second; target ≥ 20,000 → ${m("interactions") / m("cpuSeconds") >= 20_000 ? "MET" : "NOT MET"})`,
    ],
    [
      "  the same, baseline engine",
      baseRate === undefined
        ? "not measured (--baseline none)"
        : `${fmt(baseRate)} interactions per CPU-second at ${baseline?.commit.slice(0, 7)}; this tree ${(m("interactions") / m("cpuSeconds") / baseRate).toFixed(2)}× of it (medians of ${baseRuns.length})`,
    ],
    [
      "  emulator connections",
      front === undefined
        ? "direct: moto closes every connection, so each request pays a TCP connect (AWS keeps them alive)"
        : "through a keep-alive front (moto closes every connection, AWS keeps them alive; keep-alive-front.ts)",
    ],
    [
      "  floor: the SDK's write path alone",
      `${(1000 * floorCpu).toFixed(3)} CPU ms per conditional PutItem (+ 1/100 BatchGetItem), in a process of its own; ` +
        `at ${fmt(writesPer1000, 1)} PutItem per 1,000 interactions that alone allows ≤ ${fmt(1000 / (writesPer1000 * floorCpu))} interactions per CPU-second ` +
        `(engine CPU minus the floor's share: ${fmt((1e6 * m("cpuSeconds")) / m("interactions") - writesPer1000 * floorCpu * 1000, 1)} CPU ms per 1,000 interactions, start-up included; within noise when near or below 0)`,
    ],
    [
      "  the same, baseline engine's SDK path",
      baseFloors.length === 0
        ? "not measured"
        : `${(1000 * median(baseFloors)).toFixed(3)} CPU ms per conditional PutItem at ${baseline?.commit.slice(0, 7)}; this tree ${(floorCpu / median(baseFloors)).toFixed(2)}× of it (medians of ${baseFloors.length})`,
    ],
    [
      "  DynamoDB answered by",
      standIn === undefined
        ? "the emulator (moto)"
        : `the stand-in (dynamo-standin.ts: data plane answered at once from the items stored, conditions evaluated; S3 and table management on the emulator): ${fmt(median(standInItems))} reader items stored; the ceilings (b), (b'), (b'') below are the stand-in's, not the emulator's`,
    ],
    [
      "DynamoDB per 1,000 interactions",
      dynamo === undefined
        ? "not measured (--keep-alive-front false: the front counts them)"
        : `${dynamoText(dynamo)} (measured at the front from the request and response bodies: 1 WCU per started KB of each item written, 1 RCU per started 4 KB of each item read strongly)`,
    ],
    ["  the same, baseline engine", baseDynamo === undefined ? "not measured" : dynamoText(baseDynamo)],
    [
      "  group budget",
      groupBudget === 0
        ? "0: every object on its own"
        : `${fmt(groupBudget)} interactions held (${fmt(fullBudget)} at full scale × scale ${scale}; GPLAY_INGEST_GROUP_INTERACTIONS)`,
    ],
    [
      "  stored reader items",
      `${fmt(m("meanItemBytes"))} bytes on average, ${m("wcuPerItem").toFixed(2)} WCU / ${m("rcuPerItem").toFixed(2)} RCU each`,
    ],
    ["DynamoDB items/s (engine)", `${fmt(m("itemsWritten") / seconds)} (${fmt(m("itemsWritten"))} items)`],
    ["peak RSS of the engine", `${fmt(peak)} MB (target < 1024)`],
    ["(a) plain parse treino rows/s", fmt(parseRowsPerSecond)],
    ["(b) BatchWriteItem items/s", `${fmt(ceilingItems)} (c=${concurrency}, 25/batch)`],
    [
      "(b'') BatchGetItem of stored readers",
      `${fmt(median(readCeilings))} items/s (100 keys per request; reading a reader before merging into it)`,
    ],
    [
      "read + batch write, per reader",
      `${fmt(1 / (1 / median(readCeilings) + 1 / ceilingItems))} items/s = ${((100 * (1 / (1 / median(readCeilings) + 1 / ceilingItems))) / ceilingItems).toFixed(0)}% of (b): the bound of any merge that reads the stored reader, even with unconditional writes`,
    ],
    [
      "(b') conditional path items/s",
      `${fmt(median(conditionalCeilings))} (the engine's BatchGetItem + conditional PutItem alone; engine at ${((100 * m("itemsWritten")) / seconds / median(conditionalCeilings)).toFixed(0)}% of it)`,
    ],
    [
      "(b) as treino rows/s",
      `${fmt(ceilingRowsPerSecond)} (${userItemsPerRow.toFixed(3)} user items per row)`,
    ],
    [
      "target 0.8 × slower of (a),(b)",
      `${fmt(0.8 * slower)} rows/s → ${treinoRows === 0 ? "n/a (no treino rows finished)" : rowsPerSecond >= 0.8 * slower ? "MET" : "NOT MET"} (${((100 * rowsPerSecond) / slower).toFixed(0)}% of the slower)`,
    ],
    [
      "snapshot (separate)",
      `${fmt(m("snapshotSeconds"), 1)} s, ${fmt(m("snapshotCpuSeconds"), 1)} CPU s, peak RSS ${fmt(Math.max(...runs.map((x) => x.snapshotPeakRssMb)))} MB (target < 1024)`,
    ],
    [
      "  the same, baseline",
      baseSnapshots.length === 0
        ? "not measured"
        : `${fmt(median(baseSnapshots.map((x) => x.seconds)), 1)} s, ${fmt(median(baseSnapshots.map((x) => x.cpuSeconds)), 1)} CPU s, peak RSS ${fmt(Math.max(...baseSnapshots.map((x) => x.peakRssMb)))} MB at ${baseline?.commit.slice(0, 7)} (over the lake its engine wrote)`,
    ],
    ["load average (1/5/15 min)", load1()],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log("");
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  const per1000 = (x: number) => (1000 * x) / m("interactions");
  // docs/cost.md reads "ingest" (the emulator's runs); a stand-in run is kept beside it.
  writeFigures(ROOT, standIn === undefined ? "ingest" : "ingest-stand-in", {
    scale,
    interactions: m("interactions"),
    engineCpuSecondsPer1000: per1000(m("cpuSeconds")),
    engineWallSecondsPer1000: per1000(seconds),
    // Measured at the front when it ran; otherwise estimated from the stored readers' sizes.
    putItemPer1000: writesPer1000,
    batchGetPer1000: dynamo?.batchGet ?? per1000(m("userItems")) / 100,
    wcuPer1000: dynamo?.wcu ?? per1000(m("userItems") * m("wcuPerItem")),
    rcuPer1000: dynamo?.rcu ?? per1000(m("userItems") * m("rcuPerItem")),
    unitsMeasured: dynamo !== undefined,
    groupInteractionsFullScale: fullBudget,
    readerItemBytes: m("meanItemBytes"),
    readerItemRcu: m("rcuPerItem"),
    enginePeakRssMb: peak,
    snapshotSeconds: m("snapshotSeconds"),
    snapshotCpuSeconds: m("snapshotCpuSeconds"),
    snapshotPeakRssMb: Math.max(...runs.map((x) => x.snapshotPeakRssMb)),
    keepAliveFront: front !== undefined,
    dynamo: values.dynamo,
    sdkFloorCpuMsPerWrite: 1000 * floorCpu,
    baselineSdkFloorCpuMsPerWrite: baseFloors.length === 0 ? null : 1000 * median(baseFloors),
    baselineEngineCpuSecondsPer1000: baseRate === undefined ? null : 1000 / baseRate,
    baselineRef: baseline?.commit ?? null,
    baselineWcuPer1000: baseDynamo?.wcu ?? null,
    baselineRcuPer1000: baseDynamo?.rcu ?? null,
    baselineRequestsPer1000: baseDynamo?.total ?? null,
    requestsPer1000: dynamo?.total ?? null,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
