import { erasureHash, forEachReaderIdToken } from "@gplay/common";
import { z } from "zod";

/**
 * The reader → objects index (issue #20): per ingested raw object version, one small entry naming the
 * objects that version put in the lake (the raw version, its Parquet partition, its quarantine file),
 * each with its etag, and the readers they can hold as truncated ledger hashes (never an id in clear).
 * Erasure's locate step reads the entries and then only the objects whose entry lists a reader to
 * erase. An object no entry covers with its current etag (no entry, a stale one, an unreadable one) is
 * read in full: the index only ever saves reads, it never decides that an object is clean on its own.
 */

/** Hex digits of `erasureHash` kept per reader: 128 bits, so two readers never share one in practice. */
export const READER_INDEX_HASH_HEX = 32;

/** Where the entries live (the processed bucket). */
export const READER_INDEX_PREFIX = "processed/reader-index/";

/** The key of the entry of one ingested raw object version (its `sourceId`). */
export const readerIndexKey = (sourceId: string) => `${READER_INDEX_PREFIX}${sourceId}.json`;

/** A reader as the index stores it. */
export const readerIndexHash = (userHash: string) => userHash.slice(0, READER_INDEX_HASH_HEX);

const indexedObjectSchema = z.object({ bucket: z.string(), key: z.string(), etag: z.string() });
export type IndexedObject = z.infer<typeof indexedObjectSchema>;

export const readerIndexEntrySchema = z.object({
  schemaVersion: z.literal(1),
  /** The objects covered, each at the version (etag) whose readers `readers` lists. */
  objects: z.array(indexedObjectSchema),
  /** Sorted truncated ledger hashes of every reader id (64-hex token) the objects' text holds. */
  readers: z.array(z.string().regex(/^[0-9a-f]+$/)),
});
export type ReaderIndexEntry = z.infer<typeof readerIndexEntrySchema>;

/** The identity an entry and a listed object version are matched on. */
export const indexedObjectIdentity = (o: IndexedObject) => `${o.bucket}\n${o.key}\n${o.etag}`;

/** An entry for objects that hold these reader ids (in clear; the entry keeps only their hashes). */
export function encodeReaderIndexEntry(
  objects: readonly IndexedObject[],
  readerIds: Iterable<string>,
): string {
  return formatReaderIndexEntry(
    objects,
    [...readerIds].map((id) => readerIndexHash(erasureHash(id))),
  );
}

/** An entry from hashes already truncated (`readerIndexHash`). */
export function formatReaderIndexEntry(objects: readonly IndexedObject[], hashes: Iterable<string>): string {
  const readers = [...new Set(hashes)].sort();
  return JSON.stringify({ schemaVersion: 1, objects: [...objects], readers } satisfies ReaderIndexEntry);
}

/** An entry, or undefined when it does not parse (treated as missing: its objects are read in full). */
export function decodeReaderIndexEntry(text: string): ReaderIndexEntry | undefined {
  try {
    const parsed = readerIndexEntrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const TAIL = 64;

/**
 * Collects every reader-id token of a text that arrives in chunks (a raw file being ingested). A token
 * cut by a chunk boundary is found in the next round (the last 64 characters are carried over); the
 * carried text may yield a token that was part of a longer hex run: an extra reader only costs a read.
 */
export class ReaderTokenCollector {
  readonly tokens = new Set<string>();
  readonly #decoder = new TextDecoder();
  #carry = "";

  push(chunk: Uint8Array): void {
    this.#scan(this.#carry + this.#decoder.decode(chunk, { stream: true }), false);
  }

  end(): Set<string> {
    this.#scan(this.#carry + this.#decoder.decode(), true);
    this.#carry = "";
    return this.tokens;
  }

  #scan(text: string, final: boolean): void {
    // A token touching the end may go on in the next chunk: it is found again there.
    // 64 hex digits not part of a longer hex run (the same tokens erasure scans texts for).
    forEachReaderIdToken(text, (start, end) => {
      if (final || end < text.length) this.tokens.add(text.slice(start, end).toLowerCase());
    });
    this.#carry = final ? "" : text.slice(-TAIL);
  }
}
