import { createHash } from "node:crypto";
import {
  AppError,
  ERASURE_REWRITE_METADATA,
  ERASURE_STORES,
  type ErasureStore,
  type LakeBuckets,
  MLFLOW_ARTIFACTS_PREFIX,
  PROCESSED_PREFIX,
  processedKeys,
  RAW_PREFIX,
  sourceId as sourceIdOf,
} from "@gplay/common";
import {
  type ErasedReaders,
  redactReaderIds,
  type Scrubbed,
  scrubCsvOfReaders,
  scrubJsonLines,
} from "../domain/erasure.js";
import type { RewrittenPartition } from "./build-snapshot.js";
import { forEachConcurrently } from "./concurrency.js";
import type { ObjectVersion, ReaderTables, VersionedObjectStore } from "./erasure-ports.js";
import { filterPartitionRows, readColumns } from "./parquet-columns.js";
import type { ReaderIndex } from "./reader-index.js";

/** The lake's stores an erasure reads object by object. */
export type ObjectStoreName = Exclude<ErasureStore, "users" | "event-ids" | "reader-index">;

/** A store object (one version) found to hold erased readers. */
export interface Hit {
  store: ObjectStoreName;
  bucket: string;
  version: ObjectVersion;
}

export type Figures = Record<ErasureStore, { scanned: number; rewritten: number; removed: number }>;

export const emptyFigures = (): Figures =>
  Object.fromEntries(ERASURE_STORES.map((s) => [s, { scanned: 0, rewritten: 0, removed: 0 }])) as Figures;

/** Object reads (each followed by its rewrite when it holds a reader) in flight at once. */
const SCAN_CONCURRENCY = 3;

/**
 * The listed bytes of the objects in flight at once (an object larger runs alone). An object's read,
 * decoding and rewrite hold a few times its bytes (a raw text decoded, cut and encoded again; a
 * partition's rows), so this, not the lake's size or the batch's, bounds the pass's memory: three of
 * the full kit's largest reads files (19.4 MB) fit, as they ran before it existed; its articles file
 * (105 MB) is read alone.
 */
export const SCAN_BYTES_IN_FLIGHT = 64 * 1_048_576;

const TEXT_ARTIFACT = /\.(json|jsonl|md|txt|csv|tsv|ya?ml|svg|html)$|\/MLmodel$/;

/** The zones the scan lists, each once per bucket (the stores' prefixes lie inside them). */
const ZONES = [RAW_PREFIX, PROCESSED_PREFIX, MLFLOW_ARTIFACTS_PREFIX];

const utf8 = new TextDecoder();

/** An object version's identity as listed: a key, its version id and its etag (a "null" version can be overwritten). */
export const versionIdentity = (bucket: string, v: Pick<ObjectVersion, "key" | "versionId" | "etag">) =>
  `${bucket}\n${v.key}\n${v.versionId}\n${v.etag}`;

/**
 * The erased readers an object version's bytes name, as far as it can hold a reader id: a text's
 * 64-hex tokens (common's scan, nothing parsed), a partition's userId column (the others not decoded).
 * The scan, the rewrite's check of what it writes and the proof all use this one reading.
 */
export async function readersIn(
  store: ObjectStoreName,
  bytes: Uint8Array,
  erased: ErasedReaders,
): Promise<string[]> {
  return (await readObject(store, bytes, erased)).readers;
}

/**
 * What the scan learnt of an object version: the erased readers it names (`readersIn`) and, for a
 * text, the decoded text and where it names them, so its rewrite neither decodes nor scans it again.
 */
export interface Reading {
  readers: string[];
  text?: { text: string; positions: readonly number[] };
}

async function readObject(
  store: ObjectStoreName,
  bytes: Uint8Array,
  erased: ErasedReaders,
): Promise<Reading> {
  if (store === "interactions" || store === "validation" || store === "impressions") {
    const found = new Set<string>();
    for (const id of (await readColumns(bytes, ["userId"])).values.userId ?? [])
      if (typeof id === "string" && !found.has(id) && erased.has(id)) found.add(id);
    return { readers: [...found] };
  }
  const text = utf8.decode(bytes);
  const { readers, positions } = erased.locate(text);
  return { readers, text: { text, positions } };
}

