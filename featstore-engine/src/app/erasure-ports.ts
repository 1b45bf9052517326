import type { ErasureLedgerItem } from "@gplay/common";

/** One version of an object (an unversioned bucket lists each object once, version "null"). */
export interface ObjectVersion {
  key: string;
  versionId: string;
  etag: string;
  size: number;
  isLatest: boolean;
}

/** What erasure needs from object storage beyond the ingestion's ObjectStore: every version. */
export interface VersionedObjectStore {
  listVersions(bucket: string, prefix: string): AsyncIterable<ObjectVersion>;
  readVersion(bucket: string, key: string, versionId: string): Promise<Uint8Array>;
  /** Writes a new current version carrying user metadata; returns its etag and version id. */
  putWithMetadata(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<{ etag: string; versionId: string }>;
  /** Deletes one version for good (no delete marker). */
  deleteVersion(bucket: string, key: string, versionId: string): Promise<void>;
}

/** The erasure ledger (the erasures table). */
export interface ErasureLedger {
  /** Every entry (a scan: one small item per erased reader). */
  listEntries(): Promise<ErasureLedgerItem[]>;
  /** Writes entries for hashes not in the ledger yet; an existing entry keeps its `erasedAt`. */
  addEntries(entries: readonly ErasureLedgerItem[]): Promise<void>;
  /** Sets the entries of these hashes `erased` (an absent hash is not added). */
  markErased(hashes: readonly string[], at: Date): Promise<void>;
}

/** The tables keyed by reader id: the users table and the api's event ids (`<userId>#<eventId>`). */
export interface ReaderTables {
  /** Which of these readers have an item in the users table (keys only, batched reads). */
  existingUsers(userIds: readonly string[]): Promise<Set<string>>;
  deleteUsers(userIds: readonly string[]): Promise<number>;
  /** Every key of the event-ids table. */
  eventKeys(): AsyncIterable<string>;
  deleteEventKeys(keys: readonly string[]): Promise<number>;
  /** Notes on an ingestion row that an erasure rewrote that object version's rows (see ingestion). */
  markIngestionErased(sourceId: string, at: Date): Promise<void>;
}
