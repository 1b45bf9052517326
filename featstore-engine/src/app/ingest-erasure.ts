import {
  ERASURE_REWRITE_METADATA,
  type ErasureLedgerItem,
  erasesRow,
  erasureHash,
  type Logger,
  type QuarantineRecord,
  readerIdTokens,
} from "@gplay/common";
import { ErasedReaders, scrubCsv, scrubCsvOfReaders } from "../domain/erasure.js";
import type { ErasureLedger, VersionedObjectStore } from "./erasure-ports.js";

/** What ingestion needs to keep erased readers erased (absent: no ledger, e.g. unit tests' fakes). */
export interface IngestErasure {
  ledger: Pick<ErasureLedger, "listEntries">;
  versions: VersionedObjectStore;
}

/**
 * The erasure ledger as ingestion applies it: a row of an erased reader that holds an access at or
 * before its erasure time is dropped (from the staged data and from the raw object); rows entirely
 * after it are new data. A quarantined row naming an erased reader is dropped whatever its times.
 */
export class LedgerFilter {
  readonly #entries: Map<string, ErasureLedgerItem>;
  /** Source lines (1-based, of the record's first line) of the rows dropped. */
  readonly erasedLines = new Set<number>();

  constructor(entries: readonly ErasureLedgerItem[]) {
    this.#entries = new Map(entries.map((e) => [e.userHash, e]));
  }

  get empty(): boolean {
    return this.#entries.size === 0;
  }

  /** Whether a reader's row is erased (and notes its line). */
  erasesRow(userId: string, timestamps: readonly number[], line: number): boolean {
    if (this.#entries.size === 0) return false;
    const entry = this.#entries.get(erasureHash(userId));
    if (entry === undefined || !erasesRow(entry, timestamps)) return false;
    this.erasedLines.add(line);
    return true;
  }

  erasesQuarantined(record: QuarantineRecord): boolean {
    if (this.#entries.size === 0) return false;
    const named = record.fields.some((f) => readerIdTokens(f).some((t) => this.#entries.has(erasureHash(t))));
    if (named) this.erasedLines.add(record.line);
    return named;
  }

  readers(): ErasedReaders {
    return new ErasedReaders(this.#entries.keys());
  }
}

export async function loadLedgerFilter(erasure: IngestErasure | undefined): Promise<LedgerFilter> {
  return new LedgerFilter(erasure === undefined ? [] : await erasure.ledger.listEntries());
}

const utf8 = new TextDecoder();

/**
 * Rewrites a delivered raw object without the rows ingestion dropped (or, with `lines` undefined,
 * without any row naming an erased reader), marked as an erasure rewrite so its event ingests nothing,
 * and deletes the delivered version. Returns the rows removed.
 */
export async function scrubRawObject(
  erasure: IngestErasure,
  source: { bucket: string; key: string; versionId: string | undefined },
  filter: LedgerFilter,
  logger: Logger,
  lines?: ReadonlySet<number>,
): Promise<number> {
  const versionId = source.versionId ?? "null";
  const text = utf8.decode(await erasure.versions.readVersion(source.bucket, source.key, versionId));
  const scrubbed =
    lines === undefined
      ? scrubCsvOfReaders(text, filter.readers())
      : scrubCsv(text, (record) => lines.has(record.line));
  if (scrubbed.removed === 0) return 0;
  const written = await erasure.versions.putWithMetadata(
    source.bucket,
    source.key,
    scrubbed.text,
    "text/csv; charset=utf-8",
    { [ERASURE_REWRITE_METADATA]: "ingestion" },
  );
  if (versionId !== "null" && written.versionId !== versionId)
    await erasure.versions.deleteVersion(source.bucket, source.key, versionId);
  logger.info(
    { event: "erased-rows-scrubbed", rows: scrubbed.removed },
    "raw object rewritten without the rows of erased readers",
  );
  return scrubbed.removed;
}
