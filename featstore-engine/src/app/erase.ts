import { createHash, randomUUID } from "node:crypto";
import {
  AppError,
  decodeProcessedParquet,
  ERASURE_REWRITE_METADATA,
  ERASURE_STORES,
  type ErasureAudit,
  type ErasureLedgerItem,
  type ErasureStore,
  encodeProcessedParquet,
  erasureAuditSchema,
  erasureHash,
  erasureKeys,
  type InteractionRecord,
  type LakeBuckets,
  type Logger,
  MLFLOW_ARTIFACTS_PREFIX,
  PROCESSED_PREFIX,
  processedKeys,
  RAW_PREFIX,
  snapshotManifestSchema,
  sourceId as sourceIdOf,
  userIdSchema,
} from "@gplay/common";
import {
  ErasedReaders,
  redactReaderIds,
  type Scrubbed,
  scrubCsvOfReaders,
  scrubJsonLines,
} from "../domain/erasure.js";
import { indexedObjectIdentity } from "../domain/reader-index.js";
import type { ErasureChange, RewrittenPartition } from "./build-snapshot.js";
import { forEachConcurrently } from "./concurrency.js";
import type { ErasureLedger, ObjectVersion, ReaderTables, VersionedObjectStore } from "./erasure-ports.js";
import { readColumns } from "./parquet-columns.js";
import { loadReaderIndex, type ReaderIndex, rewriteIndexEntries } from "./reader-index.js";

export interface EraseDeps {
  versions: VersionedObjectStore;
  ledger: ErasureLedger;
  tables: ReaderTables;
  buckets: LakeBuckets;
  logger: Logger;
  /**
   * Builds the snapshot after the rewrites (the engine's snapshot step, given what this erasure changed
   * so it can subtract the readers from the previous snapshot); returns its id if built.
   */
  snapshot?: (change: ErasureChange) => Promise<string | undefined>;
  now?: () => Date;
}

export interface EraseRequest {
  /** Reader ids in clear (the engine's `erase --ids`). */
  userIds?: readonly string[];
  /** Also finish every ledger entry still `requested` (the api's requests, a crashed run). */
  pending?: boolean;
  requestId?: string;
}

export interface EraseResult {
  requestId: string;
  /** Readers erased by this run (new ids found in a store, and ledger entries finished). */
  readers: number;
  /** Given ids that no store holds and the ledger does not know: nothing was written for them. */
  unknown: string[];
  audit: ErasureAudit;
  auditKey: string;
}

/** A store object (one version) found to hold erased readers. */
interface Hit {
  store: Exclude<ErasureStore, "users" | "event-ids" | "reader-index">;
  bucket: string;
  version: ObjectVersion;
  /** Its bytes as the scan read them, when they fit the memory budget (else the rewrite reads again). */
  bytes?: Uint8Array;
}

/** Object reads (and rewrites) in flight at once. */
const SCAN_CONCURRENCY = 3;
/** Hit objects' bytes kept between the scan and the rewrite (the lake's reader-bearing part at scale 0.2). */
const KEEP_HIT_BYTES = 256 * 1024 * 1024;

type Figures = Record<ErasureStore, { scanned: number; rewritten: number; removed: number }>;

const TEXT_ARTIFACT = /\.(json|jsonl|md|txt|csv|tsv|ya?ml|svg|html)$|\/MLmodel$/;

const emptyFigures = (): Figures =>
  Object.fromEntries(ERASURE_STORES.map((s) => [s, { scanned: 0, rewritten: 0, removed: 0 }])) as Figures;

const utf8 = new TextDecoder();

/**
 * Erases readers from every store: the users item, the api's event ids, every raw object version
 * (current versions rewritten without the reader's rows and marked so their event starts no
 * ingestion, older versions deleted), the Parquet partitions and quarantine files (rewritten), and
 * MLflow's text artifacts (ids redacted). Manifests that listed a rewritten partition are marked
 * superseded and a new snapshot is built. A verification scan of every store follows, and an audit
 * record (counts only, never an id) is written under `processed/erasures/`.
 *
 * Order makes a crash safe to re-run: the lake is read first (read-only; given ids found nowhere are
 * reported unknown and change nothing), then the ledger entries are written, then the stores are
 * rewritten; a re-run (same ids, or `pending`) finds the ledger entries and finishes.
 */
