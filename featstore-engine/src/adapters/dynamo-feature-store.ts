import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  type ArticleItem,
  type ColdstartItem,
  type IngestionItem,
  ingestionItemSchema,
  retryWithBackoff,
  type TableNames,
  translateAwsError,
  type UserItem,
  userItemSchema,
} from "@gplay/common";
import type { FeatureStore, UserMerge, WriteReport } from "../app/ports.js";

export interface DynamoFeatureStoreOptions {
  /** Attempts for one batch when DynamoDB returns UnprocessedItems/Keys or throttles. */
  maxBatchAttempts?: number;
  /** Rounds of read-decide-write for conditional upserts before giving up on conflicts. */
  maxConflictRounds?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

type Item = Record<string, unknown>;

/** The condition of one transactional put. */
interface WriteCondition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** TransactWriteItems limits: 100 actions and 4 MB per request. */
const TRANSACT_MAX_ITEMS = 100;
const TRANSACT_MAX_BYTES = 3_500_000;
const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;

const emptyReport = (): WriteReport => ({ written: 0, skipped: 0, conflicts: 0, retries: 0 });

/** Throttling and server-side faults: safe to retry these writes (they are keyed and conditional). */
function isThrottle(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "";
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return (
    name === "ProvisionedThroughputExceededException" ||
    name === "ThrottlingException" ||
    name === "RequestLimitExceeded" ||
    name === "TransactionConflictException" ||
    name === "InternalServerError"
  );
}

/** Rough DynamoDB size of an item (attribute names + values), enough to pack transactions. */
function approximateSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += name.length;
    if (value instanceof Uint8Array) size += value.byteLength;
    else if (typeof value === "string") size += Buffer.byteLength(value);
    else size += Buffer.byteLength(JSON.stringify(value) ?? "");
  }
  return size;
}

/**
 * The online feature store on DynamoDB. Conditional upserts (users, articles) read the stored items,
 * decide in memory, then write with TransactWriteItems conditioned on what was read; a cancelled
 * transaction (a concurrent writer) re-reads and retries. Unconditional rows go through
 * BatchWriteItem with UnprocessedItems retried with backoff and jitter. All retries are bounded.
 */