export interface ScanOptions {
  /** Versions this run already read (or wrote) clean: not read again (the proof after the rewrites). */
  cleanBefore?: ReadonlySet<string>;
  /**
   * The reader index: an object version it covers (same etag) whose entries name none of the readers
   * is not read. Absent for the proof, which reads every version this run did not read or write clean.
   */
  index?: ReaderIndex;
  /**
   * Called for each version found holding readers, with its bytes and the readers it names, inside the
   * scan's pool (so the rewrite follows the read, and at most `SCAN_CONCURRENCY` objects, of at most
   * `SCAN_BYTES_IN_FLIGHT` listed bytes together, are held). `reading` is what the scan learnt of it.
   */
  onHit?: (hit: Hit, bytes: Uint8Array, reading: Reading) => Promise<void>;
}

export interface Scanned {
  /** Versions found holding the readers. */
  hits: Hit[];
  /** Versions not read because the reader index says they hold none of the readers. */
  skipped: number;
  /** Identities (`versionIdentity`) of the versions read and found to hold none of the readers. */
  clean: Set<string>;
}

/**
 * One read of every object store (raw and its older versions, the three datasets' partitions,
 * quarantine, MLflow text artifacts): which versions name an erased reader. Each bucket's zone is
 * listed once; every store's reads go through one pool of bounded concurrency. Counts the versions
 * read into `figures`.
 */
export async function scanStores(
  deps: { versions: VersionedObjectStore; buckets: LakeBuckets },
  erased: ErasedReaders,
  figures: Figures,
  options: ScanOptions = {},
): Promise<Scanned> {
  const hits: Hit[] = [];
  const clean = new Set<string>();
  let skipped = 0;
  // Each bucket's zone is listed once and every store's prefix taken from that listing: fewer list
  // requests, and moto copies every version of the bucket (bytes included) on each ListObjectVersions.
  const listings = new Map<string, Promise<ObjectVersion[]>>();
  const listed = async (bucket: string, prefix: string): Promise<ObjectVersion[]> => {
    const zone = ZONES.find((z) => prefix.startsWith(z)) ?? prefix;
    let listing = listings.get(`${bucket}\n${zone}`);
    if (listing === undefined) {
      listing = (async () => {
        const all: ObjectVersion[] = [];
        for await (const version of deps.versions.listVersions(bucket, zone)) all.push(version);
        return all;
      })();
      listings.set(`${bucket}\n${zone}`, listing);
    }
    return (await listing).filter((v) => v.key.startsWith(prefix));
  };
  const queue = async (
    store: ObjectStoreName | "raw-any",
    bucket: string,
    prefix: string,
    accept: (key: string) => boolean = () => true,
  ): Promise<Hit[]> =>
    (await listed(bucket, prefix))
      .filter((v) => accept(v.key))
      .map((version) => ({
        store: store === "raw-any" ? (version.isLatest ? "raw" : "raw-versions") : store,
        bucket,
        version,
      }));
  const reads = (
    await Promise.all([
      queue("raw-any", deps.buckets.raw, RAW_PREFIX),
      ...(["interactions", "validation", "impressions"] as const).map((dataset) =>
        queue(dataset, deps.buckets.processed, processedKeys.partitionPrefix(dataset)),
      ),
      queue("quarantine", deps.buckets.processed, `${PROCESSED_PREFIX}quarantine/`),
      queue("mlflow-artifacts", deps.buckets.models, MLFLOW_ARTIFACTS_PREFIX, (key) =>
        TEXT_ARTIFACT.test(key),
      ),
    ])
  ).flat();
  // Every store's reads in one pool of bounded concurrency: no store waits for the one before to drain
  // (moto answers in another process, so its work and the decoding here run side by side on two cores).
  const budget = { weight: (read: Hit) => read.version.size, max: SCAN_BYTES_IN_FLIGHT };
  await forEachConcurrently(
    reads,
    SCAN_CONCURRENCY,
    async (read) => {
      const { store, bucket, version } = read;
      const identity = versionIdentity(bucket, version);
      // A version is immutable: one this run already read (or wrote) clean is clean still.
      if (options.cleanBefore?.has(identity)) {
        clean.add(identity);
        return;
      }
      if (options.index?.clears({ bucket, ...version }, erased)) {
        skipped += 1;
        return;
      }
      figures[store].scanned += 1;
      const bytes = await deps.versions.readVersion(bucket, version.key, version.versionId);
      const reading = await readObject(store, bytes, erased);
      if (reading.readers.length === 0) {
        clean.add(identity);
        return;
      }
      hits.push(read);
      await options.onHit?.(read, bytes, reading);
    },
    budget,
  );
  return { hits, skipped, clean };
}