export async function eraseReaders(deps: EraseDeps, request: EraseRequest): Promise<EraseResult> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const requestId =
    request.requestId ??
    `erase-${startedAt.toISOString().replaceAll(/[-:.]/g, "")}-${randomUUID().slice(0, 8)}`;
  const log = deps.logger.child({ erasure: requestId });

  const given = normaliseIds(request.userIds ?? []);
  const ledger = new Map((await deps.ledger.listEntries()).map((e) => [e.userHash, e]));
  const pendingHashes = request.pending
    ? [...ledger.values()].filter((e) => e.status === "requested").map((e) => e.userHash)
    : [];
  const givenHashes = new Map(given.map((id) => [erasureHash(id), id]));
  // The clear ids are learnt from the stores: a given id no store shows is unknown.
  const targets = new ErasedReaders([...givenHashes.keys(), ...pendingHashes]);
  if (targets.size === 0)
    throw new AppError("VALIDATION_FAILED", "Nothing to erase: give reader ids or --pending");

  // Seconds per phase, logged at the end (where an erasure's time goes).
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    phases[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };

  // 1. Find the readers: the reader index says which objects can hold them, and those (with every
  // object the index does not cover at its current version) are read; nothing is written yet.
  const figures = emptyFigures();
  const index = await loadReaderIndex(deps.versions, deps.buckets.processed);
  figures["reader-index"].scanned = index.entries.length;
  const located = await locate(deps, targets, figures, given, { keepBytes: KEEP_HIT_BYTES, index });
  const unknown = given.filter((id) => !ledger.has(erasureHash(id)) && !targets.seen.has(id));
  const erasedHashes = [
    ...new Set([
      ...pendingHashes,
      ...[...givenHashes].filter(([hash, id]) => ledger.has(hash) || targets.seen.has(id)).map(([h]) => h),
    ]),
  ];
  log.info(
    {
      event: "erasure-located",
      readers: erasedHashes.length,
      unknown: unknown.length,
      objects: located.hits.length,
      indexed: located.skipped,
    },
    "stores read",
  );
  const erased = new ErasedReaders(erasedHashes, [...targets.seen]);
  phase("locate");

  // 2. The ledger first: from here on ingestion keeps these readers out, and a crash re-runs.
  const at = now().toISOString();
  await deps.ledger.addEntries(
    erasedHashes
      .filter((h) => !ledger.has(h))
      .map(
        (userHash): ErasureLedgerItem => ({
          userHash,
          erasedAt: at,
          status: "requested",
          requestId,
          updatedAt: at,
        }),
      ),
  );
  phase("ledger");

  // 3. The tables keyed by clear id first: after this, any id still to erase is in the lake, where a
  // re-run (`--pending`, from hashes) learns it.
  const users = [...erased.seen].filter((id) => located.userIds.has(id));
  figures.users.removed = await deps.tables.deleteUsers(users);
  figures.users.rewritten = figures.users.removed;
  const eventKeys = located.eventKeys.filter((k) => erased.has(k.split("#")[0] ?? ""));
  figures["event-ids"].removed = await deps.tables.deleteEventKeys(eventKeys);
  figures["event-ids"].rewritten = figures["event-ids"].removed;

  // 4. Rewrite the lake objects that hold them.
  const rewrittenPartitions = new Set<string>();
  const changed: RewrittenPartition[] = [];
  /** Old identity (bucket, key, etag) of each rewritten object → its new etag (undefined: deleted). */
  const replaced = new Map<string, string | undefined>();
  await forEachConcurrently(located.hits, SCAN_CONCURRENCY, async (hit) => {
    const { removed, etag, partition } = await rewrite(deps, hit, erased, requestId);
    if (partition !== undefined) changed.push(partition);
    replaced.set(indexedObjectIdentity({ bucket: hit.bucket, ...hit.version }), etag);
    hit.bytes = undefined;
    figures[hit.store].rewritten += 1;
    figures[hit.store].removed += removed;
    if (hit.store === "interactions" || hit.store === "validation" || hit.store === "impressions")
      rewrittenPartitions.add(hit.version.key);
  });

  // The index entries that name the readers, last (a crash before leaves them stale or naming the
  // readers: either way their objects are read again, never skipped).
  figures["reader-index"].rewritten = await rewriteIndexEntries(
    deps.versions,
    deps.buckets.processed,
    index,
    erased,
    replaced,
  );
  figures["reader-index"].removed = figures["reader-index"].rewritten;
  phase("rewrite");
  // 5. Manifests of the rewritten partitions are superseded; a new snapshot replaces them.
  const supersededManifests = await supersedeManifests(deps, rewrittenPartitions, requestId, now());
  const snapshotId =
    rewrittenPartitions.size > 0 || supersededManifests > 0
      ? await deps.snapshot?.({ readers: erasedHashes, partitions: changed })
      : undefined;

  phase("snapshot");
  // 6. Proof: every store listed again; every version not read clean in step 1 (the rewritten ones,
  // anything new) is read again.
  const remaining = await proveErased(deps, erased, { cleanBefore: located.clean, index });
  const clean = Object.values(remaining).every((n) => n === 0);
  phase("verify");
  if (clean) await deps.ledger.markErased(erasedHashes, now());
  phase("mark");

  const audit: ErasureAudit = erasureAuditSchema.parse({
    schemaVersion: 1,
    requestId,
    startedAt: startedAt.toISOString(),
    finishedAt: now().toISOString(),
    readers: erasedHashes.length,
    unknown: unknown.length,
    stores: figures,
    verification: remaining,
    supersededManifests,
    ...(snapshotId === undefined ? {} : { snapshotId }),
  });
  const auditKey = erasureKeys.audit(requestId);
  await deps.versions.putWithMetadata(
    deps.buckets.processed,
    auditKey,
    JSON.stringify(audit, null, 2),
    "application/json",
    {},
  );
  log.info({ event: "erasure-finished", ...audit, stores: undefined, phases }, "erasure finished");
  if (!clean)
    throw new AppError("UPSTREAM_FAILED", `Erasure ${requestId} left occurrences behind; run it again`, {
      details: { remaining },
    });
  return { requestId, readers: erasedHashes.length, unknown, audit, auditKey };
}

