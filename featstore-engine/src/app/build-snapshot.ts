import { createHash, randomUUID } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type ColdstartItem,
  coldstartListId,
  type LakeBuckets,
  type Logger,
  latestSnapshotPointerSchema,
  PROCESSED_DATASETS,
  PROCESSED_PREFIX,
  type ProcessedDataset,
  processedKeys,
  type SnapshotManifest,
  type SnapshotPartition,
  snapshotManifestSchema,
} from "@gplay/common";
import {
  AGGREGATES_RETAIN_MS,
  type ArticleCategory,
  aggregatesOf,
  type ColdstartList,
  CovisitationAccumulator,
  decodeAggregates,
  encodeAggregates,
  InteractionPass,
  PopularityAccumulator,
  type RemovedInteraction,
  type SnapshotAggregates,
  subtractReaders,
} from "../domain/index.js";
import { noProgress, type Progress } from "../progress/progress.js";
import { readColumns } from "./parquet-columns.js";
import type { EventPublisher, FeatureStore, ObjectStore, WriteReport } from "./ports.js";
import { readBody } from "./read-body.js";

export interface SnapshotDeps {
  objects: ObjectStore;
  features: FeatureStore;
  events: EventPublisher;
  buckets: LakeBuckets;
  logger: Logger;
  /** Progress of reading partitions and writing lists; none by default. */
  progress?: Progress;
  now?: () => Date;
}

/** How a built snapshot was computed: in full, or from the previous one's aggregates after an erasure. */
type BuildMode = { mode: "full"; fallback?: string } | { mode: "erasure" };

export type SnapshotResult =
  | ({ status: "built"; manifest: SnapshotManifest; manifestKey: string; coldstart: WriteReport } & BuildMode)
  | { status: "unchanged"; snapshotId: string; manifestKey: string }
  | { status: "empty" };

const PARTITION_KEY = /\/source=([^/]+)\/part-\d+\.parquet$/;

/** A processed partition an erasure rewrote (the rows of the erased readers removed). */
export interface RewrittenPartition {
  dataset: ProcessedDataset;
  key: string;
  /** Etag of the version the erasure read, and of the one it wrote. */
  before: string;
  etag: string;
  bytes: number;
  sha256: string;
  rows: number;
  /** An interactions partition's removed rows (empty for the other datasets). */
  removed: readonly RemovedInteraction[];
}

/** What an erasure changed in `processed/`: the snapshot after it subtracts this from the previous one. */
export interface ErasureChange {
  /** Erasure hashes of the readers erased. */
  readers: readonly string[];
  partitions: readonly RewrittenPartition[];
}

/**
 * Where the snapshot keeps the aggregates its lists were built from (domain/snapshot-aggregates.ts):
 * one object, replaced by each snapshot; it names no reader.
 */
export const AGGREGATES_KEY = `${PROCESSED_PREFIX}snapshots/aggregates.bin.gz`;

/**
 * The snapshot step: recomputes the global tables from the whole merged log in `processed/` —
 * recency-decayed popularity (global, per section, per region × 1/6/24 h) and co-visitation — writes
 * them to the coldstart table, writes the manifest of every partition it covered (row counts and
 * checksums), moves the `latest` pointer and publishes "Snapshot Ready". The snapshot id derives from
 * the partitions' checksums, so running it again over the same data changes nothing and publishes nothing.
 *
 * After an erasure (`erasure` given), it subtracts the erased readers' rows from the previous
 * snapshot's saved aggregates instead, reading no partition, when those aggregates belong to the latest
 * snapshot and the lake is what they saw plus this erasure's rewrites; otherwise (no aggregates, the
 * lake changed, a re-run of an erasure already subtracted) it recomputes in full. Both give the same
 * snapshot: same partitions, totals, digest and lists.
 */
export async function buildSnapshot(deps: SnapshotDeps, erasure?: ErasureChange): Promise<SnapshotResult> {
  if (erasure === undefined) return buildFull(deps);
  const subtracted = await subtractErasure(deps, erasure);
  if (subtracted.ok) return subtracted.result;
  deps.logger.info(
    { event: "snapshot-full", reason: subtracted.reason },
    "erasure snapshot recomputed in full",
  );
  return buildFull(deps, subtracted.reason);
}

type Partition = { dataset: ProcessedDataset; key: string; sourceId: string; etag: string };

/** The partitions a snapshot covers (items, interactions, validation), sorted by key. */
async function listPartitions(deps: SnapshotDeps): Promise<Partition[]> {
  const keys: Partition[] = [];
  for (const dataset of PROCESSED_DATASETS) {
    if (!SNAPSHOT_DATASETS.includes(dataset)) continue;
    for await (const object of deps.objects.list(
      deps.buckets.processed,
      processedKeys.partitionPrefix(dataset),
    )) {
      const match = PARTITION_KEY.exec(object.key);
      if (match !== null)
        keys.push({ dataset, key: object.key, sourceId: match[1] as string, etag: object.etag });
    }
  }
  return keys.sort((a, b) => (a.key < b.key ? -1 : 1));
}

