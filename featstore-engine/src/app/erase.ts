import { randomUUID } from "node:crypto";
import {
  AppError,
  ERASURE_STORES,
  type ErasureAudit,
  type ErasureLedgerItem,
  type ErasureStore,
  erasureAuditSchema,
  erasureHash,
  erasureKeys,
  type LakeBuckets,
  type Logger,
  PROCESSED_PREFIX,
  snapshotManifestSchema,
  userIdSchema,
} from "@gplay/common";
import { ErasedReaders } from "../domain/erasure.js";
import { indexedObjectIdentity } from "../domain/reader-index.js";
import type { ErasureChange, RewrittenPartition } from "./build-snapshot.js";
import { emptyFigures, type Figures, rewriteObject, scanStores } from "./erase-scan.js";
import type { ErasureLedger, ReaderTables, VersionedObjectStore } from "./erasure-ports.js";
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

const utf8 = new TextDecoder();

/**
 * Erases readers from every store: the users item, the api's event ids, every raw object version
 * (current versions rewritten without the reader's rows and marked so their event starts no
 * ingestion, older versions deleted), the Parquet partitions and quarantine files (rewritten), and
 * MLflow's text artifacts (ids redacted). Manifests that listed a rewritten partition are marked
 * superseded and a new snapshot is built. A verification scan of every store follows, and an audit
 * record (counts only, never an id) is written under `processed/erasures/`.
 *
 * One pass over the lake: each object version is read once, and one found holding readers is
 * rewritten right away (bounded concurrency: only the objects in flight are in memory). Order makes a
 * crash safe to re-run: before an object is rewritten, the readers it names get their ledger entries
 * and lose their users items (`Safeguard`), so a re-run (same ids, or `pending`) knows every reader
 * whose data any rewrite touched, and finds nothing left in the objects already rewritten. A given id
 * no store holds is never written anywhere: it is reported unknown and changes nothing.
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
  // The given ids are known in clear: when no pending hash lacks one, ids met are matched without hashing.
  const erased = new ErasedReaders([...givenHashes.keys(), ...pendingHashes], [], given);
  if (erased.size === 0)
    throw new AppError("VALIDATION_FAILED", "Nothing to erase: give reader ids or --pending");

  // Seconds per phase, logged at the end (where an erasure's time goes).
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    phases[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };

  // 1. Read and rewrite: the reader index says which objects can hold the readers, and those (with
  // every object the index does not cover at its current version) are read, each once; one that holds
  // readers is rewritten at once, after the safeguard of the readers it names.
  const figures = emptyFigures();
  const index = await loadReaderIndex(deps.versions, deps.buckets.processed);
  figures["reader-index"].scanned = index.entries.length;
  const safeguard = new Safeguard(deps, ledger, figures, requestId, now);
  const rewrittenPartitions = new Set<string>();
  const changed: RewrittenPartition[] = [];
  /** Old identity (bucket, key, etag) of each rewritten object → its new etag (undefined: deleted). */
  const replaced = new Map<string, string | undefined>();
  /** Identities of the versions this run wrote, their bytes checked to name none of the readers. */
  const written = new Set<string>();
  const scanned = await scanStores(deps, erased, figures, {
    index,
    onHit: async (hit, bytes, { readers, text }) => {
      await safeguard.secure(readers);
      const result = await rewriteObject(deps, hit, bytes, erased, requestId, text);
      if (result.partition !== undefined) changed.push(result.partition);
      if (result.written !== undefined) written.add(result.written);
      replaced.set(indexedObjectIdentity({ bucket: hit.bucket, ...hit.version }), result.etag);
      figures[hit.store].rewritten += 1;
      figures[hit.store].removed += result.removed;
      if (hit.store === "interactions" || hit.store === "validation" || hit.store === "impressions")
        rewrittenPartitions.add(hit.version.key);
    },
  });
  log.info(
    { event: "erasure-located", objects: scanned.hits.length, indexed: scanned.skipped },
    "stores read and rewritten",
  );
  phase("scan");

  // 2. The tables keyed by reader: the users items of readers the lake did not show (given ids) and
  // the api's event ids, each reader's ledger entry first.
  const candidates = [...new Set([...given, ...erased.seen])].filter(
    (id) => erased.includes(id) && !safeguard.secured(id),
  );
  for (const id of await deps.tables.existingUsers(candidates)) erased.has(id);
  const eventKeys: string[] = [];
  for await (const key of deps.tables.eventKeys()) {
    figures["event-ids"].scanned += 1;
    if (erased.has(key.split("#")[0] ?? "")) eventKeys.push(key);
  }
  await safeguard.secure([...erased.seen]);
  figures["event-ids"].removed = await deps.tables.deleteEventKeys(eventKeys);
  figures["event-ids"].rewritten = figures["event-ids"].removed;
  const unknown = given.filter((id) => !ledger.has(erasureHash(id)) && !erased.seen.has(id));
  const erasedHashes = [
    ...new Set([
      ...pendingHashes,
      ...[...givenHashes].filter(([hash, id]) => ledger.has(hash) || erased.seen.has(id)).map(([h]) => h),
    ]),
  ];
  phase("ledger");

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
  phase("index");
  // 3. Manifests of the rewritten partitions are superseded; a new snapshot replaces them.
  const supersededManifests = await supersedeManifests(deps, rewrittenPartitions, requestId, now());
  const snapshotId =
    rewrittenPartitions.size > 0 || supersededManifests > 0
      ? await deps.snapshot?.({ readers: erasedHashes, partitions: changed })
      : undefined;

  phase("snapshot");
  // 4. Proof: every store listed again; every version this run neither read clean nor wrote (checked)
  // in step 1 (what the index let it skip, anything new) is read.
  const remaining = await proveErased(deps, erased, {
    cleanBefore: new Set([...scanned.clean, ...written]),
    index,
  });
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
 * What must hold before any of a reader's data is rewritten: its ledger entry (from then on ingestion
 * keeps it out, and a re-run, from its hash, finishes it) and no users item (the users table is keyed
 * by the clear id, which a re-run from hashes learns only from the lake this run is rewriting). One
 * call at a time, each reader once: objects in flight that name the same readers wait for the first.
 */
