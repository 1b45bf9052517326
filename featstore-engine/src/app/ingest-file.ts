import {
  AppError,
  type ArticleItem,
  type ArticleRecord,
  DATASET_OF_KIND,
  ERASURE_REWRITE_METADATA,
  encodeProcessedParquet,
  type ImpressionRecord,
  type IngestionCounts,
  type IngestionItem,
  type IngestionReport,
  type Interaction,
  type InteractionRecord,
  type ItensRow,
  isAppError,
  type LakeBuckets,
  type Logger,
  type Metrics,
  processedKeys,
  type QuarantineRecord,
  type RawFileKind,
  sourceId as sourceIdOf,
  toImpressionRecord,
  type ValidationRecord,
  type WriteReport,
} from "@gplay/common";
import { cleanRawFile } from "../domain/raw-file.js";
import {
  encodeReaderIndexEntry,
  type IndexedObject,
  ReaderTokenCollector,
  readerIndexKey,
} from "../domain/reader-index.js";
import { noProgress, type Progress, type ProgressTask } from "../progress/progress.js";
import { type IngestErasure, type LedgerFilter, loadLedgerFilter, scrubRawObject } from "./ingest-erasure.js";
import type { FeatureStore, ObjectStore, UserMerge } from "./ports.js";

/** Pure builders from the domain, injected so the use case stays testable with fakes. */
export interface IngestBuilders {
  /** An accepted itens row → the DynamoDB article and the processed record. */
  article(row: ItensRow, source: string, now: Date): { item: ArticleItem; record: ArticleRecord };
  /** The interactions of one reader in this file → how to merge them into the stored reader. */
  userMerge(
    userId: string,
    userType: "Logged" | "Non-Logged",
    interactions: readonly Interaction[],
    now: Date,
  ): UserMerge;
}

export interface IngestDeps {
  objects: ObjectStore;
  features: FeatureStore;
  buckets: LakeBuckets;
  builders: IngestBuilders;
  logger: Logger;
  metrics: Metrics;
  /** Progress of reading and writing (a terminal bar or periodic log lines); none by default. */
  progress?: Progress;
  /**
   * Re-check accepted rows against common's zod schemas after the hand checks (default on). The hand
   * checks miss one rule (counts beyond 2^53 − 1; see test/unit/schema-check.test.ts), so it stays on.
   */
  schemaCheck?: boolean;
  /** Readers merged between two checkpoints of the `started` row (a re-run resumes after the last). */
  usersPerCheckpoint?: number;
  /**
   * `ingestFiles` only: interactions of consecutive treino objects held in memory and merged per
   * reader before one write per reader (see ingest-files.ts); 0 (the default): each object on its own.
   */
  groupInteractions?: number;
  /** The erasure ledger, applied to every file (docs/privacy.md); absent: nothing is erased. */
  erasure?: IngestErasure;
  now?: () => Date;
}

export interface SourceObject {
  bucket: string;
  key: string;
}

/** Where the raw bytes come from: S3 normally, a local file for backfills (see adapters/local-file-source.ts). */
export type SourceReader = Pick<ObjectStore, "head" | "read">;

export type IngestResult =
  | { status: "ingested"; sourceId: string; kind: RawFileKind; counts: IngestionCounts; reportKey: string }
  | { status: "already-ingested"; sourceId: string }
  /** An erasure's own rewrite of an ingested object: its rows are in the lake already. */
  | { status: "erasure-rewrite"; sourceId: string };

/** The report written to `processed/ingestions/<sourceId>.json` (its schema is common's). */
export type { IngestionReport } from "@gplay/common";

/** A validated object, held until it is written. */
export interface Staged {
  kind: RawFileKind;
  interactions: InteractionRecord[];
  validation: ValidationRecord[];
  /** The api's impression log rows (kind `impressions`). */
  impressions: ImpressionRecord[];
  articles: { item: ArticleItem; record: ArticleRecord }[];
  users: Map<string, { userType: "Logged" | "Non-Logged"; interactions: Interaction[] }>;
  quarantine: QuarantineRecord[];
  counts: Omit<IngestionCounts, "itemsWritten">;
  byReason: Record<string, number>;
  /** Distinct readers and articles named by the accepted rows (see IngestionReport.touched). */
  touched: { readers: number; articles: number };
  /** Rows of erased readers dropped by the ledger (their source lines), and the ledger applied. */
  erased: LedgerFilter;
}

