/**
 * Erasure speed (issue #20): on a lake the engine ingested at `--scale` (1 = the full kit: 577,942
 * readers, ~8.1 M interactions), the time of `cli erase` for the reader with the most reads, then
 * for a batch of `--batch` other readers, next to the floor they are bound by, measured in the same
 * run: one plain pass (list and read every object version of raw/, processed/ and mlflow/, nothing
 * decoded), through the engine's own S3 adapter.
 *
 *   pnpm --filter @gplay/bench bench:erase -- --scale 0.1|1 [--batch 1000] [--repeats 3] [--cpu-prof DIR]
 *     [--engine REF] [--baseline REF] [--dynamo emulator|stand-in] [--memory-log DIR] [--node-options "…"]
 *
 * Each of the `--repeats` rounds is a plain pass, a read+rewrite pass (every version read and written
 * back once, to a scratch prefix), the erasure of one of the heaviest readers, of a typical reader
 * (median reads: the reader index lets it read only the objects that hold them), and of a batch
 * disjoint from the other rounds'; it prints the medians (and every run), per phase, with the objects
 * the scan found holding the readers (and rewrote) and those the reader index let it skip.
 * Each erase run's S3 requests and the object bytes it read and wrote are counted at the keep-alive
 * front and printed as multiples of the lake's bytes (what the plain pass of its round read): how many
 * times the erasure reads and writes the lake, a figure that holds on S3 too, beside its wall time on
 * the emulator. `--engine REF` runs the engine (ingestion and erasure) from the sources of a git ref
 * (baseline-tree.ts), for a before/after in the same conditions. `--baseline REF` also erases, each
 * round, a second batch (disjoint from every other) with the erasure of REF's sources, on the same lake
 * right after (odd rounds) or before (even rounds) this engine's batch, and prints the two side by side
 * with their ratios: a before/after of the erasure in one run, on one ingested lake.
 * The lake is ingested without its snapshot (`cli ingest --no-snapshot`), then the full snapshot step
 * (`cli snapshot`) is timed on its own, with its peak RSS. `--dynamo stand-in` answers DynamoDB's data
 * plane from dynamo-standin.ts inside the keep-alive front (the emulator writes ~300 items/s: a
 * full-scale ingest and a batch's snapshot lists would measure its ceiling), for every engine run
 * (ingest, snapshot, erase); S3 stays the emulator's. `--memory-log DIR` preloads memory-probe.ts into
 * the ingest, the snapshot and each erase run and sums their logs up; `--node-options` is every engine run's
 * NODE_OPTIONS (ingest, snapshot, erasures), by default the heap settings the engine's ECS task runs
 * with (common's ENGINE_NODE_OPTIONS: without a cap the full snapshot peaked at 2.1 GB).
 * Below scale 1 it prints the full-scale figure extrapolated linearly in lake bytes (the erase is a
 * pass over the lake plus the rewrite of the objects that hold the readers) and says so.
 */
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ENGINE_NODE_OPTIONS } from "@gplay/common";
import { baselineTree } from "./baseline-tree.js";
import { DynamoMeter, type MeterReading } from "./dynamo-meter.js";
import { DynamoStandIn } from "./dynamo-standin.js";
import { ensureData, ROOT, runMeasured } from "./engine-run.js";
import { startKeepAliveFront } from "./keep-alive-front.js";
import { memoryLogOption, PROBE } from "./memory-summary.js";
import { S3Meter, type S3Reading } from "./s3-meter.js";
import { median } from "./stats.js";

