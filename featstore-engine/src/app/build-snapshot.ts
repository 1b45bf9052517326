import { createHash, randomUUID } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type ArticleRecord,
  type ColdstartItem,
  coldstartListId,
  decodeProcessedParquet,
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
import { parquetRead } from "hyparquet";
import { type ArticleCategory, CovisitationAccumulator, PopularityAccumulator } from "../domain/index.js";
import { noProgress, type Progress } from "../progress/progress.js";
import type { EventPublisher, FeatureStore, ObjectStore, WriteReport } from "./ports.js";

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

export type SnapshotResult =
  | { status: "built"; manifest: SnapshotManifest; manifestKey: string; coldstart: WriteReport }
  | { status: "unchanged"; snapshotId: string; manifestKey: string }
  | { status: "empty" };

const PARTITION_KEY = /\/source=([^/]+)\/part-\d+\.parquet$/;

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A 52-bit hash of an interaction's identity, to deduplicate the union of partitions in a typed set:
 * two 32-bit multiplicative (FNV-1a style) hashes over the same characters, 32 + 20 bits. ~4× faster
 * than a sha1 per interaction, with the same 52-bit width (a collision merely drops one duplicate-
 * looking interaction from the aggregates; expected ~0.007 collisions at 8M interactions).
 */
export function interactionHash(userId: string, page: string, timestamp: number): number {
  const text = `${userId}|${page}|${timestamp}`;
  let a = 0x811c9dc5;
  let b = 0x5bd1e995 ^ 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

/**
 * The snapshot step: recomputes the global tables from the whole merged log in `processed/` —
 * recency-decayed popularity (global, per section, per region × 1/6/24 h) and co-visitation — writes
 * them to the coldstart table, writes the manifest of every partition it covered (row counts and
 * checksums), moves the `latest` pointer and publishes "Snapshot Ready". The snapshot id derives from
 * the partitions' checksums, so running it again over the same data changes nothing and publishes nothing.
 */
export async function buildSnapshot(deps: SnapshotDeps): Promise<SnapshotResult> {
  const now = deps.now ?? (() => new Date());
  const bucket = deps.buckets.processed;
  const keys: { dataset: ProcessedDataset; key: string; sourceId: string }[] = [];
  for (const dataset of PROCESSED_DATASETS) {
    for await (const object of deps.objects.list(bucket, processedKeys.partitionPrefix(dataset))) {
      const match = PARTITION_KEY.exec(object.key);
      if (match !== null) keys.push({ dataset, key: object.key, sourceId: match[1] as string });
    }
  }
  keys.sort((a, b) => (a.key < b.key ? -1 : 1));
  if (!keys.some((k) => k.dataset === "interactions")) return { status: "empty" };

  const partitions: SnapshotPartition[] = [];
  const categories = new Map<string, ArticleCategory & { modified: number }>();
  const popularity = new PopularityAccumulator();
  const covisitation = new CovisitationAccumulator();
  const seen = new Set<number>();
  const users = new Set<string>();
  const totals = { interactions: 0, items: 0, validation: 0, users: 0 };

  const task = (deps.progress ?? noProgress).begin("snapshot");
  // Items first, so categories are known; interactions after (order of partitions does not matter).
  for (const dataset of ["items", "interactions", "validation"] as const) {
    task.phase(dataset);
    for (const part of keys.filter((k) => k.dataset === dataset)) {
      const object = await deps.objects.read(bucket, part.key);
      const bytes = await readAll(object.body);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      let rowCount: number;
      if (dataset === "items") {
        const rows = await decodeProcessedParquet(dataset, bytes);
        rowCount = rows.length;
        for (const a of rows as ArticleRecord[]) {
          const known = categories.get(a.page);
          if (known === undefined || a.modified > known.modified)
            categories.set(a.page, { section: a.section, region: a.region, modified: a.modified });
        }
      } else if (dataset === "interactions") {
        // Only the three columns the aggregates need, decoded as columns (no row objects).
        const { values, rows } = await readColumns(bytes, ["userId", "page", "timestamp"]);
        const { userId, page, timestamp } = values;
        rowCount = rows;
        const byReader = new Map<string, { page: string; timestamp: number }[]>();
        for (let i = 0; i < rows; i++) {
          const r = {
            userId: userId?.[i] as string,
            page: page?.[i] as string,
            timestamp: Number(timestamp?.[i]),
          };
          const h = interactionHash(r.userId, r.page, r.timestamp);
          if (seen.has(h)) continue;
          seen.add(h);
          users.add(r.userId);
          totals.interactions += 1;
          popularity.add(r);
          let list = byReader.get(r.userId);
          if (list === undefined) {
            list = [];
            byReader.set(r.userId, list);
          }
          list.push({ page: r.page, timestamp: r.timestamp });
        }
        for (const reads of byReader.values()) covisitation.addReader(reads);
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
  totals.items = categories.size;
  totals.users = users.size;

  const digest = createHash("sha256")
    .update(partitions.map((p) => `${p.key}:${p.sha256}`).join("\n"))
    .digest("hex");
  const snapshotId = `snap-${digest.slice(0, 16)}`;
  const manifestKey = processedKeys.snapshotManifest(snapshotId);
  const log = deps.logger.child({ snapshotId });

  const previous = await readLatestPointer(deps);
  if (previous?.snapshotId === snapshotId) {
    log.info("snapshot unchanged since the last run; nothing to do");
    return { status: "unchanged", snapshotId, manifestKey };
  }

  const asOf = popularity.asOf ?? 0;
  const updatedAt = now().toISOString();
  const lists = [...popularity.build((page) => categories.get(page)), ...covisitation.build()];
  const rows: ColdstartItem[] = lists.map((l) => ({
    listId: l.listId,
    entries: l.entries,
    snapshotId,
    asOf,
    updatedAt,
  }));
  task.phase("lists");
  const { coldstart, unchanged } = await writeChangedLists(deps, rows, (n) => task.wrote(n));
  task.end();

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
  await deps.events.publishSnapshotReady({
    snapshotId,
    bucket,
    manifestKey,
    asOf,
    partitions: partitions.length,
    interactions: totals.interactions,
    items: totals.items,
  });
  log.info({ totals, lists: rows.length, unchanged, coldstart }, "snapshot built and published");
  return { status: "built", manifest, manifestKey, coldstart };
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
  rows: readonly ColdstartItem[],
  onWritten: (n: number) => void,
): Promise<{ coldstart: WriteReport; unchanged: number }> {
  const bucket = deps.buckets.processed;
  const note = await readWrittenLists(deps);
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
  return { coldstart, unchanged: rows.length - changed.length };
}

async function readWrittenLists(deps: SnapshotDeps): Promise<WrittenLists | undefined> {
  try {
    const object = await deps.objects.read(deps.buckets.processed, WRITTEN_LISTS_KEY);
    return JSON.parse(gunzipSync(await readAll(object.body)).toString("utf8")) as WrittenLists;
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

/** Decodes some columns of a partition as arrays (INT64 columns stay bigint). */
async function readColumns(
  bytes: Uint8Array,
  columns: readonly string[],
): Promise<{ rows: number; values: Record<string, unknown[] | undefined> }> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  await parquetRead({
    file,
    columns: [...columns],
    onChunk: ({ columnName, columnData, rowStart }) => {
      let list = chunks.get(columnName);
      if (list === undefined) {
        list = [];
        chunks.set(columnName, list);
      }
      list.push({ rowStart, data: columnData as ArrayLike<unknown> });
    },
  });
  const out: { rows: number; values: Record<string, unknown[] | undefined> } = { rows: 0, values: {} };
  for (const name of columns) {
    const list = (chunks.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    const values: unknown[] = [];
    for (const c of list) for (let i = 0; i < c.data.length; i++) values.push(c.data[i]);
    out.values[name] = values;
    out.rows = values.length;
  }
  return out;
}

async function readLatestPointer(deps: SnapshotDeps) {
  try {
    const object = await deps.objects.read(deps.buckets.processed, processedKeys.latestSnapshot());
    const text = Buffer.from(await readAll(object.body)).toString("utf8");
    return latestSnapshotPointerSchema.parse(JSON.parse(text));
  } catch (error) {
    if ((error as { code?: string }).code === "NOT_FOUND") return undefined;
    throw error;
  }
}