/** A validated, staged object version, ready to be written (see `prepareIngestion`). */
export interface PreparedIngestion {
  status: "prepared";
  source: SourceObject;
  sourceId: string;
  etag: string;
  attempts: number;
  /** Readers (in file order) an earlier attempt of this object version committed. */
  usersCommitted: number;
  startedAt: Date;
  /** The version read (the raw object is rewritten without the rows the ledger dropped). */
  versionId: string | undefined;
  staged: Staged;
  /** Every reader-id token of the raw text (for the reader index). */
  readerTokens: ReadonlySet<string>;
  log: Logger;
  task: ProgressTask;
}

/**
 * Ingests one raw object: validates and cleans every row (the whole file is read and staged before
 * anything is written, so a truncated, non-UTF-8 or unknown file changes nothing), then writes the
 * Parquet partition, the quarantine, the feature store and the report, and finally the processed
 * marker. Every write is keyed by the object version, so a re-run after a crash converges to the
 * same state, and a re-delivered event for an ingested version makes zero writes.
 */
export async function ingestFile(
  deps: IngestDeps,
  source: SourceObject,
  reader: SourceReader = deps.objects,
): Promise<IngestResult> {
  const prepared = await prepareIngestion(deps, source, reader);
  return prepared.status === "prepared" ? commitIngestion(deps, prepared) : prepared;
}

/**
 * Reads, validates and stages one object version without writing anything. Returns
 * "already-ingested" when its marker says so (a re-delivered event: zero writes).
 */
export async function prepareIngestion(
  deps: IngestDeps,
  source: SourceObject,
  reader: SourceReader = deps.objects,
): Promise<PreparedIngestion | IngestResult> {
  const now = deps.now ?? (() => new Date());
  const head = await reader.head(source.bucket, source.key);
  const id = sourceIdOf(source.bucket, source.key, head.etag);
  const log = deps.logger.child({ sourceId: id, bucket: source.bucket, key: source.key });

  if (head.metadata?.[ERASURE_REWRITE_METADATA] !== undefined) {
    log.info({ event: "erasure-rewrite" }, "an erasure rewrote this object; its rows are ingested already");
    return { status: "erasure-rewrite", sourceId: id };
  }
  const marker = await deps.features.getIngestion(id);
  if (marker?.status === "succeeded") {
    // The bytes of a version an erasure rewrote are back (a re-delivery): scrub them again.
    if (marker.erasedAt !== undefined && deps.erasure !== undefined && source.bucket === deps.buckets.raw) {
      const filter = await loadLedgerFilter(deps.erasure);
      await scrubRawObject(deps.erasure, { ...source, versionId: head.versionId }, filter, log);
    }
    log.info({ reportKey: marker.reportKey }, "object version already ingested; nothing to do");
    return { status: "already-ingested", sourceId: id };
  }

  const startedAt = now();
  const attempts = (marker?.attempts ?? 0) + 1;
  let staged: Staged;
  let task: ProgressTask | undefined;
  const tokens = new ReaderTokenCollector();
  try {
    const object = await reader.read(source.bucket, source.key);
    if (object.etag !== head.etag)
      throw new AppError(
        "CONFLICT",
        `s3://${source.bucket}/${source.key} changed while being read; its new version has its own event`,
        {
          details: { expected: head.etag, read: object.etag },
        },
      );
    task = (deps.progress ?? noProgress).begin(source.key, object.size || head.size);
    task.phase("read");
    const ledger = await loadLedgerFilter(deps.erasure);
    const body = collectTokens(countBytes(object.body, task), tokens);
    staged = await stage(deps, body, source.key, id, startedAt, task, ledger);
  } catch (error) {
    task?.end();
    // Nothing was written, but the attempt still gets its row: refused (the file is unusable) or failed.
    await deps.features
      .putIngestion({
        sourceId: id,
        bucket: source.bucket,
        key: source.key,
        etag: head.etag,
        status: isAppError(error, "UNSUPPORTED_INPUT") ? "refused" : "failed",
        attempts,
        error: errorText(error),
        startedAt: startedAt.toISOString(),
        finishedAt: now().toISOString(),
      })
      .catch((markerError: unknown) => log.error({ err: markerError }, "could not record the refusal"));
    throw error;
  }
  log.info({ kind: staged.kind, ...staged.counts }, "file validated and staged");
  return {
    status: "prepared",
    source,
    sourceId: id,
    etag: head.etag,
    attempts,
    usersCommitted: marker?.usersCommitted ?? 0,
    startedAt,
    versionId: head.versionId,
    staged,
    readerTokens: tokens.end(),
    log,
    task,
  };
}