interface Endpoints {
  awsEndpoint: string;
  region: string;
}
interface Environment {
  prefix: string;
  buckets: { raw: string; processed: string; models: string };
}
interface ScriptsModule {
  ensureLocalStack(): Promise<{ endpoints: Endpoints }>;
  provisionEnvironment(endpoints: Endpoints, prefix: string): Promise<Environment>;
  destroyEnvironment(endpoints: Endpoints, prefix: string): Promise<void>;
  localAwsClients(endpoints: Endpoints): {
    s3: { send(command: unknown): Promise<unknown> };
    destroy(): void;
  };
  uniquePrefix(label: string): string;
  stackEnvironment(endpoints: Endpoints): Record<string, string>;
}
interface VersionedStore {
  listVersions(
    bucket: string,
    prefix: string,
  ): AsyncIterable<{ key: string; versionId: string; size: number }>;
  readVersion(bucket: string, key: string, versionId: string): Promise<Uint8Array>;
  putWithMetadata(
    bucket: string,
    key: string,
    body: Uint8Array,
    type: string,
    meta: object,
  ): Promise<unknown>;
  deleteVersion(bucket: string, key: string, versionId: string): Promise<void>;
}
type Run = Awaited<ReturnType<typeof runMeasured>> & {
  phases: Record<string, number>;
  /** The DynamoDB requests of the run (counted at the keep-alive front), and how its snapshot was built. */
  dynamo: MeterReading;
  /** Its S3 requests and object bytes (counted at the keep-alive front), and the lake's bytes then. */
  s3: S3Reading & { lakeBytes: number };
  snapshot: string;
};
interface S3Module {
  PutBucketVersioningCommand: new (input: unknown) => unknown;
}

const load = <T>(relative: string): Promise<T> =>
  import(pathToFileURL(path.join(ROOT, relative)).href) as Promise<T>;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const node = ["--conditions=@gplay/source", "--import", "tsx", "featstore-engine/src/cli.ts"];

async function csvFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith(".csv")) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