const SNAPSHOT_DATASETS: readonly ProcessedDataset[] = ["items", "interactions", "validation"];

async function buildFull(deps: SnapshotDeps, fallback?: string): Promise<SnapshotResult> {
  const bucket = deps.buckets.processed;
  const keys = await listPartitions(deps);
  if (!keys.some((k) => k.dataset === "interactions")) return { status: "empty" };

  const partitions: SnapshotPartition[] = [];
  const etags: Record<string, string> = {};
  const categories = new Map<string, ArticleCategory & { modified: number }>();
  const popularity = new PopularityAccumulator({ retainMs: AGGREGATES_RETAIN_MS });
  const covisitation = new CovisitationAccumulator();
  const pass = new InteractionPass(covisitation, (r) => popularity.add(r));
  const totals = { interactions: 0, items: 0, validation: 0, users: 0 };

  const task = (deps.progress ?? noProgress).begin("snapshot");
  // Items first, so categories are known; interactions after (order of partitions does not matter).
  for (const dataset of ["items", "interactions", "validation"] as const) {
    task.phase(dataset);
    for (const part of keys.filter((k) => k.dataset === dataset)) {
      const object = await deps.objects.read(bucket, part.key);
      const bytes = await readBody(object.body, object.size);
      etags[part.key] = object.etag;
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      let rowCount: number;
      if (dataset === "items") {
        // The four columns the categories need: the articles' text (most of the bytes) stays encoded.
        const { values, rows } = await readColumns(bytes, ["page", "modified", "section", "region"]);
        const { page, modified, section, region } = values as Record<string, unknown[]>;
        rowCount = rows;
        for (let i = 0; i < rows; i++) {
          const a = {
            page: page?.[i] as string,
            section: section?.[i] as string,
            region: region?.[i] as string,
            modified: Number(modified?.[i]),
          };
          const known = categories.get(a.page);
          if (known === undefined || a.modified > known.modified)
            categories.set(a.page, { section: a.section, region: a.region, modified: a.modified });
        }
      } else if (dataset === "interactions") {
        // Only the three columns the aggregates need, decoded as columns (no row objects).
        const { values, rows } = await readColumns(bytes, ["userId", "page", "timestamp"]);
        const { userId, page, timestamp } = values;
        rowCount = rows;
        pass.addPartition(rows, (i) => ({
          userId: userId?.[i] as string,
          page: page?.[i] as string,
          timestamp: Number(timestamp?.[i]),
        }));
      } else {
        rowCount = (await readColumns(bytes, ["userId"])).rows;
        totals.validation += rowCount;
      }
      partitions.push({
        dataset,
        key: part.key,
        sourceId: part.sourceId,
        rows: rowCount,
        bytes: bytes.length,
        sha256,
      });
      task.advance(rowCount, bytes.length);
    }
  }
  totals.interactions = pass.interactions;
  totals.items = categories.size;
  totals.users = pass.readers;
  // The dedup tables (~8 M hashes, ~578k reader ids at full scale) are not needed for the lists.
  pass.release();
  const asOf = popularity.asOf ?? 0;
  const categoryOf = (page: string) => categories.get(page);
  const lists = () => [...popularity.build(categoryOf), ...covisitation.build()];
  task.phase("lists");
  const result = await publish(deps, {
    partitions,
    totals,
    asOf,
    lists,
    aggregates: (snapshotId) =>
      aggregatesOf({ snapshotId, asOf, etags, totals }, popularity, covisitation, categoryOf),
    onWritten: (n) => task.wrote(n),
    mode: fallback === undefined ? { mode: "full" } : { mode: "full", fallback },
  });
  task.end();
  return result;
}

