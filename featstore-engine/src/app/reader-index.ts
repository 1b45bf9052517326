import type { ErasedReaders } from "../domain/erasure.js";
import {
  decodeReaderIndexEntry,
  formatReaderIndexEntry,
  type IndexedObject,
  indexedObjectIdentity,
  READER_INDEX_PREFIX,
  type ReaderIndexEntry,
  readerIndexHash,
} from "../domain/reader-index.js";
import { forEachConcurrently } from "./concurrency.js";
import type { ObjectVersion, VersionedObjectStore } from "./erasure-ports.js";

/** Entry reads in flight at once. */
const READ_CONCURRENCY = 3;

interface LoadedEntry {
  version: ObjectVersion;
  entry: ReaderIndexEntry;
  readers: ReadonlySet<string>;
}

const utf8 = new TextDecoder();

/** The readers as the index stores them (truncated hashes), computed once per set. */
const indexHashes = new WeakMap<ErasedReaders, string[]>();
function hashesOf(erased: ErasedReaders): string[] {
  let hashes = indexHashes.get(erased);
  if (hashes === undefined) {
    hashes = [...erased.hashes].map(readerIndexHash);
    indexHashes.set(erased, hashes);
  }
  return hashes;
}

/** The reader index as erasure reads it: every entry (every version of each), by the objects covered. */
export class ReaderIndex {
  readonly #byObject = new Map<string, LoadedEntry[]>();

  constructor(readonly entries: readonly LoadedEntry[]) {
    for (const loaded of entries) {
      if (!loaded.version.isLatest) continue;
      for (const object of loaded.entry.objects) {
        const identity = indexedObjectIdentity(object);
        this.#byObject.set(identity, [...(this.#byObject.get(identity) ?? []), loaded]);
      }
    }
  }

  /**
   * Whether the index proves that this object version holds none of the readers: a current entry
   * covers it at this etag and no entry covering it names one. An object no entry covers is not cleared.
   */
  clears(object: IndexedObject, erased: ErasedReaders): boolean {
    const covering = this.#byObject.get(indexedObjectIdentity(object));
    return covering?.every((loaded) => !names(loaded, erased)) ?? false;
  }

  /** The entries (any version) that name one of the readers. */
  naming(erased: ErasedReaders): LoadedEntry[] {
    return this.entries.filter((loaded) => names(loaded, erased));
  }
}

const names = (loaded: LoadedEntry, erased: ErasedReaders) =>
  hashesOf(erased).some((hash) => loaded.readers.has(hash));

/**
 * Reads every entry of the index (an unreadable entry is left out: its objects are read in full).
 * Entry versions `known` already holds (same key, version id and etag: immutable) are not read again.
 */
export async function loadReaderIndex(
  versions: VersionedObjectStore,
  bucket: string,
  known?: ReaderIndex,
): Promise<ReaderIndex> {
  const identity = (v: ObjectVersion) => `${v.key}\n${v.versionId}\n${v.etag}`;
  const before = new Map(known?.entries.map((loaded) => [identity(loaded.version), loaded]));
  const listed: ObjectVersion[] = [];
  for await (const version of versions.listVersions(bucket, READER_INDEX_PREFIX)) listed.push(version);
  const entries: LoadedEntry[] = [];
  await forEachConcurrently(listed, READ_CONCURRENCY, async (version) => {
    const loaded = before.get(identity(version));
    if (loaded !== undefined) {
      entries.push({ ...loaded, version });
      return;
    }
    const entry = decodeReaderIndexEntry(
      utf8.decode(await versions.readVersion(bucket, version.key, version.versionId)),
    );
    if (entry !== undefined) entries.push({ version, entry, readers: new Set(entry.readers) });
  });
  return new ReaderIndex(entries);
}

/**
 * Scrubs the index after an erasure's rewrites: every current entry that names an erased reader or
 * covers a rewritten object is written again without the readers and with the rewritten objects' new
 * etags (deleted objects leave it); its older versions, and older versions naming a reader, are deleted.
 * Returns the entries rewritten or deleted.
 */
export async function rewriteIndexEntries(
  versions: VersionedObjectStore,
  bucket: string,
  index: ReaderIndex,
  erased: ErasedReaders,
  replaced: ReadonlyMap<string, string | undefined>,
): Promise<number> {
  const erasedHashes = new Set(hashesOf(erased));
  const touched = index.entries.filter(
    (loaded) =>
      names(loaded, erased) ||
      (loaded.version.isLatest && loaded.entry.objects.some((o) => replaced.has(indexedObjectIdentity(o)))),
  );
  await forEachConcurrently(touched, READ_CONCURRENCY, async ({ version, entry }) => {
    if (version.isLatest) {
      const objects = entry.objects.flatMap((o): IndexedObject[] => {
        const identity = indexedObjectIdentity(o);
        if (!replaced.has(identity)) return [o];
        const etag = replaced.get(identity);
        return etag === undefined ? [] : [{ ...o, etag }];
      });
      const written = await versions.putWithMetadata(
        bucket,
        version.key,
        formatReaderIndexEntry(
          objects,
          entry.readers.filter((h) => !erasedHashes.has(h)),
        ),
        "application/json",
        {},
      );
      if (written.versionId === version.versionId || version.versionId === "null") return;
    }
    await versions.deleteVersion(bucket, version.key, version.versionId);
  });
  return touched.length;
}