/** The lake objects of one attempt (the partition, and the quarantine when rows were quarantined). */
export interface LakeKeys {
  partitionKey: string;
  quarantineKey: string | undefined;
}

/** The fields every ingestion row of this attempt shares. */
function markerBase(prepared: PreparedIngestion) {
  return {
    sourceId: prepared.sourceId,
    bucket: prepared.source.bucket,
    key: prepared.source.key,
    etag: prepared.etag,
    kind: prepared.staged.kind,
    attempts: prepared.attempts,
  };
}

/** Records the attempt as `started` (with how many of its readers are committed, for a resume). */
export function markStarted(
  deps: IngestDeps,
  prepared: PreparedIngestion,
  usersCommitted = 0,
): Promise<void> {
  return deps.features.putIngestion({
    ...markerBase(prepared),
    status: "started",
    startedAt: prepared.startedAt.toISOString(),
    ...(usersCommitted > 0 ? { usersCommitted } : {}),
  });
}

/**
 * Starts the writes of a started attempt: rows of erased readers leave the raw object first (before
 * anything of this version is written), then the lake objects are written in the background (they
 * and the feature-store writes are independent and keyed by this version; only the report and the
 * marker, written last, say the ingestion is complete). `lake` never rejects unhandled.
 */
export async function startLakeWrites(
  deps: IngestDeps,
  prepared: PreparedIngestion,
): Promise<{ lake: Promise<LakeKeys> }> {
  const { source, staged } = prepared;
  if (staged.erased.erasedLines.size > 0 && deps.erasure !== undefined && source.bucket === deps.buckets.raw)
    await scrubRawObject(
      deps.erasure,
      { ...source, versionId: prepared.versionId },
      staged.erased,
      prepared.log,
      staged.erased.erasedLines,
    );
  const lake = (async () => {
    const partition = await writePartition(deps, staged, prepared.sourceId);
    const partitionKey = partition.key;
    const indexed: IndexedObject[] = [
      { bucket: source.bucket, key: source.key, etag: prepared.etag },
      { bucket: deps.buckets.processed, key: partitionKey, etag: partition.etag },
    ];
    let quarantineKey: string | undefined;
    if (staged.quarantine.length > 0) {
      quarantineKey = processedKeys.quarantine(source.key, prepared.sourceId);
      const lines = staged.quarantine.map((q) => JSON.stringify(q)).join("\n");
      const { etag } = await deps.objects.put(
        deps.buckets.processed,
        quarantineKey,
        `${lines}\n`,
        "application/x-ndjson",
      );
      indexed.push({ bucket: deps.buckets.processed, key: quarantineKey, etag });
    }
    // The reader index entry of this version, after the objects it names (a crash before it leaves
    // them unindexed: erasure reads them in full). Not written when the ledger dropped rows: the raw
    // object was rewritten, and the entry would name erased readers.
    if (staged.erased.erasedLines.size === 0)
      await deps.objects.put(
        deps.buckets.processed,
        readerIndexKey(prepared.sourceId),
        encodeReaderIndexEntry(indexed, prepared.readerTokens),
        "application/json",
      );
    return { partitionKey, quarantineKey };
  })();
  lake.catch(() => undefined);
  return { lake };
}

/**
 * Finishes an attempt whose feature-store writes are done: waits for its lake objects, writes the
 * report, then the `succeeded` marker (which makes a re-delivery a no-op), and emits the metrics.
 */