/** The erasure's snapshot from the previous one's aggregates, or why it must be recomputed in full. */
async function subtractErasure(
  deps: SnapshotDeps,
  change: ErasureChange,
): Promise<{ ok: true; result: SnapshotResult } | { ok: false; reason: string }> {
  const fail = (reason: string) => ({ ok: false as const, reason });
  const pointer = await readLatestPointer(deps);
  if (pointer === undefined) return fail("no previous snapshot");
  const before = await readAggregates(deps);
  if (before?.snapshotId !== pointer.snapshotId) return fail("no aggregates of the latest snapshot");
  const subtracted = new Set(before.subtracted);
  if (change.readers.some((h) => subtracted.has(h)))
    return fail("readers already subtracted from the aggregates (a re-run)");
  const note = await readWrittenLists(deps);
  if (note?.state !== "written") return fail("the cold-start table's note is not trusted");

  // The lake must be what the aggregates saw, plus this erasure's rewrites.
  const rewritten = new Map(
    change.partitions.filter((p) => SNAPSHOT_DATASETS.includes(p.dataset)).map((p) => [p.key, p]),
  );
  const listed = await listPartitions(deps);
  if (listed.length !== Object.keys(before.etags).length) return fail("the lake's partitions changed");
  for (const part of listed) {
    const was = before.etags[part.key];
    const r = rewritten.get(part.key);
    if (was === undefined || (r === undefined ? part.etag !== was : r.before !== was || r.etag !== part.etag))
      return fail("the lake's partitions changed");
  }
  const manifest = await readManifest(deps, pointer.manifestKey);
  if (manifest?.snapshotId !== pointer.snapshotId) return fail("no manifest of the latest snapshot");
  if (manifest.partitions.length !== listed.length) return fail("the manifest does not list the lake");

  const interactions = [...rewritten.values()].filter((p) => p.dataset === "interactions");
  const sub = subtractReaders(before, interactions, change.readers);
  if (!sub.ok) return fail(sub.reason);
  let validationRemoved = 0;
  const partitions = manifest.partitions.map((p) => {
    const r = rewritten.get(p.key);
    if (r === undefined) return p;
    if (p.dataset === "validation") validationRemoved += p.rows - r.rows;
    return { ...p, rows: r.rows, bytes: r.bytes, sha256: r.sha256 };
  });
  const totals = {
    ...before.totals,
    interactions: before.totals.interactions - sub.interactions,
    users: before.totals.users - sub.users,
    validation: before.totals.validation - validationRemoved,
  };
  const etags = Object.fromEntries(listed.map((p) => [p.key, p.etag]));
  const result = await publish(deps, {
    partitions,
    totals,
    asOf: sub.aggregates.asOf,
    lists: () => sub.lists,
    aggregates: (snapshotId) => ({ ...sub.aggregates, snapshotId, etags, totals }),
    note,
    mode: { mode: "erasure" },
  });
  return { ok: true, result };
}

/** Names the snapshot after its partitions, writes its lists, manifest, pointer and aggregates, publishes it. */
async function publish(
  deps: SnapshotDeps,
  built: {
    partitions: SnapshotPartition[];
    totals: SnapshotManifest["totals"];
    asOf: number;
    lists: () => ColdstartList[];
    aggregates: (snapshotId: string) => SnapshotAggregates;
    onWritten?: (n: number) => void;
    /** The cold-start table's note as read before (an erasure checked it), else read here. */
    note?: WrittenLists;
    mode: BuildMode;
  },
): Promise<SnapshotResult> {
  const now = deps.now ?? (() => new Date());
  const bucket = deps.buckets.processed;
  const { partitions, totals, asOf } = built;
  const digest = createHash("sha256")
    .update(partitions.map((p) => `${p.key}:${p.sha256}`).join("\n"))
    .digest("hex");
  const snapshotId = `snap-${digest.slice(0, 16)}`;
  const manifestKey = processedKeys.snapshotManifest(snapshotId);
  const log = deps.logger.child({ snapshotId });

  const previous = await readLatestPointer(deps);
  if (previous?.snapshotId === snapshotId) {
    // The aggregates are written again (a snapshot built before they existed has none).
    await putAggregates(deps, built.aggregates(snapshotId));
    log.info("snapshot unchanged since the last run; nothing to do");
    return { status: "unchanged", snapshotId, manifestKey };
  }

  const updatedAt = now().toISOString();
  // The lists live only inside this call: they are garbage before the aggregates are encoded.
  const { coldstart, unchanged, lists } = await writeChangedLists(
    deps,
    () => built.lists().map((l) => ({ listId: l.listId, entries: l.entries, snapshotId, asOf, updatedAt })),
    built.onWritten ?? (() => {}),
    built.note,
  );

  const manifest = snapshotManifestSchema.parse({
    schemaVersion: 1,
    snapshotId,
    createdAt: updatedAt,
    bucket,
    asOf,
    partitions,
    totals,
    digest,
  });
  await deps.objects.put(bucket, manifestKey, JSON.stringify(manifest, null, 2), "application/json");
  await deps.objects.put(
    bucket,
    processedKeys.latestSnapshot(),
    JSON.stringify({ snapshotId, manifestKey, createdAt: updatedAt }),
    "application/json",
  );
  // After the pointer: aggregates are used only when their id is the latest snapshot's.
  await putAggregates(deps, built.aggregates(snapshotId));
  await deps.events.publishSnapshotReady({
    snapshotId,
    bucket,
    manifestKey,
    asOf,
    partitions: partitions.length,
    interactions: totals.interactions,
    items: totals.items,
  });
  log.info({ totals, lists, unchanged, coldstart, ...built.mode }, "snapshot built and published");
  return { status: "built", manifest, manifestKey, coldstart, ...built.mode };
}