/** Rows per reader over the treino files (the first field of each row). */
async function readsPerReader(dir: string, files: string[]): Promise<Map<string, number>> {
  const reads = new Map<string, number>();
  for (const f of files.filter((f) => f.startsWith("treino/"))) {
    const text = await readFile(path.join(dir, f), "utf8");
    for (const m of text.matchAll(/^([0-9a-f]{64}),[^,]*,(\d+),/gm))
      reads.set(m[1] as string, (reads.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return reads;
}

/** Medians over runs of the DynamoDB requests by operation, and of the write units. */
function dynamoText(runs: readonly Run[]): string {
  const operations = [...new Set(runs.flatMap((r) => Object.keys(r.dynamo.requests)))].sort();
  const byOperation = operations.map(
    (op) => `${op} ${fmt(median(runs.map((r) => r.dynamo.requests[op] ?? 0)))}`,
  );
  return `${byOperation.join(", ") || "none"}; WCU ${fmt(median(runs.map((r) => r.dynamo.wcu)))}, RCU ${fmt(median(runs.map((r) => r.dynamo.rcu)))}`;
}

/**
 * Medians over runs of the S3 object bytes read and written, in MB and in lakes (the lake's bytes of
 * the same round), and of the requests by operation.
 */
function s3Text(runs: readonly Run[]): string {
  const mb = (n: number) => `${fmt(n / 1_048_576, 1)} MB`;
  const lakes = (bytes: (r: Run) => number) =>
    `${fmt(median(runs.map((r) => bytes(r) / r.s3.lakeBytes)), 2)} lakes [${runs.map((r) => fmt(bytes(r) / r.s3.lakeBytes, 2)).join(", ")}]`;
  const operations = [...new Set(runs.flatMap((r) => Object.keys(r.s3.requests)))].sort();
  const byOperation = operations.map((op) => `${op} ${fmt(median(runs.map((r) => r.s3.requests[op] ?? 0)))}`);
  return [
    `read ${mb(median(runs.map((r) => r.s3.bytesRead)))} = ${lakes((r) => r.s3.bytesRead)}`,
    `written ${mb(median(runs.map((r) => r.s3.bytesWritten)))} = ${lakes((r) => r.s3.bytesWritten)}`,
    `requests ${byOperation.join(", ") || "none"}`,
  ].join("; ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      scale: { type: "string", default: "0.1" },
      batch: { type: "string", default: "1000" },
      repeats: { type: "string", default: "3" },
      // A V8 CPU profile of each erase run, written into this directory (where an erasure's CPU goes).
      "cpu-prof": { type: "string" },
      // The engine's sources from this git ref (a before/after in the same conditions); default: this tree.
      engine: { type: "string" },
      // A second engine's erasure (a git ref's sources), run on a disjoint batch each round beside this one.
      baseline: { type: "string" },
      // "stand-in": DynamoDB's data plane answered at once by dynamo-standin.ts (see the file comment).
      dynamo: { type: "string", default: "emulator" },
      // A directory: the ingest's and the snapshot's memory logged there (memory-probe.ts) and summed up.
      "memory-log": { type: "string" },
      // Every engine run's NODE_OPTIONS: by default the engine's ECS task's (common's engine-runtime.ts).
      "node-options": { type: "string", default: ENGINE_NODE_OPTIONS },
    },
  });
  if (values.dynamo !== "emulator" && values.dynamo !== "stand-in")
    throw new Error(`--dynamo is "emulator" or "stand-in", not "${values.dynamo}"`);
  const { dir: memoryLog, report: reportMemory } = await memoryLogOption(values["memory-log"]);
  const scale = Number(values.scale);
  const batch = Number(values.batch);
  const repeats = Math.max(1, Number(values.repeats));
  const scripts = await load<ScriptsModule>("scripts/src/index.ts");
  const { S3VersionedStore } = await load<{ S3VersionedStore: new (s3: unknown) => VersionedStore }>(
    "featstore-engine/src/adapters/s3-versioned-store.ts",
  );
  // The engine's own SDK (the bench workspace does not depend on it).
  const { PutBucketVersioningCommand } = createRequire(path.join(ROOT, "featstore-engine/package.json"))(
    "@aws-sdk/client-s3",
  ) as S3Module;
  const engineTree = values.engine === undefined ? undefined : baselineTree(ROOT, values.engine);
  const engineCwd = engineTree?.dir ?? ROOT;
  const baseTree = values.baseline === undefined ? undefined : baselineTree(ROOT, values.baseline);
  const dir = await ensureData(scale);
  const files = await csvFiles(dir);
  const { endpoints } = await scripts.ensureLocalStack();
  const prefix = scripts.uniquePrefix("bench-erase");
  const env = await scripts.provisionEnvironment(endpoints, prefix);
  const clients = scripts.localAwsClients(endpoints);
  const store = new S3VersionedStore(clients.s3);
  // The erase runs reach the emulator through the keep-alive front, which counts their DynamoDB requests;
  // with the stand-in, every engine run goes through it (the stand-in holds the items).
  const meter = new DynamoMeter();
  const s3Meter = new S3Meter();
  const standIn = values.dynamo === "stand-in" ? new DynamoStandIn() : undefined;
  const front = await startKeepAliveFront(endpoints.awsEndpoint, meter, { s3: s3Meter, standIn });
  const engineEnv = {
    ...scripts.stackEnvironment(endpoints),
    ...(standIn === undefined ? {} : { GPLAY_AWS_ENDPOINT: front.url }),
    GPLAY_PREFIX: prefix,
    LOG_LEVEL: "warn",
    NODE_OPTIONS: values["node-options"] as string,
  };
  try {
    await clients.s3.send(
      new PutBucketVersioningCommand({
        Bucket: env.buckets.raw,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    for (const f of files)
      await store.putWithMetadata(
        env.buckets.raw,
        `raw/${f}`,
        await readFile(path.join(dir, f)),
        "text/csv",
        {},
      );
    console.log(
      `scale ${scale}: ingesting ${files.length} files (load ${loadavg()[0]?.toFixed(1)}; DynamoDB: ${standIn === undefined ? "the emulator" : "the stand-in, dynamo-standin.ts"}) …`,
    );
    if (engineTree !== undefined) console.log(`engine: the sources of ${engineTree.commit} (${engineCwd})`);
    if (baseTree !== undefined)
      console.log(`baseline erasure: the sources of ${baseTree.commit} (${baseTree.dir})`);
    // The child's node arguments, with the memory probe preloaded after tsx when asked.
    const probed = (log: string | undefined) =>
      log === undefined ? node : [...node.slice(0, 3), ...PROBE, ...node.slice(3)];
    const ingestLog = memoryLog && path.join(memoryLog, "ingest.jsonl");
    const ingest = await runMeasured(
      [...probed(ingestLog), "ingest", "--prefix", "raw/", "--no-snapshot"],
      {
        ...engineEnv,
        // The task's own limit (an hour) would stop a full-scale ingest on a loaded machine.
        GPLAY_INGEST_TIME_LIMIT_S: "86400",
        ...(ingestLog === undefined ? {} : { GPLAY_BENCH_MEMORY_LOG: ingestLog }),
      },
      Number.POSITIVE_INFINITY,
      engineCwd,
    ).finally(() => reportMemory("ingest", ingestLog));
    if (ingest.code !== 0) throw new Error(`ingestion failed: ${ingest.stderr.slice(-2000)}`);
    console.log(
      `ingested in ${fmt(ingest.seconds)} s, CPU ${fmt(ingest.cpuSeconds)} s, peak RSS ${fmt(ingest.peakRssMb)} MB (NODE_OPTIONS ${values["node-options"]}; load ${loadavg()[0]?.toFixed(1)})`,
    );
    const snapshotLog = memoryLog && path.join(memoryLog, "snapshot.jsonl");
    const snapshot = await runMeasured(
      [...probed(snapshotLog), "snapshot"],
      { ...engineEnv, ...(snapshotLog === undefined ? {} : { GPLAY_BENCH_MEMORY_LOG: snapshotLog }) },
      Number.POSITIVE_INFINITY,
      engineCwd,
    ).finally(() => reportMemory("snapshot", snapshotLog));
    if (snapshot.code !== 0) throw new Error(`snapshot failed: ${snapshot.stderr.slice(-2000)}`);
    console.log(
      `full snapshot in ${fmt(snapshot.seconds, 1)} s, CPU ${fmt(snapshot.cpuSeconds, 1)} s, peak RSS ${fmt(snapshot.peakRssMb)} MB (NODE_OPTIONS ${values["node-options"]}; load ${loadavg()[0]?.toFixed(1)})` +
        (standIn === undefined ? "" : `; stand-in items: ${JSON.stringify(standIn.counts())}`),
    );

    const zones = [
      [env.buckets.raw, "raw/"],
      [env.buckets.processed, "processed/"],
      [env.buckets.models, "mlflow/"],
    ] as const;
    // The baseline: one pass over every object version of the three zones, nothing decoded.
    const pass = async () => {
      const started = process.hrtime.bigint();
      let bytes = 0;
      let objects = 0;
      for (const [bucket, zone] of zones)
        for await (const v of store.listVersions(bucket, zone)) {
          bytes += (await store.readVersion(bucket, v.key, v.versionId)).byteLength;
          objects += 1;
        }
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes, objects };
    };
    // What "about one pass" can honestly mean for an erasure that must rewrite what it reads: every
    // version read and written back once (to a scratch prefix, deleted after, so the lake is unchanged).
    const rewritePass = async () => {
      const started = process.hrtime.bigint();
      const scratch: string[] = [];
      for (const [bucket, zone] of zones)
        for await (const v of store.listVersions(bucket, zone)) {
          const key = `bench-scratch/${scratch.length}`;
          const bytes = await store.readVersion(bucket, v.key, v.versionId);
          await store.putWithMetadata(env.buckets.processed, key, bytes, "application/octet-stream", {});
          scratch.push(key);
        }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      for await (const v of store.listVersions(env.buckets.processed, "bench-scratch/"))
        await store.deleteVersion(env.buckets.processed, v.key, v.versionId);
      return seconds;
    };

    const reads = [...(await readsPerReader(dir, files))].sort((a, b) => b[1] - a[1]);
    // One-reader runs erase the heaviest readers, one per run; batches are disjoint, spread over the rest.
    const heaviest = reads.slice(0, repeats);
    if (heaviest.length < repeats) throw new Error("fewer readers than repeats in the data");
    // A typical reader (around the median of reads): what the reader index saves shows there.
    const middle = Math.floor(reads.length / 2);
    const typical = reads.slice(middle, middle + repeats);
    const rest = [...reads.slice(repeats, middle), ...reads.slice(middle + repeats)];
    // With a baseline, each round erases two batches: groups `r` and `repeats + r`.
    const groups = baseTree === undefined ? repeats : 2 * repeats;
    const stride = Math.max(1, Math.floor(rest.length / (batch * groups)));
    const spread = rest.filter((_, i) => i % stride === 0);
    const batches = Array.from({ length: groups }, (_, r) =>
      spread.filter((_, i) => i % groups === r).slice(0, batch),
    );
    // Info logs for the erase runs: their `erasure-finished` line holds the seconds per phase.
    const eraseEnv = { ...engineEnv, LOG_LEVEL: "info", GPLAY_AWS_ENDPOINT: front.url };
    const phasesOf = (stdout: string): Record<string, number> => {
      const lines = stdout.split("\n");
      const finished = lines.find((l) => l.includes('"erasure-finished"'));
      const located = lines.find((l) => l.includes('"erasure-located"'));
      // The scan's reads: objects holding the readers (rewritten), and those the reader index let it skip.
      const { objects, indexed } = located === undefined ? {} : JSON.parse(located);
      return {
        ...(finished === undefined ? {} : (JSON.parse(finished).phases as Record<string, number>)),
        ...(typeof objects === "number" ? { "hit objects": objects } : {}),
        ...(typeof indexed === "number" ? { "skipped by the index": indexed } : {}),
      };
    };
    // How the erasure's snapshot was built: subtracted from the previous one, or in full (and why).
    const snapshotOf = (stdout: string): string => {
      const line = stdout.split("\n").find((l) => l.includes('"snapshot built and published"'));
      if (line === undefined) return "none";
      const { mode, fallback, lists, unchanged } = JSON.parse(line);
      return `${mode}${fallback === undefined ? "" : ` (${fallback})`}, ${lists - unchanged} of ${lists} lists written`;
    };
    const cpuProfIn = (sub?: string) =>
      values["cpu-prof"] === undefined
        ? []
        : ["--cpu-prof", "--cpu-prof-dir", path.join(values["cpu-prof"], sub ?? "")];
    const measureErase = async (
      args: string[],
      lakeBytes: number,
      label: string,
      cwd: string = engineCwd,
    ): Promise<Run> => {
      meter.take();
      s3Meter.take();
      const log = memoryLog && path.join(memoryLog, `erase-${label}.jsonl`);
      const run = await runMeasured(
        // The baseline's CPU profiles go to a subdirectory.
        [...cpuProfIn(cwd === engineCwd ? undefined : "baseline"), ...probed(log), "erase", ...args],
        { ...eraseEnv, ...(log === undefined ? {} : { GPLAY_BENCH_MEMORY_LOG: log }) },
        Number.POSITIVE_INFINITY,
        cwd,
      ).finally(() => reportMemory(`erase (${label})`, log));
      if (run.code !== 0) throw new Error(`erase failed: ${run.stderr.slice(-2000)}`);
      const measured: Run = {
        ...run,
        phases: phasesOf(run.stdout),
        dynamo: meter.take(),
        s3: { ...s3Meter.take(), lakeBytes },
        snapshot: snapshotOf(run.stdout),
      };
      // The proof's count per store after the rewrites (the run fails unless all are 0).
      const finished = run.stdout.split("\n").find((l) => l.includes('"erasure-finished"'));
      const proof = finished === undefined ? "none" : JSON.stringify(JSON.parse(finished).verification);
      // Each run's figures as it ends (a long run stopped early keeps what it measured).
      console.log(
        `  erase ${args[0] === "--ids" ? "1 reader" : "a batch"}${cwd === engineCwd ? "" : " (baseline)"}: ${fmt(run.seconds, 1)} s, CPU ${fmt(run.cpuSeconds, 1)} s, peak ${fmt(run.peakRssMb)} MB; phases ${JSON.stringify(measured.phases)}; snapshot ${measured.snapshot}; proof ${proof}; DynamoDB ${dynamoText([measured])}; S3 ${s3Text([measured])} (load ${loadavg()[0]?.toFixed(1)})`,
      );
      return measured;
    };
    const passes: Awaited<ReturnType<typeof pass>>[] = [];
    const rewritePasses: number[] = [];
    const ones: Run[] = [];
    const typicals: Run[] = [];
    const manys: Run[] = [];
    const baseManys: Run[] = [];
    // Interleaved, so the machine's load weighs on the three alike.
    for (let r = 0; r < repeats; r++) {
      const plain = await pass();
      passes.push(plain);
      rewritePasses.push(await rewritePass());
      console.log(
        `run ${r + 1}: plain pass ${fmt(plain.seconds, 1)} s (${fmt(plain.objects)} versions, ${fmt(plain.bytes / 1_048_576, 1)} MB), read+rewrite pass ${fmt(rewritePasses[r] ?? 0, 1)} s`,
      );
      const [id] = heaviest[r] as [string, number];
      const one = await measureErase(["--ids", id], plain.bytes, `heaviest-${r + 1}`);
      ones.push(one);
      const [typicalId] = typical[r] as [string, number];
      const usual = await measureErase(["--ids", typicalId], plain.bytes, `typical-${r + 1}`);
      typicals.push(usual);
      const idsFile = async (group: number) => {
        const file = path.join(tmpdir(), `${prefix}-ids-${group}.txt`);
        await writeFile(file, (batches[group] ?? []).map(([id]) => id).join("\n"));
        return file;
      };
      const baseBatch = async () => {
        if (baseTree === undefined) return;
        const file = await idsFile(repeats + r);
        baseManys.push(
          await measureErase(["--ids-file", file], plain.bytes, `baseline-batch-${r + 1}`, baseTree.dir),
        );
      };
      // Alternated, so neither engine always meets the lake a batch smaller.
      if (r % 2 === 1) await baseBatch();
      const many = await measureErase(["--ids-file", await idsFile(r)], plain.bytes, `batch-${r + 1}`);
      manys.push(many);
      if (r % 2 === 0) await baseBatch();
      console.log(
        `run ${r + 1}/${repeats}: pass ${fmt(passes[r]?.seconds ?? 0, 1)} s, read+rewrite pass ${fmt(rewritePasses[r] ?? 0, 1)} s, 1 reader ${fmt(one.seconds, 1)} s, typical reader ${fmt(usual.seconds, 1)} s, batch ${fmt(many.seconds, 1)} s`,
      );
    }

    const rawBytes = (await Promise.all(files.map((f) => stat(path.join(dir, f))))).reduce(
      (n, s) => n + s.size,
      0,
    );
    const passSeconds = median(passes.map((p) => p.seconds));
    const rewriteSeconds = median(rewritePasses);
    const full = (seconds: number) =>
      scale === 1
        ? ""
        : ` (×${fmt(1 / scale, 0)} ≈ ${fmt(seconds / scale / 60, 1)} min at full scale, extrapolated)`;
    const line = (label: string, runs: Run[]) => {
      const seconds = median(runs.map((r) => r.seconds));
      return `${label} ${fmt(seconds, 1)} s [${runs.map((r) => fmt(r.seconds, 1)).join(", ")}], ${fmt(seconds / passSeconds, 2)} plain passes, ${fmt(seconds / rewriteSeconds, 2)} read+rewrite passes, cpu ${fmt(median(runs.map((r) => r.cpuSeconds)), 1)} s, peak ${fmt(Math.max(...runs.map((r) => r.peakRssMb)))} MB${full(seconds)}`;
    };
    const phases = (runs: Run[]) =>
      Object.keys(runs[0]?.phases ?? {})
        .map((k) =>
          k.includes(" ")
            ? `${k} ${fmt(median(runs.map((r) => r.phases[k] ?? 0)))}`
            : `${k} ${fmt(median(runs.map((r) => r.phases[k] ?? 0)), 1)} s${runs.length > 1 ? ` [${runs.map((r) => fmt(r.phases[k] ?? 0, 1)).join(", ")}]` : ""}`,
        )
        .join(", ");
    const { bytes, objects } = passes[0] ?? { bytes: 0, objects: 0 };
    console.log(
      [
        `medians of ${repeats} runs [each run]`,
        `lake: ${fmt(objects)} object versions, ${fmt(bytes / 1_048_576, 1)} MB (raw files ${fmt(rawBytes / 1_048_576, 1)} MB)`,
        `one plain pass (list + read):  ${fmt(passSeconds, 1)} s [${passes.map((p) => fmt(p.seconds, 1)).join(", ")}]`,
        `one read+rewrite pass:         ${fmt(rewriteSeconds, 1)} s [${rewritePasses.map((s) => fmt(s, 1)).join(", ")}]`,
        line(`erase 1 reader (${heaviest.map(([, n]) => fmt(n)).join(" / ")} reads):`, ones),
        line(`erase 1 typical reader (${typical.map(([, n]) => fmt(n)).join(" / ")} reads):`, typicals),
        line(`erase ${fmt(batches[0]?.length ?? 0)} readers in one run:`, manys),
        ...(baseTree === undefined
          ? []
          : [
              line(
                `erase ${fmt(batches[repeats]?.length ?? 0)} readers, baseline ${baseTree.commit.slice(0, 7)}:`,
                baseManys,
              ),
              `batch, this engine / baseline: time ${fmt(median(manys.map((r) => r.seconds)) / median(baseManys.map((r) => r.seconds)), 2)}, CPU ${fmt(median(manys.map((r) => r.cpuSeconds)) / median(baseManys.map((r) => r.cpuSeconds)), 2)}`,
              `phases (baseline batch): ${phases(baseManys)}`,
            ]),
        `phases (1 reader): ${phases(ones)}`,
        `phases (typical):  ${phases(typicals)}`,
        `phases (batch):    ${phases(manys)}`,
        `snapshot (1 reader / typical / batch, each run): ${[ones, typicals, manys].map((runs) => runs.map((r) => r.snapshot).join("; ")).join(" | ")}`,
        `DynamoDB requests (1 reader): ${dynamoText(ones)}`,
        `DynamoDB requests (typical):  ${dynamoText(typicals)}`,
        `DynamoDB requests (batch):    ${dynamoText(manys)}`,
        `S3 (1 reader): ${s3Text(ones)}`,
        `S3 (typical):  ${s3Text(typicals)}`,
        `S3 (batch):    ${s3Text(manys)}`,
        `load average: ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}`,
      ].join("\n"),
    );
  } finally {
    for (const bucket of Object.values(env.buckets))
      for await (const v of store.listVersions(bucket, ""))
        await store.deleteVersion(bucket, v.key, v.versionId);
    // Through the front with the stand-in, so its items go with the tables.
    await scripts.destroyEnvironment(
      standIn === undefined ? endpoints : { ...endpoints, awsEndpoint: front.url },
      prefix,
    );
    clients.destroy();
    await front.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
