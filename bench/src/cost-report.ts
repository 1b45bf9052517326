/**
 * Writes docs/cost.md from the figures the benchmarks last recorded (figures.ts): what one full G1
 * ingest, one snapshot, one training run and one million /predict cost in DynamoDB on-demand units
 * and Fargate vCPU-seconds, priced at the public on-demand prices of one region.
 *
 *   pnpm --filter @gplay/bench cost-report
 *
 * Run bench:api, bench:ingest (with --snapshot true, the default) and training-speed first; a missing
 * benchmark leaves its rows marked "not measured".
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Figures, readFigures } from "./figures.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Public on-demand prices, US East (N. Virginia), us-east-1: Fargate Linux/x86 and DynamoDB
 * on-demand throughput (standard table class) as published for 2026 (the rates since DynamoDB's
 * November 2024 on-demand price cut). Update `PRICES_CHECKED` with the rates when they change.
 */
export const PRICES = {
  region: "us-east-1 (US East, N. Virginia)",
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  dynamoWriteRequestUnitPerMillion: 0.625,
  dynamoReadRequestUnitPerMillion: 0.125,
} as const;
export const PRICES_CHECKED = "2026-12-06";

/** Reads in the real G1 kit (treino): one full ingest writes them all. */
const G1_INTERACTIONS = 8_123_951;

interface TaskSize {
  cpu: number;
  memory: number;
}

interface Row {
  what: string;
  vcpuSeconds: number;
  memoryGb: number;
  wcu: number;
  rcu: number;
  source: string;
}

const fmt = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "not measured";

function cost(row: Row): number {
  const hours = row.vcpuSeconds / 3600;
  return (
    hours * PRICES.fargateVcpuHour +
    hours * row.memoryGb * PRICES.fargateGbHour +
    (row.wcu / 1e6) * PRICES.dynamoWriteRequestUnitPerMillion +
    (row.rcu / 1e6) * PRICES.dynamoReadRequestUnitPerMillion
  );
}

const num = (f: Figures | undefined, key: string): number => {
  const v = f?.[key];
  return typeof v === "number" ? v : Number.NaN;
};