export class DynamoFeatureStore implements FeatureStore {
  private readonly maxBatchAttempts: number;
  private readonly maxConflictRounds: number;
  private readonly backoff: { baseDelayMs: number; maxDelayMs: number };

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    options: DynamoFeatureStoreOptions = {},
  ) {
    this.maxBatchAttempts = options.maxBatchAttempts ?? 10;
    this.maxConflictRounds = options.maxConflictRounds ?? 10;
    this.backoff = { baseDelayMs: options.baseDelayMs ?? 50, maxDelayMs: options.maxDelayMs ?? 5_000 };
  }

  async getIngestion(sourceId: string): Promise<IngestionItem | undefined> {
    try {
      const out = await this.documents.send(
        new GetCommand({ TableName: this.tables.ingestions, Key: { sourceId }, ConsistentRead: true }),
      );
      return out.Item === undefined ? undefined : ingestionItemSchema.parse(out.Item);
    } catch (error) {
      throw translateAwsError(error, `reading ingestion marker ${sourceId}`, { sourceId });
    }
  }

  async putIngestion(item: IngestionItem): Promise<void> {
    try {
      await this.documents.send(new PutCommand({ TableName: this.tables.ingestions, Item: item }));
    } catch (error) {
      throw translateAwsError(error, `writing ingestion marker ${item.sourceId}`, {
        sourceId: item.sourceId,
      });
    }
  }

  async upsertArticles(items: readonly ArticleItem[]): Promise<WriteReport> {
    const byPage = new Map<string, ArticleItem>();
    for (const item of items) {
      const seen = byPage.get(item.page);
      if (seen === undefined || articleWins(item, seen)) byPage.set(item.page, item);
    }
    return this.conditionalUpsert({
      table: this.tables.items,
      keyName: "page",
      keys: [...byPage.keys()],
      decide: (page, stored) => {
        const candidate = byPage.get(page) as ArticleItem;
        if (stored !== undefined && !articleWins(candidate, stored as unknown as ArticleItem))
          return undefined;
        return candidate as unknown as Item;
      },
      condition: (stored): WriteCondition =>
        stored === undefined
          ? { ConditionExpression: "attribute_not_exists(#k)", ExpressionAttributeNames: { "#k": "page" } }
          : {
              ConditionExpression: "#m = :m AND #h = :h",
              ExpressionAttributeNames: { "#m": "modified", "#h": "contentHash" },
              ExpressionAttributeValues: { ":m": stored.modified, ":h": stored.contentHash },
            },
    });
  }

  async mergeUsers(merges: ReadonlyMap<string, UserMerge>): Promise<WriteReport> {
    return this.conditionalUpsert({
      table: this.tables.users,
      keyName: "userId",
      keys: [...merges.keys()],
      decide: (userId, stored) => {
        const existing = stored === undefined ? undefined : userItemSchema.parse(stored);
        const merged = (merges.get(userId) as UserMerge)(existing);
        if (existing !== undefined && sameUser(existing, merged)) return undefined;
        return { ...merged, version: (existing?.version ?? 0) + 1 } satisfies UserItem as unknown as Item;
      },
      condition: (stored): WriteCondition =>
        stored === undefined
          ? { ConditionExpression: "attribute_not_exists(#k)", ExpressionAttributeNames: { "#k": "userId" } }
          : {
              ConditionExpression: "#v = :v",
              ExpressionAttributeNames: { "#v": "version" },
              ExpressionAttributeValues: { ":v": stored.version },
            },
    });
  }

  async putColdstart(items: readonly ColdstartItem[]): Promise<WriteReport> {
    return this.batchPut(this.tables.coldstart, "listId", items as unknown as Item[]);
  }

  /** BatchWriteItem in chunks of 25 with one write per key, UnprocessedItems retried with backoff. */
  async batchPut(table: string, keyName: string, items: readonly Item[]): Promise<WriteReport> {
    const report = emptyReport();
    const unique = new Map<unknown, Item>();
    for (const item of items) unique.set(item[keyName], item);
    const all = [...unique.values()];
    for (let i = 0; i < all.length; i += BATCH_WRITE_MAX) {
      let pending = all.slice(i, i + BATCH_WRITE_MAX).map((Item) => ({ PutRequest: { Item } }));
      await retryWithBackoff(
        async () => {
          let out: BatchWriteCommandOutput;
          try {
            out = await this.documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          } catch (error) {
            if (isThrottle(error)) report.retries += 1;
            throw error;
          }
          const left = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
          report.written += pending.length - left.length;
          if (left.length > 0) {
            pending = left;
            report.retries += 1;
            throw new AppError(
              "RATE_LIMITED",
              `${left.length} items unprocessed by BatchWriteItem on ${table}`,
            );
          }
        },
        (error) => isThrottle(error) || (error instanceof AppError && error.code === "RATE_LIMITED"),
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      ).catch((error: unknown) => {
        throw error instanceof AppError
          ? new AppError("RATE_LIMITED", `${error.message} after ${this.maxBatchAttempts} attempts`, {
              cause: error,
              details: { table, written: report.written },
            })
          : translateAwsError(error, `batch-writing ${table}`, { table, written: report.written });
      });
    }
    return report;
  }

  /** BatchGetItem with UnprocessedKeys retried; returns the stored items by key. */
  async batchGet(table: string, keyName: string, keys: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_MAX).map((k) => ({ [keyName]: k }));
      await retryWithBackoff(
        async () => {
          let out: BatchGetCommandOutput;
          try {
            out = await this.documents.send(
              new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
            );
          } catch (error) {
            throw isThrottle(error) ? error : translateAwsError(error, `batch-reading ${table}`, { table });
          }
          for (const item of (out.Responses?.[table] ?? []) as Item[]) found.set(String(item[keyName]), item);
          const left = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
          if (left.length > 0) {
            pending = left;
            throw new AppError("RATE_LIMITED", `${left.length} keys unprocessed by BatchGetItem on ${table}`);
          }
        },
        (error) => isThrottle(error) || (error instanceof AppError && error.code === "RATE_LIMITED"),
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      );
    }
    return found;
  }

  private async conditionalUpsert(spec: {
    table: string;
    keyName: string;
    keys: readonly string[];
    decide: (key: string, stored: Item | undefined) => Item | undefined;
    condition: (stored: Item | undefined) => WriteCondition;
  }): Promise<WriteReport> {
    const report = emptyReport();
    let pending = [...new Set(spec.keys)];
    for (let round = 1; pending.length > 0; round++) {
      if (round > this.maxConflictRounds)
        throw new AppError(
          "CONFLICT",
          `${pending.length} ${spec.table} items still conflict after ${round - 1} rounds`,
          {
            details: { table: spec.table, pending: pending.length },
          },
        );
      const stored = await this.batchGet(spec.table, spec.keyName, pending);
      const writes: { key: string; item: Item; stored: Item | undefined }[] = [];
      for (const key of pending) {
        const item = spec.decide(key, stored.get(key));
        if (item === undefined) report.skipped += 1;
        else writes.push({ key, item, stored: stored.get(key) });
      }
      const conflicted: string[] = [];
      for (const chunk of packTransactions(writes)) {
        const outcome = await this.transact(spec.table, chunk, spec.condition);
        report.retries += outcome.throttled;
        if (outcome.ok) report.written += chunk.length;
        else {
          report.conflicts += outcome.conflicts;
          conflicted.push(...chunk.map((w) => w.key));
        }
      }
      pending = conflicted;
    }
    return report;
  }

  private async transact(
    table: string,
    chunk: readonly { item: Item; stored: Item | undefined }[],
    condition: (stored: Item | undefined) => WriteCondition,
  ): Promise<{ ok: boolean; conflicts: number; throttled: number }> {
    let throttled = 0;
    const command = new TransactWriteCommand({
      TransactItems: chunk.map(({ item, stored }) => ({
        Put: { TableName: table, Item: item, ...condition(stored) },
      })),
    });
    try {
      await retryWithBackoff(
        () => this.documents.send(command),
        (error) => {
          if (isThrottle(error)) throttled += 1;
          return isThrottle(error);
        },
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      );
      return { ok: true, conflicts: 0, throttled };
    } catch (error) {
      const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
      if (e.name === "TransactionCanceledException") {
        const reasons = e.CancellationReasons ?? [];
        const conflicts = reasons.filter((r) => r.Code === "ConditionalCheckFailed").length;
        const other = reasons.find(
          (r) => r.Code !== undefined && r.Code !== "None" && r.Code !== "ConditionalCheckFailed",
        );
        if (other === undefined || other.Code === "TransactionConflict" || other.Code === "ThrottlingError")
          return { ok: false, conflicts: Math.max(conflicts, 1), throttled };
      }
      throw translateAwsError(error, `writing ${chunk.length} items to ${table}`, { table });
    }
  }
}

/** Splits writes into transactions within DynamoDB's count and size limits. */
function packTransactions<T extends { item: Item }>(writes: readonly T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const write of writes) {
    const size = approximateSize(write.item);
    if (current.length > 0 && (current.length >= TRANSACT_MAX_ITEMS || bytes + size > TRANSACT_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(write);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The later `modified` wins; equal `modified` → the larger content hash wins (deterministic). */
export function articleWins(
  candidate: Pick<ArticleItem, "modified" | "contentHash">,
  stored: Pick<ArticleItem, "modified" | "contentHash">,
): boolean {
  return (
    candidate.modified > stored.modified ||
    (candidate.modified === stored.modified && candidate.contentHash > stored.contentHash)
  );
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** A merge that changes nothing is not written (re-runs cost no writes). `updatedAt` is ignored. */
function sameUser(existing: UserItem, merged: Omit<UserItem, "version">): boolean {
  return (
    existing.userType === merged.userType &&
    existing.interactionCount === merged.interactionCount &&
    existing.evictedCount === merged.evictedCount &&
    sameBytes(existing.log, merged.log) &&
    sameBytes(existing.evicted, merged.evicted)
  );
}