/**
 * The proof of an erasure: what each store still holds of the readers, from a real read of the stores.
 * Every store is listed; every object version not in `cleanBefore` (read clean earlier by the same run:
 * a version is immutable) is read, as far as it can hold a reader id (a text's 64-hex tokens, a
 * partition's userId column); the users and event-ids tables are read by key and scanned; the reader
 * index is listed again (entries unchanged since `index` was loaded are not read again).
 */
export async function proveErased(
  deps: Pick<EraseDeps, "versions" | "tables" | "buckets">,
  erased: ErasedReaders,
  options: { cleanBefore?: ReadonlySet<string>; index?: ReaderIndex } = {},
): Promise<Record<ErasureStore, number>> {
  const check = await locate(deps, erased, emptyFigures(), [...erased.seen], {
    ...(options.cleanBefore === undefined ? {} : { cleanBefore: options.cleanBefore }),
  });
  const remaining = Object.fromEntries(ERASURE_STORES.map((s) => [s, 0])) as Record<ErasureStore, number>;
  for (const hit of check.hits) remaining[hit.store] += 1;
  // None of the index's entries may name a reader.
  const indexAfter = await loadReaderIndex(deps.versions, deps.buckets.processed, options.index);
  remaining["reader-index"] = indexAfter.naming(erased).length;
  remaining.users = [...check.userIds].filter((id) => erased.has(id)).length;
  remaining["event-ids"] = check.eventKeys.filter((k) => erased.has(k.split("#")[0] ?? "")).length;
  return remaining;
}

