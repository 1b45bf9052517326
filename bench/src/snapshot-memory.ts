/**
 * The snapshot step's memory at the kit's full cardinalities, without a full-scale ingest: the
 * snapshot domain's own classes (InteractionPass, PopularityAccumulator, CovisitationAccumulator,
 * aggregatesOf, encodeAggregates) of this tree and of a baseline tree, each in a process of its own,
 * fed the same synthetic partitions as `buildFull` feeds them (featstore-engine/src/app/build-snapshot.ts):
 * items first (the categories map the step builds), then one partition of interactions per day, as
 * three decoded columns with a fresh string per row, as the Parquet decode gives them.
 *
 *   pnpm --filter @gplay/bench bench:snapshot-memory [--scale 1] [--baseline <git ref>|none]
 *     ["--node-options=--max-old-space-size=640"]
 *
 * Synthetic data (fixed hashes): 577,942 readers, 7,926,116 interactions, 255,603 articles over 46
 * daily partitions at scale 1. Reads per reader are heavy-tailed (Pareto-like, P(n ≥ k) ~ k^-1.25,
 * scaled to the kit's mean of 13.7); they come in sessions (1 + an exponential of mean 2.5 reads,
 * 1–10 minutes apart) on random days; an article is read on its day (60%), the next (30%) or the one
 * after (10%), by Zipf-like popularity (k^-1.1) among that day's articles.
 *
 * What it leaves out (measured at small scale by `bench:ingest --memory-log`, see bench/README.md):
 * the S3 body and its copy for the Parquet reader, the decoder's buffers, the SDK and the writes of
 * the lists (DynamoDB) and of the aggregates (gzip). Figures per stage after two forced GCs (live
 * heap), the peak heap used seen between partitions, and the kernel's peak RSS (VmHWM).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { baselineTree } from "./baseline-tree.js";
import { ROOT } from "./engine-run.js";

const FULL = { readers: 577_942, interactions: 7_926_116, articles: 255_603, days: 46 };
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2022, 6, 1);
const SECTIONS = 40;
const REGIONS = 8;

interface Read {
  userId: string;
  page: string;
  timestamp: number;
}
interface Pass {
  interactions: number;
  addPartition(rows: number, row: (i: number) => Read): void;
  release?: () => void;
}
interface Domain {
  InteractionPass: new (covisitation: unknown, onRead: (r: Read) => void) => Pass;
  PopularityAccumulator: new (options: {
    retainMs?: number;
  }) => { add(r: Read): void; asOf: number | undefined; build(c: (p: string) => unknown): unknown[] };
  CovisitationAccumulator: new () => { build(): { entries: unknown[] }[]; pairCount: number };
  AGGREGATES_RETAIN_MS: number;
  aggregatesOf(
    base: unknown,
    popularity: unknown,
    covisitation: unknown,
    categoryOf: (p: string) => unknown,
  ): { pairKeys: Float64Array; pages: string[] };
  encodeAggregates(a: unknown): Uint8Array;
}

/** A 32-bit hash of up to four integers (deterministic: the same rows in both trees' processes). */
function mix(a: number, b = 0, c = 0, d = 0): number {
  let h = 0x9e3779b9;
  h = Math.imul(h ^ (a >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ (b >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ (c >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ (d >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
const unit = (a: number, b = 0, c = 0, d = 0) => mix(a, b, c, d) / 4_294_967_296;

/**
 * Ids as flat one-byte strings, one afresh per call, as the Parquet decoder gives them (a template
 * literal would give a rope of slices, several times the memory of the string the lake's rows hold).
 */
const scratch = Buffer.alloc(96);
const HEX = "0123456789abcdef";
function hexInto(at: number, x: number): void {
  for (let i = 7; i >= 0; i--) {
    scratch[at + i] = HEX.charCodeAt(x & 15);
    x >>>= 4;
  }
}
/** Reader ids as the lake holds them (64 hex characters). */
const readerId = (u: number) => {
  for (let k = 0; k < 8; k++) hexInto(8 * k, mix(u, k + 1));
  return scratch.toString("latin1", 0, 64);
};
/** Page ids as UUIDs (36 characters, version 4). */
const pageId = (a: number) => {
  for (let k = 0; k < 4; k++) hexInto(64 + 8 * k, mix(a, 11 + k));
  scratch[64 + 12] = 52;
  for (let i = 0, from = 64; i < 36; i++)
    scratch[i] = i === 8 || i === 13 || i === 18 || i === 23 ? 45 : (scratch[from++] as number);
  return scratch.toString("latin1", 0, 36);
};

/** The synthetic kit at `scale`: per reader its read count, partitions generated on demand. */
function syntheticKit(scale: number) {
  const readers = Math.max(1, Math.round(FULL.readers * scale));
  const total = Math.max(readers, Math.round(FULL.interactions * scale));
  const articles = Math.max(FULL.days, Math.round(FULL.articles * scale));
  // Heavy-tailed reads per reader (Pareto-like), then adjusted to the exact total.
  const counts = new Uint32Array(readers);
  let sum = 0;
  for (let u = 0; u < readers; u++) {
    const n = Math.min(2_000, Math.floor(1 / (unit(u, 21) + 1e-9) ** 0.8));
    counts[u] = Math.max(1, n);
    sum += counts[u] as number;
  }
  const factor = (total - readers) / Math.max(1, sum - readers);
  sum = 0;
  for (let u = 0; u < readers; u++) {
    counts[u] = 1 + Math.floor(((counts[u] as number) - 1) * factor);
    sum += counts[u] as number;
  }
  for (let u = 0; sum < total; u = (u + 1) % readers, sum++) counts[u] = (counts[u] as number) + 1;
  const perDay = Math.ceil(articles / FULL.days);
  // Zipf-like popularity among one day's articles: cumulative weights k^-1.1.
  const cdf = new Float64Array(perDay);
  let acc = 0;
  for (let k = 0; k < perDay; k++) {
    acc += (k + 1) ** -1.1;
    cdf[k] = acc;
  }
  const pick = (d: number, r: number, x: number) => {
    const age = x < 0.6 ? 0 : x < 0.9 ? 1 : 2;
    const day = Math.max(0, d - age);
    const target = r * acc;
    let lo = 0;
    let hi = perDay - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(articles - 1, day * perDay + lo);
  };
  /** Day d's rows as decoded columns (sessions of every reader that fall on that day). */
  const partition = (d: number) => {
    const userId: string[] = [];
    const page: string[] = [];
    const timestamp: number[] = [];
    for (let u = 0; u < readers; u++) {
      let left = counts[u] as number;
      for (let s = 0; left > 0; s++) {
        const length = Math.min(left, 1 + Math.floor(-Math.log(1 - unit(u, s, 31) * 0.999) * 2.5));
        left -= length;
        if (mix(u, s, 32) % FULL.days !== d) continue;
        let t = T0 + d * DAY_MS + Math.floor(unit(u, s, 33) * (DAY_MS - 3_600_000));
        for (let i = 0; i < length; i++) {
          userId.push(readerId(u));
          page.push(pageId(pick(d, unit(u, s, i, 34), unit(u, s, i, 35))));
          timestamp.push(t);
          t += 60_000 * (1 + (mix(u, s, i, 36) % 10));
        }
      }
    }
    return { userId, page, timestamp };
  };
  return { readers, total, articles, partition };
}

interface Stage {
  stage: string;
  heapMb: number;
  rssMb: number;
  arrayBuffersMb: number;
}

/** A flat copy, one per row as the decoder gives. */
const flat = (text: string) => Buffer.from(text, "latin1").toString("latin1");
const mb = (n: number) => n / 1_048_576;
const vmHwmMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) / 1024;

/** One tree's run (in this process, started with --expose-gc): prints one JSON line per stage. */
async function child(tree: string, scale: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  const load = async <T>(relative: string) =>
    (await import(pathToFileURL(path.join(tree, relative)).href)) as T;
  const domain = {
    ...(await load<Domain>("featstore-engine/src/domain/snapshot.ts")),
    ...(await load<Domain>("featstore-engine/src/domain/snapshot-aggregates.ts")),
  };
  const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let peakHeap = 0;
  const stage = (name: string) => {
    gc();
    gc();
    const m = process.memoryUsage();
    const s: Stage = {
      stage: name,
      heapMb: mb(m.heapUsed),
      rssMb: mb(m.rss),
      arrayBuffersMb: mb(m.arrayBuffers),
    };
    emit({ kind: "stage", ...s, vmHwmMb: vmHwmMb() });
  };
  const kit = syntheticKit(scale);
  stage("start");
  // Items: the categories map buildFull holds (page → section, region, modified).
  const categories = new Map<string, { section: string; region: string; modified: number }>();
  for (let a = 0; a < kit.articles; a++)
    categories.set(pageId(a), {
      section: flat(`section-${mix(a, 41) % SECTIONS}`),
      region: flat(`region-${mix(a, 42) % REGIONS}`),
      modified: T0 + a,
    });
  stage("items");
  const popularity = new domain.PopularityAccumulator({ retainMs: domain.AGGREGATES_RETAIN_MS });
  const covisitation = new domain.CovisitationAccumulator();
  const pass = new domain.InteractionPass(covisitation, (r) => popularity.add(r));
  let passCpu = 0;
  let generateCpu = 0;
  let rows = 0;
  for (let d = 0; d < FULL.days; d++) {
    let cpu = process.cpuUsage();
    const part = kit.partition(d);
    generateCpu += cpuSeconds(process.cpuUsage(cpu));
    cpu = process.cpuUsage();
    pass.addPartition(part.userId.length, (i) => ({
      userId: part.userId[i] as string,
      page: part.page[i] as string,
      timestamp: part.timestamp[i] as number,
    }));
    passCpu += cpuSeconds(process.cpuUsage(cpu));
    rows += part.userId.length;
    peakHeap = Math.max(peakHeap, mb(process.memoryUsage().heapUsed));
    if ((d + 1) % 23 === 0) stage(`pass ${d + 1}/${FULL.days} days`);
  }
  const distinctPages = new Set<string>();
  const categoryOf = (p: string) => {
    distinctPages.add(p);
    return categories.get(p);
  };
  const interactions = pass.interactions;
  if (pass.release !== undefined) {
    pass.release();
    stage("pass released");
  }
  let cpu = process.cpuUsage();
  const lists = [...popularity.build(categoryOf), ...covisitation.build()];
  const listsCpu = cpuSeconds(process.cpuUsage(cpu));
  peakHeap = Math.max(peakHeap, mb(process.memoryUsage().heapUsed));
  stage("lists built");
  cpu = process.cpuUsage();
  const aggregates = domain.aggregatesOf(
    { snapshotId: "s", asOf: popularity.asOf ?? 0, etags: {}, totals: {} },
    popularity,
    covisitation,
    categoryOf,
  );
  const encoded = domain.encodeAggregates(aggregates);
  const aggregatesCpu = cpuSeconds(process.cpuUsage(cpu));
  peakHeap = Math.max(peakHeap, mb(process.memoryUsage().heapUsed));
  stage("aggregates encoded");
  // What the step publishes, digested: both trees must give the same lists and aggregates.
  const digest = createHash("sha256");
  for (const l of lists) digest.update(JSON.stringify(l));
  digest.update(encoded);
  emit({
    kind: "summary",
    outputs: digest.digest("hex").slice(0, 16),
    rows,
    interactions,
    readers: kit.readers,
    articles: kit.articles,
    covisits: covisitation.pairCount,
    distinctPairs: aggregates.pairKeys.length,
    pages: aggregates.pages.length,
    lists: lists.length,
    entries: lists.reduce((n: number, l) => n + ((l as { entries?: unknown[] }).entries?.length ?? 0), 0),
    aggregatesMb: mb(encoded.byteLength),
    passCpuSeconds: passCpu,
    generateCpuSeconds: generateCpu,
    listsCpuSeconds: listsCpu,
    aggregatesCpuSeconds: aggregatesCpu,
    peakHeapMb: peakHeap,
    peakRssMb: vmHwmMb(),
  });
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/** Runs one tree's child; its JSON lines (and how it ended: OOM shows as a non-zero code). */
function runChild(
  tree: string,
  scale: number,
  nodeOptions: string[],
): Promise<{ lines: Record<string, unknown>[]; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [
        ...nodeOptions,
        "--expose-gc",
        "--conditions=@gplay/source",
        "--import",
        "tsx",
        path.join(ROOT, "bench/src/snapshot-memory.ts"),
        "--child",
        tree,
        "--scale",
        String(scale),
      ],
      { cwd: tree, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const o = JSON.parse(line) as Record<string, unknown>;
        lines.push(o);
        if (o.kind === "stage")
          console.log(
            `  ${label}: ${String(o.stage).padEnd(22)} heap ${fmt(o.heapMb)} MB, rss ${fmt(o.rssMb)} MB, array buffers ${fmt(o.arrayBuffersMb)} MB (peak rss so far ${fmt(o.vmHwmMb)} MB)`,
          );
      }
    });
    proc.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const lines: Record<string, unknown>[] = [];
    const label = tree === ROOT ? "this tree" : path.basename(tree).slice(0, 7);
    proc.on("error", reject);
    proc.on("close", (code) => resolve({ lines, code, stderr }));
  });
}

const fmt = (v: unknown, digits = 0) => (typeof v === "number" ? v.toFixed(digits) : String(v));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      scale: { type: "string", default: "1" },
      baseline: { type: "string", default: "5c16c74" },
      "node-options": { type: "string", default: "" },
    },
  });
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 1)) throw new Error("--scale must be in (0, 1]");
  if (values.child !== undefined) return child(values.child, scale);
  const nodeOptions = (values["node-options"] as string).split(/\s+/).filter((x) => x !== "");
  const trees: { name: string; dir: string }[] = [{ name: "this tree", dir: ROOT }];
  if (values.baseline !== "none") {
    const b = baselineTree(ROOT, values.baseline as string);
    trees.push({ name: `baseline ${b.commit.slice(0, 7)}`, dir: b.dir });
  }
  console.log(
    `snapshot memory, scale ${scale} (${fmt(FULL.readers * scale)} readers, ${fmt(FULL.interactions * scale)} interactions, ${fmt(FULL.articles * scale)} articles, ${FULL.days} partitions), node options: ${nodeOptions.join(" ") || "none"}`,
  );
  const results: { name: string; summary?: Record<string, unknown>; code: number | null; last?: unknown }[] =
    [];
  for (const tree of trees) {
    const run = await runChild(tree.dir, scale, nodeOptions);
    const summary = run.lines.find((l) => l.kind === "summary");
    const last = run.lines.filter((l) => l.kind === "stage").at(-1);
    if (run.code !== 0)
      console.log(
        `  ${tree.name}: exited with code ${run.code} after stage "${String(last?.stage)}": ${run.stderr
          .split("\n")
          .filter((l) => /heap|memory|Error/i.test(l))
          .slice(0, 3)
          .join(" | ")}`,
      );
    results.push({
      name: tree.name,
      code: run.code,
      last: last?.stage,
      ...(summary === undefined ? {} : { summary }),
    });
  }
  console.log("");
  for (const r of results) {
    const s = r.summary;
    if (s === undefined) {
      console.log(`${r.name}: did not finish (code ${r.code}, last stage "${String(r.last)}")`);
      continue;
    }
    console.log(
      `${r.name}: peak RSS ${fmt(s.peakRssMb)} MB, peak heap used ${fmt(s.peakHeapMb)} MB; pass CPU ${fmt(s.passCpuSeconds, 1)} s (synthetic rows ${fmt(s.generateCpuSeconds, 1)} s apart), lists ${fmt(s.listsCpuSeconds, 1)} s, aggregates ${fmt(s.aggregatesCpuSeconds, 1)} s; ${fmt(s.interactions)} interactions, ${fmt(s.covisits)} co-visits, ${fmt(s.distinctPairs)} distinct pairs, ${fmt(s.pages)} pages, ${fmt(s.lists)} lists (${fmt(s.entries)} entries), aggregates ${fmt(s.aggregatesMb)} MB`,
    );
  }
  const finished = results.filter((r) => r.summary !== undefined);
  const outputs = new Set(finished.map((r) => r.summary?.outputs));
  if (finished.length > 1)
    console.log(
      outputs.size === 1
        ? `same lists and aggregates in every tree (sha256 ${String([...outputs][0])})`
        : `lists or aggregates DIFFER between the trees: ${finished.map((r) => `${r.name} ${String(r.summary?.outputs)}`).join(", ")}`,
    );
  if (results.some((r) => r.code !== 0) || outputs.size > 1) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