export async function finishIngestion(
  deps: IngestDeps,
  prepared: PreparedIngestion,
  lake: Promise<LakeKeys>,
  writes: IngestionReport["writes"],
  extra: Pick<IngestionReport, "resumedAfterUsers" | "group"> = {},
): Promise<IngestResult> {
  const now = deps.now ?? (() => new Date());
  const { staged, startedAt, log, task } = prepared;
  const id = prepared.sourceId;
  const base = markerBase(prepared);
  task.phase("lake");
  const { partitionKey, quarantineKey } = await lake;
  const counts: IngestionCounts = {
    ...staged.counts,
    itemsWritten: (writes.users?.written ?? 0) + (writes.articles?.written ?? 0),
  };
  const finishedAt = now();
  const reportKey = processedKeys.ingestionReport(id);
  const report: IngestionReport = {
    ...base,
    counts,
    quarantineByReason: staged.byReason,
    touched: staged.touched,
    partitionKey,
    ...(quarantineKey === undefined ? {} : { quarantineKey }),
    writes,
    ...extra,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
  await deps.objects.put(
    deps.buckets.processed,
    reportKey,
    JSON.stringify(report, null, 2),
    "application/json",
  );
  const done: IngestionItem = {
    ...base,
    status: "succeeded",
    counts,
    reportKey,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
  await deps.features.putIngestion(done);
  deps.metrics.emit({
    ingestRowsIn: counts.rowsIn,
    ingestRowsAccepted: counts.rowsAccepted,
    ingestRowsQuarantined: counts.rowsQuarantined,
    ingestElementsDropped: counts.elementsDropped,
    ingestItemsWritten: counts.itemsWritten,
    ingestDuration: finishedAt.getTime() - startedAt.getTime(),
  });
  task.phase("done");
  task.end();
  log.info({ counts, writes, reportKey }, "ingestion succeeded");
  return { status: "ingested", sourceId: id, kind: staged.kind, counts, reportKey };
}

/**
 * Records a failed attempt, after its lake writes settled (so nothing of it lands after its failure
 * marker). Never throws: the caller rethrows the original error.
 */
export async function failIngestion(
  deps: IngestDeps,
  prepared: PreparedIngestion,
  error: unknown,
  lake: Promise<LakeKeys> | undefined,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  prepared.task.end();
  await lake?.catch(() => undefined);
  await deps.features
    .putIngestion({
      ...markerBase(prepared),
      status: "failed",
      error: errorText(error),
      startedAt: prepared.startedAt.toISOString(),
      finishedAt: now().toISOString(),
    })
    .catch((markerError: unknown) =>
      prepared.log.error({ err: markerError }, "could not record the failure marker"),
    );
}

/** Writes a prepared object: partition, quarantine, feature store, report, then the marker. */
export async function commitIngestion(deps: IngestDeps, prepared: PreparedIngestion): Promise<IngestResult> {
  const { staged, startedAt, log, task } = prepared;
  const resumeFrom = Math.min(prepared.usersCommitted, staged.users.size);
  await markStarted(deps, prepared, resumeFrom);
  const { lake } = await startLakeWrites(deps, prepared);
  try {
    const writes: IngestionReport["writes"] = {};
    const wrote = (n: number) => task.wrote(n);
    if (staged.users.size > 0) {
      task.phase("users");
      // In checkpoints, in file order: a re-run of this version skips the readers already committed
      // without reading them (their merge is idempotent, but reading and re-merging each costs time).
      if (resumeFrom > 0) log.info({ resumeFrom }, "resuming after readers an earlier attempt committed");
      const readers = [...staged.users];
      const step = deps.usersPerCheckpoint ?? 2_000;
      writes.users = emptyWriteReport();
      for (let from = resumeFrom; from < readers.length; from += step) {
        const merges = new Map<string, UserMerge>();
        for (const [userId, u] of readers.slice(from, from + step))
          merges.set(userId, deps.builders.userMerge(userId, u.userType, u.interactions, startedAt));
        addWriteReport(writes.users, await deps.features.mergeUsers(merges, wrote));
        await markStarted(deps, prepared, Math.min(from + step, readers.length));
      }
    }
    if (staged.articles.length > 0) {
      task.phase("articles");
      writes.articles = await deps.features.upsertArticles(
        staged.articles.map((a) => a.item),
        wrote,
      );
    }
    return await finishIngestion(
      deps,
      prepared,
      lake,
      writes,
      resumeFrom > 0 ? { resumedAfterUsers: resumeFrom } : {},
    );
  } catch (error) {
    await failIngestion(deps, prepared, error, lake);
    throw error;
  }
}

/** A write report of nothing yet. */
export function emptyWriteReport(): WriteReport {
  return { written: 0, skipped: 0, conflicts: 0, retries: 0 };
}

/** Adds `more` into `total`. */
export function addWriteReport(total: WriteReport, more: WriteReport): void {
  for (const k of ["written", "skipped", "conflicts", "retries"] as const) total[k] += more[k];
}

/** An error as stored in the ingestion row (bounded). */
function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1000);
}

/** Passes the body through, collecting its reader-id tokens. */
async function* collectTokens(
  body: AsyncIterable<Uint8Array>,
  collector: ReaderTokenCollector,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    collector.push(chunk);
    yield chunk;
  }
}