/** Lower-cases and validates ids; any bad id refuses the whole request before anything is read. */
function normaliseIds(ids: readonly string[]): string[] {
  const bad = ids.filter((id) => !userIdSchema.safeParse(id).success);
  if (bad.length > 0)
    throw new AppError(
      "VALIDATION_FAILED",
      `Not reader ids (64 hex characters): ${bad.slice(0, 5).join(", ")}`,
      {
        details: { invalid: bad.length },
      },
    );
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

interface Located {
  hits: Hit[];
  /** Object versions not read because the reader index says they hold none of the readers. */
  skipped: number;
  userIds: Set<string>;
  eventKeys: string[];
  /** Identities (`versionIdentity`) of the object versions read and found to hold none of the readers. */
  clean: Set<string>;
}

interface LocateOptions {
  /** Versions already read clean by this run: not read again (the verification after the rewrites). */
  cleanBefore?: ReadonlySet<string>;
  /** Bytes of hit objects kept in memory for the rewrite, at most (the rest is read again). */
  keepBytes?: number;
  /**
   * The reader index: an object version it covers (same etag) whose entries name none of the readers
   * is not read. Absent for the proof, which reads every version this run did not read clean.
   */
  index?: ReaderIndex;
}

/** The zones locate lists, each once per bucket (the stores' prefixes lie inside them). */
const ZONES = [RAW_PREFIX, PROCESSED_PREFIX, MLFLOW_ARTIFACTS_PREFIX];

/** An object version as listed: a key, its version id, and its etag (a "null" version can be overwritten). */
const versionIdentity = (bucket: string, v: ObjectVersion) =>
  `${bucket}\n${v.key}\n${v.versionId}\n${v.etag}`;

/**
 * One read of every store: which object versions name an erased reader, which event ids exist, and
 * which of the readers (the `clearIds` given, and those the lake showed) have a users item. Counts
 * scanned objects into `figures`.
 */
export async function locate(
  deps: Pick<EraseDeps, "versions" | "tables" | "buckets">,
  erased: ErasedReaders,
  figures: Figures = emptyFigures(),
  clearIds: readonly string[] = [],
  options: LocateOptions = {},
): Promise<Located> {
  const hits: Hit[] = [];
  const clean = new Set<string>();
  let kept = 0;
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
  /** One version to read, and how to tell whether its bytes name an erased reader. */
  interface Read {
    store: Hit["store"];
    bucket: string;
    version: ObjectVersion;
    holds: (bytes: Uint8Array) => Promise<boolean> | boolean;
  }
  const queue = async (
    store: Hit["store"] | "raw-any",
    bucket: string,
    prefix: string,
    holds: Read["holds"],
    accept: (key: string) => boolean = () => true,
  ): Promise<Read[]> =>
    (await listed(bucket, prefix))
      .filter((v) => accept(v.key))
      .map((version) => ({
        store: store === "raw-any" ? (version.isLatest ? "raw" : "raw-versions") : store,
        bucket,
        version,
        holds,
      }));
  // Only what can hold a reader id is read: a text's 64-hex tokens (common's scan, nothing parsed), a
  // partition's userId column (the others are not decoded).
  const text = (bytes: Uint8Array) => erased.named(utf8.decode(bytes));
  const column = async (bytes: Uint8Array) => (await readUserIds(bytes)).some((id) => erased.has(id));
  const reads = (
    await Promise.all([
      queue("raw-any", deps.buckets.raw, RAW_PREFIX, text),
      ...(["interactions", "validation", "impressions"] as const).map((dataset) =>
        queue(dataset, deps.buckets.processed, processedKeys.partitionPrefix(dataset), column),
      ),
      queue("quarantine", deps.buckets.processed, `${PROCESSED_PREFIX}quarantine/`, text),
      queue("mlflow-artifacts", deps.buckets.models, MLFLOW_ARTIFACTS_PREFIX, text, (key) =>
        TEXT_ARTIFACT.test(key),
      ),
    ])
  ).flat();
  // Every store's reads in one pool of bounded concurrency: no store waits for the one before to drain
  // (moto answers in another process, so its work and the decoding here run side by side on two cores).
  await forEachConcurrently(reads, SCAN_CONCURRENCY, async ({ store, bucket, version, holds }) => {
    const identity = versionIdentity(bucket, version);
    // A version is immutable: one this run already read clean is clean still.
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
    if (!(await holds(bytes))) {
      clean.add(identity);
      return;
    }
    const keep = store !== "raw-versions" && kept + bytes.byteLength <= (options.keepBytes ?? 0);
    if (keep) kept += bytes.byteLength;
    hits.push({ store, bucket, version, ...(keep ? { bytes } : {}) });
  });
  // Keyed reads, not a scan: the ids are the ones given and the ones the lake showed.
  const candidates = [...new Set([...clearIds, ...erased.seen])].filter((id) => erased.includes(id));
  figures.users.scanned += candidates.length;
  const userIds = await deps.tables.existingUsers(candidates);
  for (const id of userIds) erased.has(id);
  const eventKeys: string[] = [];
  for await (const key of deps.tables.eventKeys()) {
    figures["event-ids"].scanned += 1;
    if (erased.has(key.split("#")[0] ?? "")) eventKeys.push(key);
  }
  return { hits, skipped, userIds, eventKeys, clean };
}

/** Distinct reader ids of a partition (its userId column only, decoded as a column: no row objects). */
async function readUserIds(bytes: Uint8Array): Promise<string[]> {
  const ids = new Set<string>();
  for (const id of (await readColumns(bytes, ["userId"])).values.userId ?? [])
    if (typeof id === "string") ids.add(id);
  return [...ids];
}

/**
 * Rewrites (or deletes) one object version that holds erased readers; returns the rows removed and the
 * etag of the new version (undefined when the object was deleted).
 */
async function rewrite(
  deps: EraseDeps,
  hit: Hit,
  erased: ErasedReaders,
  requestId: string,
): Promise<{ removed: number; etag?: string; partition?: RewrittenPartition }> {
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
  const bytes = hit.bytes ?? (await versions.readVersion(bucket, version.key, version.versionId));
  let scrubbed: Scrubbed | { bytes: Uint8Array; removed: number };
  let contentType: string;
  let metadata: Record<string, string> = {};
  let partition: Omit<RewrittenPartition, "etag"> | undefined;
  switch (hit.store) {
    case "raw":
      scrubbed = scrubCsvOfReaders(utf8.decode(bytes), erased);
      contentType = "text/csv; charset=utf-8";
      metadata = { [ERASURE_REWRITE_METADATA]: requestId };
      break;
    case "interactions":
    case "validation":
    case "impressions": {
      const rows: readonly { userId?: string }[] = await decodeProcessedParquet(hit.store, bytes);
      // An impression row without a reader (an anonymous list) names no one.
      const kept = rows.filter((r) => r.userId === undefined || !erased.has(r.userId));
      const source = /\/source=([^/]+)\//.exec(version.key)?.[1] ?? "";
      const encoded = encodeProcessedParquet(hit.store, kept as never[], { "gplay.sourceId": source });
      scrubbed = { bytes: encoded, removed: rows.length - kept.length };
      contentType = "application/vnd.apache.parquet";
      // What the snapshot after the erasure subtracts (it reads no partition when it can).
      partition = {
        dataset: hit.store,
        key: version.key,
        before: version.etag,
        bytes: encoded.byteLength,
        sha256: createHash("sha256").update(encoded).digest("hex"),
        rows: kept.length,
        removed:
          hit.store === "interactions"
            ? (rows as readonly InteractionRecord[]).filter((r) => erased.has(r.userId))
            : [],
      };
      break;
    }
    case "quarantine":
      scrubbed = scrubJsonLines(utf8.decode(bytes), erased);
      contentType = "application/x-ndjson";
      break;
    case "mlflow-artifacts":
      scrubbed = redactReaderIds(utf8.decode(bytes), erased);
      contentType = "application/octet-stream";
      break;
  }
  const body = "bytes" in scrubbed ? scrubbed.bytes : scrubbed.text;
  if (hit.store === "quarantine" && body.length === 0) {
    await dropOld();
    if (version.versionId === "null") await versions.deleteVersion(bucket, version.key, "null");
    return { removed: scrubbed.removed };
  }
  const written = await versions.putWithMetadata(bucket, version.key, body, contentType, metadata);
  if (written.versionId !== version.versionId) await dropOld();
  if (hit.store === "raw")
    await deps.tables.markIngestionErased(sourceIdOf(bucket, version.key, version.etag), new Date());
  return {
    removed: scrubbed.removed,
    etag: written.etag,
    ...(partition === undefined ? {} : { partition: { ...partition, etag: written.etag } }),
  };
}

/** Marks every manifest that lists a rewritten partition as superseded; returns how many. */
async function supersedeManifests(
  deps: EraseDeps,
  partitions: ReadonlySet<string>,
  requestId: string,
  at: Date,
): Promise<number> {
  if (partitions.size === 0) return 0;
  let n = 0;
  for await (const version of deps.versions.listVersions(
    deps.buckets.processed,
    `${PROCESSED_PREFIX}snapshots/`,
  )) {
    if (!version.isLatest || !version.key.endsWith("/manifest.json")) continue;
    const bytes = await deps.versions.readVersion(deps.buckets.processed, version.key, version.versionId);
    const manifest = snapshotManifestSchema.parse(JSON.parse(utf8.decode(bytes)));
    if (manifest.supersededBy !== undefined || !manifest.partitions.some((p) => partitions.has(p.key)))
      continue;
    await deps.versions.putWithMetadata(
      deps.buckets.processed,
      version.key,
      JSON.stringify({ ...manifest, supersededBy: { erasure: requestId, at: at.toISOString() } }, null, 2),
      "application/json",
      {},
    );
    n += 1;
  }
  return n;
}