class Safeguard {
  readonly #done = new Set<string>();
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: Pick<EraseDeps, "ledger" | "tables">,
    private readonly ledger: ReadonlyMap<string, ErasureLedgerItem>,
    private readonly figures: Figures,
    private readonly requestId: string,
    private readonly now: () => Date,
  ) {}

  secured(id: string): boolean {
    return this.#done.has(id);
  }

  /** Writes the ledger entries these readers (clear ids) lack, then deletes their users items. */
  secure(ids: readonly string[]): Promise<void> {
    const run = this.#queue.then(async () => {
      const fresh = [...new Set(ids)].filter((id) => !this.#done.has(id));
      if (fresh.length === 0) return;
      const at = this.now().toISOString();
      await this.deps.ledger.addEntries(
        fresh
          .map(erasureHash)
          .filter((h) => !this.ledger.has(h))
          .map(
            (userHash): ErasureLedgerItem => ({
              userHash,
              erasedAt: at,
              status: "requested",
              requestId: this.requestId,
              updatedAt: at,
            }),
          ),
      );
      this.figures.users.scanned += fresh.length;
      const users = [...(await this.deps.tables.existingUsers(fresh))];
      const removed = users.length === 0 ? 0 : await this.deps.tables.deleteUsers(users);
      this.figures.users.removed += removed;
      this.figures.users.rewritten += removed;
      for (const id of fresh) this.#done.add(id);
    });
    // A failure fails the caller; the next call still runs (the run stops at the first failure anyway).
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * The proof of an erasure: what each store still holds of the readers, from a real read of the stores.
 * Every store is listed; every object version not in `cleanBefore` (read clean earlier by the same run,
 * or written by it from bytes checked clean: a version is immutable) is read, as far as it can hold a
 * reader id (a text's 64-hex tokens, a partition's userId column); the users and event-ids tables are
 * read by key and scanned; the reader index is listed again (entries unchanged since `index` was
 * loaded are not read again).
 */
export async function proveErased(
  deps: Pick<EraseDeps, "versions" | "tables" | "buckets">,
  erased: ErasedReaders,
  options: { cleanBefore?: ReadonlySet<string>; index?: ReaderIndex } = {},
): Promise<Record<ErasureStore, number>> {
  const check = await scanStores(deps, erased, emptyFigures(), {
    ...(options.cleanBefore === undefined ? {} : { cleanBefore: options.cleanBefore }),
  });
  const remaining = Object.fromEntries(ERASURE_STORES.map((s) => [s, 0])) as Record<ErasureStore, number>;
  for (const hit of check.hits) remaining[hit.store] += 1;
  // None of the index's entries may name a reader.
  const indexAfter = await loadReaderIndex(deps.versions, deps.buckets.processed, options.index);
  remaining["reader-index"] = indexAfter.naming(erased).length;
  // Keyed reads, not a scan: the ids are those the stores showed.
  const candidates = [...erased.seen].filter((id) => erased.includes(id));
  remaining.users = (await deps.tables.existingUsers(candidates)).size;
  for await (const key of deps.tables.eventKeys())
    if (erased.has(key.split("#")[0] ?? "")) remaining["event-ids"] += 1;
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
