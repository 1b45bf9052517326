import type {
  ArticleItem,
  ColdstartItem,
  IngestionItem,
  SnapshotReadyDetail,
  UserItem,
  WriteReport,
} from "@gplay/common";

/** What the engine needs from object storage (S3). */
export interface ObjectStore {
  /** `metadata` (user metadata) and `versionId` when the store reports them. */
  head(
    bucket: string,
    key: string,
  ): Promise<{ etag: string; size: number; metadata?: Record<string, string>; versionId?: string }>;
  /** Streams an object; `etag` is the version read, so a concurrent overwrite is noticed. */
  read(bucket: string, key: string): Promise<{ body: AsyncIterable<Uint8Array>; etag: string; size: number }>;
  put(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<{ etag: string }>;
  list(bucket: string, prefix: string): AsyncIterable<{ key: string; size: number; etag: string }>;
  delete(bucket: string, key: string): Promise<void>;
}

/** Counts of one write operation against the feature store (common's contract). */
export type { WriteReport } from "@gplay/common";

/** A user to merge: builds the new item from the stored one (undefined for a new reader). */
export type UserMerge = (existing: UserItem | undefined) => Omit<UserItem, "version">;

/** What the engine needs from the online feature store (DynamoDB). */
export interface FeatureStore {
  getIngestion(sourceId: string): Promise<IngestionItem | undefined>;
  putIngestion(item: IngestionItem): Promise<void>;
  /** Upserts articles; the stored one wins when its `modified` is later (ties: higher contentHash). */
  upsertArticles(items: readonly ArticleItem[], onWritten?: (items: number) => void): Promise<WriteReport>;
  /** Applies merges to readers with optimistic concurrency (version condition, retried on conflict). */
  mergeUsers(
    merges: ReadonlyMap<string, UserMerge>,
    onWritten?: (items: number) => void,
  ): Promise<WriteReport>;
  /** Replaces snapshot rows (cold-start lists, co-visitation); unconditional batch writes. */
  putColdstart(items: readonly ColdstartItem[], onWritten?: (items: number) => void): Promise<WriteReport>;
}

/** The ingestions table as a list, for `recover` (the DynamoDB feature store implements it too). */
export interface IngestionList {
  /** Every ingestion row with this status (a scan: the table holds one row per object version). */
  listIngestions(status: IngestionItem["status"]): Promise<IngestionItem[]>;
}

/** Publishes domain events (EventBridge). */
export interface EventPublisher {
  publishSnapshotReady(detail: SnapshotReadyDetail): Promise<void>;
}