/** Passes the body through, counting bytes into the progress task. */
async function* countBytes(body: AsyncIterable<Uint8Array>, task: ProgressTask): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    task.advance(0, chunk.byteLength);
    yield chunk;
  }
}

async function stage(
  deps: IngestDeps,
  body: AsyncIterable<Uint8Array>,
  key: string,
  id: string,
  now: Date,
  task: ProgressTask,
  ledger: LedgerFilter,
): Promise<Staged> {
  const cleaned = await cleanRawFile(body, key, { schemaCheck: deps.schemaCheck ?? true });
  const staged: Staged = {
    kind: cleaned.kind,
    interactions: [],
    validation: [],
    impressions: [],
    articles: [],
    users: new Map(),
    quarantine: [],
    counts: {
      rowsIn: 0,
      rowsAccepted: 0,
      rowsQuarantined: 0,
      elementsDropped: 0,
      elementsDroppedByReason: {},
    },
    byReason: {},
    touched: { readers: 0, articles: 0 },
    erased: ledger,
  };
  const readers = new Set<string>();
  const pages = new Set<string>();
  for await (const batch of cleaned.batches) {
    task.advance(batch.length);
    for (const outcome of batch) {
      switch (outcome.kind) {
        case "quarantine":
          if (!ledger.erasesQuarantined(outcome.record)) staged.quarantine.push(outcome.record);
          break;
        case "treino": {
          const { userId, userType } = outcome.user;
          const times = outcome.interactions.map((i) => i.timestamp);
          if (ledger.erasesRow(userId, times, outcome.line)) break;
          let user = staged.users.get(userId);
          if (user === undefined) {
            user = { userType, interactions: [] };
            staged.users.set(userId, user);
          } else if (userType === "Logged") user.userType = "Logged";
          for (const i of outcome.interactions) {
            pages.add(i.page);
            user.interactions.push(i);
            staged.interactions.push({ userId, userType, ...i, source: id });
          }
          break;
        }
        case "validacao":
          if (
            ledger.erasesRow(
              outcome.row.userId,
              outcome.accesses.map((a) => a.timestamp),
              outcome.line,
            )
          )
            break;
          readers.add(outcome.row.userId);
          for (const a of outcome.accesses) {
            staged.validation.push({ ...a, source: id });
            pages.add(a.page);
          }
          break;
        case "impressions":
          // The ledger applies as to clicks: a row of an erased reader from before the erasure goes.
          if (
            outcome.row.userId !== undefined &&
            ledger.erasesRow(outcome.row.userId, [outcome.row.timestamp], outcome.line)
          )
            break;
          staged.impressions.push(toImpressionRecord(outcome.row, id));
          if (outcome.row.userId !== undefined) readers.add(outcome.row.userId);
          for (const page of outcome.row.pages) pages.add(page);
          break;
        case "itens":
          staged.articles.push(deps.builders.article(outcome.row, id, now));
          pages.add(outcome.row.page);
          break;
      }
    }
  }
  const c = cleaned.counts;
  staged.counts = {
    rowsIn: c.rowsIn,
    rowsAccepted: c.rowsAccepted,
    rowsQuarantined: c.rowsQuarantined,
    elementsDropped: c.elementsDropped,
    elementsDroppedByReason: { ...c.droppedByReason },
  };
  staged.touched = { readers: staged.users.size + readers.size, articles: pages.size };
  staged.byReason = Object.fromEntries(Object.entries(c.byReason).filter(([, n]) => n > 0));
  return staged;
}

async function writePartition(
  deps: IngestDeps,
  staged: Staged,
  id: string,
): Promise<{ key: string; etag: string }> {
  const dataset = DATASET_OF_KIND[staged.kind];
  const key = processedKeys.partition(dataset, id);
  const metadata = { "gplay.sourceId": id };
  const bytes =
    dataset === "interactions"
      ? encodeProcessedParquet("interactions", staged.interactions, metadata)
      : dataset === "validation"
        ? encodeProcessedParquet("validation", staged.validation, metadata)
        : dataset === "impressions"
          ? encodeProcessedParquet("impressions", staged.impressions, metadata)
          : encodeProcessedParquet(
              "items",
              staged.articles.map((a) => a.record),
              metadata,
            );
  const { etag } = await deps.objects.put(
    deps.buckets.processed,
    key,
    bytes,
    "application/vnd.apache.parquet",
  );
  return { key, etag };
}