async function main(): Promise<void> {
  const { DEFAULTS } = (await import(pathToFileURL(path.join(root, "infra/src/plan/config.ts")).href)) as {
    DEFAULTS: { api: TaskSize; featstoreEngine: TaskSize; training: TaskSize };
  };
  // Memory billed per vCPU-second of each task, at the deployed task sizes (infra/src/plan/config.ts).
  const gbPerVcpu = (t: TaskSize) => t.memory / 1024 / (t.cpu / 1024);
  const api = readFigures(root, "api");
  const ingest = readFigures(root, "ingest");
  const training = readFigures(root, "training");
  const scales = (training?.scales ?? []) as Record<string, number>[];
  const fullTraining = scales.find((s) => s.scale === 1) ?? scales.at(-1);
  const ingestScale = num(ingest, "scale");
  // The snapshot reads the lake, not DynamoDB: the largest-scale run that measured it, whichever
  // DynamoDB answered its ingest (a full-scale run measures it directly instead of scaling it).
  const snapshotRun = [ingest, readFigures(root, "ingest-stand-in")]
    .filter(
      (f): f is Figures => Number.isFinite(num(f, "scale")) && Number.isFinite(num(f, "snapshotCpuSeconds")),
    )
    .sort((a, b) => num(b, "scale") - num(a, "scale"))[0];
  const snapshotScale = num(snapshotRun, "scale");
  const rows: Row[] = [
    {
      what: `one full G1 ingest (${fmt(G1_INTERACTIONS)} interactions)`,
      vcpuSeconds: (num(ingest, "engineCpuSecondsPer1000") * G1_INTERACTIONS) / 1000,
      memoryGb: gbPerVcpu(DEFAULTS.featstoreEngine),
      wcu: (num(ingest, "wcuPer1000") * G1_INTERACTIONS) / 1000,
      rcu: (num(ingest, "rcuPer1000") * G1_INTERACTIONS) / 1000,
      source: `bench:ingest at scale ${fmt(ingestScale, 2)}: engine CPU and units per 1,000 interactions × the kit's interactions${ingest?.keepAliveFront === true ? " (the engine reaching the emulator through a keep-alive front, as it reaches AWS over kept-alive connections)" : ""}${typeof ingest?.groupInteractionsFullScale === "number" ? `; a backfill merging readers across treino objects, ${fmt(ingest.groupInteractionsFullScale)} interactions held at full scale` : ""}`,
    },
    ...(typeof ingest?.baselineWcuPer1000 === "number" &&
    typeof ingest.baselineEngineCpuSecondsPer1000 === "number"
      ? [
          {
            what: `  the same, before (${String(ingest.baselineRef ?? "baseline").slice(0, 7)}: the SDK's default request path)`,
            vcpuSeconds: (ingest.baselineEngineCpuSecondsPer1000 * G1_INTERACTIONS) / 1000,
            memoryGb: gbPerVcpu(DEFAULTS.featstoreEngine),
            wcu: (ingest.baselineWcuPer1000 * G1_INTERACTIONS) / 1000,
            rcu: (num(ingest, "baselineRcuPer1000") * G1_INTERACTIONS) / 1000,
            source: "the baseline engine re-measured in the same bench:ingest run, on the same files",
          },
        ]
      : []),
    {
      what: "one snapshot (full scale)",
      vcpuSeconds: num(snapshotRun, "snapshotCpuSeconds") / snapshotScale,
      memoryGb: gbPerVcpu(DEFAULTS.featstoreEngine),
      wcu: 0,
      rcu: 0,
      source:
        snapshotScale === 1
          ? `bench:ingest's snapshot step at full scale (reads the lake, not DynamoDB; peak RSS ${fmt(num(snapshotRun, "snapshotPeakRssMb"))} MB)`
          : `bench:ingest's snapshot step at scale ${fmt(snapshotScale, 2)}, scaled linearly (reads the lake, not DynamoDB)`,
    },
    {
      what: `one training run (${fullTraining === undefined ? "?" : fmt(fullTraining.epochs ?? Number.NaN)} epochs)`,
      vcpuSeconds: (fullTraining?.trainingCpuSeconds ?? Number.NaN) / (fullTraining?.scale ?? Number.NaN),
      memoryGb: gbPerVcpu(DEFAULTS.training),
      wcu: 0,
      rcu: 0,
      source: `training-speed at scale ${fullTraining?.scale ?? "?"}: CPU seconds of baselines, features and every epoch (tfjs-${String(fullTraining?.backend ?? "?")})`,
    },
    {
      what: "1 million /predict",
      vcpuSeconds: num(api, "warmCpuMsPerPredict") * 1000,
      memoryGb: gbPerVcpu(DEFAULTS.api),
      wcu: 0,
      rcu: num(ingest, "readerItemRcu") * 1e6,
      source:
        "bench:api: CPU ms per /predict with the reader cache warm; one strongly consistent GetItem of the reader per request (every request missing the cache: an upper bound)",
    },
  ];
  const table = [
    "| what | Fargate vCPU-seconds | DynamoDB WCU | DynamoDB RCU | on-demand cost (USD) | from |",
    "|---|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.what} | ${fmt(r.vcpuSeconds)} | ${fmt(r.wcu)} | ${fmt(r.rcu)} | ${Number.isFinite(cost(r)) ? `$${cost(r).toFixed(4)}` : "not measured"} | ${r.source} |`,
    ),
  ];
  const commands = [
    api,
    ingest,
    ...(snapshotRun !== undefined && snapshotRun !== ingest ? [snapshotRun] : []),
    training,
  ]
    .filter((f): f is Figures => f !== undefined)
    .map((f) => `- \`${f.command}\` (${f.measuredAt})`);
  const doc = `# What it costs

Generated by \`pnpm --filter @gplay/bench cost-report\` from the figures the benchmarks printed and
recorded in their last runs on this machine (\`.local/bench/figures/\`); do not edit by hand.

Prices: public on-demand prices of ${PRICES.region}, the rates AWS publishes for 2026 (cross-checked
${PRICES_CHECKED} against summaries of the AWS price list; this machine cannot reach the AWS pricing
pages, so verify them there before quoting a bill):
Fargate Linux/x86 $${PRICES.fargateVcpuHour} per vCPU-hour and $${PRICES.fargateGbHour} per GB-hour;
DynamoDB on-demand $${PRICES.dynamoWriteRequestUnitPerMillion} per million write request units and
$${PRICES.dynamoReadRequestUnitPerMillion} per million read request units.

${table.join("\n")}

How to read it:
- Fargate vCPU-seconds are the CPU seconds the process itself used (from /proc or process.cpuUsage),
  i.e. what a task sized to be busy bills; a task that waits on DynamoDB or S3 bills its wall time
  instead. Memory is priced at the deployed task's GB per vCPU (infra/src/plan/config.ts): engine
  ${gbPerVcpu(DEFAULTS.featstoreEngine)} GB, training ${gbPerVcpu(DEFAULTS.training)} GB, api ${gbPerVcpu(DEFAULTS.api)} GB.
- Ingest units${ingest?.unitsMeasured === true ? "" : " (estimated: this run did not meter them)"}: every DynamoDB request the engine sent, metered
  at the keep-alive front from the real request and response bodies (bench/src/dynamo-meter.ts): 1 WCU
  per started KB of each item written (reader and article upserts, ingestion markers), 1 RCU per
  started 4 KB of each item read strongly (the stored readers and articles read before merging).
- Measured on a shared 2-core machine: CPU per unit of work is less sensitive to its load than
  throughput is, but other processes' cache pressure still inflates it. The snapshot row comes from
  the largest-scale bench:ingest run recorded (its ingest may have written to the DynamoDB stand-in:
  the snapshot reads only the lake), scaled linearly when that scale is not 1.

Runs behind these figures:
${commands.join("\n") || "- none yet: run the benchmarks first"}
`;
  writeFileSync(path.join(root, "docs", "cost.md"), doc);
  process.stdout.write(`${doc}\nwrote docs/cost.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