/** What one object's rewrite did. */
export interface Rewritten {
  removed: number;
  /** The new version's etag (undefined when the object was deleted). */
  etag?: string;
  /** The new version's identity, its bytes checked to name none of the readers (undefined: deleted). */
  written?: string;
  partition?: RewrittenPartition;
}

/**
 * Rewrites (or deletes) one object version that holds erased readers, from the bytes the scan read
 * (and, for a text, its decoded text and the readers' positions in it, when the scan gives them).
 * The bytes written are checked with the scan's own reading (`readersIn`) before they are sent: a
 * rewrite that would still name a reader fails the run.
 */
export async function rewriteObject(
  deps: { versions: VersionedObjectStore; tables: ReaderTables },
  hit: Hit,
  bytes: Uint8Array,
  erased: ErasedReaders,
  requestId: string,
  scanned?: Reading["text"],
): Promise<Rewritten> {
  const { bucket, version } = hit;
  const { versions } = deps;
  const dropOld = async () => {
    if (version.versionId !== "null") await versions.deleteVersion(bucket, version.key, version.versionId);
  };
  // An old version is evidence of nothing we need: it goes whole.
  if (hit.store === "raw-versions") {
    await dropOld();
    return { removed: 1 };
  }
  let scrubbed: Scrubbed | { bytes: Uint8Array; removed: number };
  let contentType: string;
  let metadata: Record<string, string> = {};
  let partition: Omit<RewrittenPartition, "etag"> | undefined;
  switch (hit.store) {
    case "raw":
      scrubbed =
        scanned === undefined
          ? scrubCsvOfReaders(utf8.decode(bytes), erased)
          : scrubCsvOfReaders(scanned.text, erased, scanned.positions);
      contentType = "text/csv; charset=utf-8";
      metadata = { [ERASURE_REWRITE_METADATA]: requestId };
      break;
    case "interactions":
    case "validation":
    case "impressions": {
      // Filtered column by column (no row objects): the kept rows' bytes as a decode, filter and
      // encode of the rows would give them.
      const source = /\/source=([^/]+)\//.exec(version.key)?.[1] ?? "";
      const filtered = await filterPartitionRows(hit.store, bytes, (id) => erased.has(id), {
        "gplay.sourceId": source,
      });
      const encoded = filtered.bytes;
      const { userId = [], page = [], timestamp = [] } = filtered.dropped;
      scrubbed = { bytes: encoded, removed: userId.length };
      contentType = "application/vnd.apache.parquet";
      // What the snapshot after the erasure subtracts (it reads no partition when it can).
      partition = {
        dataset: hit.store,
        key: version.key,
        before: version.etag,
        bytes: encoded.byteLength,
        sha256: createHash("sha256").update(encoded).digest("hex"),
        rows: filtered.rows,
        removed:
          hit.store === "interactions"
            ? userId.map((id, i) => ({
                userId: id as string,
                page: page[i] as string,
                timestamp: Number(timestamp[i]),
              }))
            : [],
      };
      break;
    }
    case "quarantine":
      scrubbed = scrubJsonLines(scanned?.text ?? utf8.decode(bytes), erased);
      contentType = "application/x-ndjson";
      break;
    case "mlflow-artifacts":
      scrubbed = redactReaderIds(scanned?.text ?? utf8.decode(bytes), erased);
      contentType = "application/octet-stream";
      break;
  }
  const body = "bytes" in scrubbed ? scrubbed.bytes : new TextEncoder().encode(scrubbed.text);
  if (hit.store === "quarantine" && body.byteLength === 0) {
    await dropOld();
    if (version.versionId === "null") await versions.deleteVersion(bucket, version.key, "null");
    return { removed: scrubbed.removed };
  }
  // A text is checked as the string encoded (decoding its bytes again gives the same string).
  const left =
    "bytes" in scrubbed ? await readersIn(hit.store, body, erased) : erased.readersIn(scrubbed.text);
  if (left.length > 0)
    throw new AppError(
      "INTERNAL",
      `Erasure's rewrite of s3://${bucket}/${version.key} would still name ${left.length} erased readers; nothing written`,
    );
  const written = await versions.putWithMetadata(bucket, version.key, body, contentType, metadata);
  if (written.versionId !== version.versionId) await dropOld();
  if (hit.store === "raw")
    await deps.tables.markIngestionErased(sourceIdOf(bucket, version.key, version.etag), new Date());
  return {
    removed: scrubbed.removed,
    etag: written.etag,
    written: versionIdentity(bucket, { key: version.key, ...written }),
    ...(partition === undefined ? {} : { partition: { ...partition, etag: written.etag } }),
  };
}