/**
 * Where the snapshot step notes what the coldstart table holds: a digest of every list's entries as
 * last written, and whether a write is under way (`writing`: the table's state is then unknown).
 */
export const WRITTEN_LISTS_KEY = `${PROCESSED_PREFIX}snapshots/coldstart-lists.json.gz`;

type WrittenLists =
  | { state: "writing"; token: string }
  | { state: "written"; digests: Record<string, string> };

const digestOf = (entries: unknown) => createHash("sha1").update(JSON.stringify(entries)).digest("base64");

/**
 * Writes the cold-start lists, skipping the co-visitation lists whose entries equal what the table
 * already holds (an erasure or a day of new data changes a few thousand of the ~255k lists of the full
 * kit; writing them all was most of a snapshot's time). The popularity lists are always written: they
 * carry the `snapshotId` and `asOf` the api reads. A co-visitation row's `snapshotId` is thus the
 * snapshot that last changed it.
 *
 * What the table holds is known from a note in the lake, written after the lists and replaced by a
 * `writing` token before them: a crash or a concurrent snapshot (another token, or a note this run
 * did not write) leaves no trusted note, and the next run writes every list.
 */
async function writeChangedLists(
  deps: SnapshotDeps,
  build: () => readonly ColdstartItem[],
  onWritten: (n: number) => void,
  known?: WrittenLists,
): Promise<{ coldstart: WriteReport; unchanged: number; lists: number }> {
  const bucket = deps.buckets.processed;
  const note = known ?? (await readWrittenLists(deps));
  const rows = build();
  const before = note?.state === "written" ? note.digests : {};
  const token = randomUUID();
  await putWrittenLists(deps, { state: "writing", token });
  const digests: Record<string, string> = {};
  const covisit = coldstartListId.covisit("");
  const changed = rows.filter((row) => {
    const digest = digestOf(row.entries);
    digests[row.listId] = digest;
    return !row.listId.startsWith(covisit) || before[row.listId] !== digest;
  });
  const coldstart = await deps.features.putColdstart(changed, onWritten);
  const now = await readWrittenLists(deps);
  if (now?.state === "writing" && now.token === token) {
    // Lists an older snapshot wrote and this one does not have stay in the table as they were.
    for (const [listId, digest] of Object.entries(before)) digests[listId] ??= digest;
    await putWrittenLists(deps, { state: "written", digests });
  } else await deps.objects.delete(bucket, WRITTEN_LISTS_KEY);
  return { coldstart, unchanged: rows.length - changed.length, lists: rows.length };
}

async function readWrittenLists(deps: SnapshotDeps): Promise<WrittenLists | undefined> {
  const bytes = await readOptional(deps, WRITTEN_LISTS_KEY);
  return bytes === undefined ? undefined : (JSON.parse(gunzipSync(bytes).toString("utf8")) as WrittenLists);
}

/** An object of the processed bucket, or undefined when there is none. */
async function readOptional(deps: SnapshotDeps, key: string): Promise<Uint8Array | undefined> {
  try {
    const object = await deps.objects.read(deps.buckets.processed, key);
    return await readBody(object.body, object.size);
  } catch (error) {
    if ((error as { code?: string }).code === "NOT_FOUND") return undefined;
    throw error;
  }
}

async function putWrittenLists(deps: SnapshotDeps, note: WrittenLists): Promise<void> {
  await deps.objects.put(
    deps.buckets.processed,
    WRITTEN_LISTS_KEY,
    gzipSync(JSON.stringify(note)),
    "application/gzip",
  );
}

async function putAggregates(deps: SnapshotDeps, aggregates: SnapshotAggregates): Promise<void> {
  await deps.objects.put(
    deps.buckets.processed,
    AGGREGATES_KEY,
    gzipSync(encodeAggregates(aggregates), { level: 1 }),
    "application/gzip",
  );
}

async function readAggregates(deps: SnapshotDeps): Promise<SnapshotAggregates | undefined> {
  const bytes = await readOptional(deps, AGGREGATES_KEY);
  return bytes === undefined ? undefined : decodeAggregates(gunzipSync(bytes));
}

const readJson = async (deps: SnapshotDeps, key: string): Promise<unknown> => {
  const bytes = await readOptional(deps, key);
  return bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString("utf8"));
};

async function readManifest(deps: SnapshotDeps, key: string): Promise<SnapshotManifest | undefined> {
  const json = await readJson(deps, key);
  return json === undefined ? undefined : snapshotManifestSchema.parse(json);
}

async function readLatestPointer(deps: SnapshotDeps) {
  const json = await readJson(deps, processedKeys.latestSnapshot());
  return json === undefined ? undefined : latestSnapshotPointerSchema.parse(json);
}
