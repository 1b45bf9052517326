import { createHash } from "node:crypto";
import {
  type ArticleRecord,
  type ColdstartItem,
  decodeProcessedParquet,
  type LakeBuckets,
  type Logger,
  latestSnapshotPointerSchema,
  PROCESSED_DATASETS,
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
  const coldstart = await deps.features.putColdstart(rows, (n) => task.wrote(n));
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
  log.info({ totals, lists: rows.length, coldstart }, "snapshot built and published");
  return { status: "built", manifest, manifestKey, coldstart };
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
