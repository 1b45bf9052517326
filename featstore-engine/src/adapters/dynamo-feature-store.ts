import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import {
  AppError,
  type ArticleItem,
  type AwsClients,
  type ColdstartItem,
  DOCUMENT_MARSHALL_OPTIONS,
  type IngestionItem,
  ingestionItemSchema,
  retryWithBackoff,
  type TableNames,
  translateAwsError,
  type UserItem,
  userItemSchema,
} from "@gplay/common";
import { forEachConcurrently } from "../app/concurrency.js";
import type { FeatureStore, IngestionList, UserMerge, WriteReport } from "../app/ports.js";
import {
  BATCH_GET_MAX,
  DynamoBatches,
  type DynamoBatchOptions,
  emptyReport,
  type Item,
  isThrottle,
} from "./dynamo-batches.js";

export interface DynamoFeatureStoreOptions extends DynamoBatchOptions {
  /** Rounds of read-decide-write for conditional upserts before giving up on conflicts. */
  maxConflictRounds?: number;
}

/**
 * The two clients of the store: the document client for the occasional calls, the low-level one
 * (its middleware resolved once per command type) for the per-key hot path, items marshalled here.
 */
export type DynamoClients = Pick<AwsClients, "documents" | "dynamodb">;

/** The condition of one conditional put. */
interface WriteCondition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * The online feature store on DynamoDB. Conditional upserts (users, articles) read the stored items
 * (BatchGetItem), decide in memory, then write each with a PutItem conditioned on what was read; a
 * failed condition (a concurrent writer) re-reads and retries that key. Unconditional rows go through
 * BatchWriteItem with UnprocessedItems retried with backoff and jitter. All retries are bounded.
 */
export class DynamoFeatureStore extends DynamoBatches implements FeatureStore, IngestionList {
  private readonly maxConflictRounds: number;
  private readonly dynamodb: DynamoDBClient;

  constructor(
    clients: DynamoClients,
    private readonly tables: TableNames,
    options: DynamoFeatureStoreOptions = {},
  ) {
    super(clients.documents, options);
    this.dynamodb = clients.dynamodb;
    this.maxConflictRounds = options.maxConflictRounds ?? 10;
  }

  /**
   * One BatchGetItem through the low-level client (the per-key hot path of the conditional upserts),
   * its items unmarshalled as the document client does.
   */
  protected override async batchGetOnce(
    table: string,
    keyName: string,
    keys: readonly string[],
  ): Promise<{ items: Item[]; unprocessed: string[] }> {
    const out: BatchGetItemCommandOutput = await this.dynamodb.send(
      new BatchGetItemCommand({
        RequestItems: { [table]: { Keys: keys.map((k) => ({ [keyName]: { S: k } })), ConsistentRead: true } },
      }),
    );
    return {
      items: (out.Responses?.[table] ?? []).map((stored) => unmarshall(stored)),
      unprocessed: (out.UnprocessedKeys?.[table]?.Keys ?? []).map((k) => String(k[keyName]?.S)),
    };
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

  async listIngestions(status: IngestionItem["status"]): Promise<IngestionItem[]> {
    const out: IngestionItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.documents.send(
          new ScanCommand({
            TableName: this.tables.ingestions,
            FilterExpression: "#s = :s",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":s": status },
            ConsistentRead: true,
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) out.push(ingestionItemSchema.parse(item));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    } catch (error) {
      throw translateAwsError(error, `listing ${status} ingestions`, { table: this.tables.ingestions });
    }
    return out;
  }

  async upsertArticles(
    items: readonly ArticleItem[],
    onWritten?: (items: number) => void,
  ): Promise<WriteReport> {
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
      ...(onWritten === undefined ? {} : { onWritten }),
    });
  }

  async mergeUsers(
    merges: ReadonlyMap<string, UserMerge>,
    onWritten?: (items: number) => void,
  ): Promise<WriteReport> {
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
      ...(onWritten === undefined ? {} : { onWritten }),
    });
  }

  async putColdstart(
    items: readonly ColdstartItem[],
    onWritten?: (items: number) => void,
  ): Promise<WriteReport> {
    return this.batchPut(this.tables.coldstart, "listId", items as unknown as Item[], onWritten);
  }

  /**
   * Read-decide-write in windows of 100 keys (one BatchGetItem, then one conditional put per key),
   * with at most `concurrency` puts in flight while the next window is read; a key is in exactly one
   * window per round, so it is never written twice at once. Keys whose condition failed (a concurrent
   * writer) go to the next round, which re-reads them.
   */
  private async conditionalUpsert(spec: {
    table: string;
    keyName: string;
    keys: readonly string[];
    decide: (key: string, stored: Item | undefined) => Item | undefined;
    condition: (stored: Item | undefined) => WriteCondition;
    onWritten?: (items: number) => void;
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
      const windows: string[][] = [];
      for (let i = 0; i < pending.length; i += BATCH_GET_MAX)
        windows.push(pending.slice(i, i + BATCH_GET_MAX));
      const conflicted: string[] = [];
      const gate = limiter(this.concurrency);
      // Windows read ahead (BatchGetItem) while earlier windows' puts are in flight.
      await forEachConcurrently(windows, Math.max(2, Math.ceil(this.concurrency / 8)), async (keys) => {
        const stored = await this.batchGet(spec.table, spec.keyName, keys);
        const writes: { key: string; item: Item; stored: Item | undefined }[] = [];
        for (const key of keys) {
          const item = spec.decide(key, stored.get(key));
          if (item === undefined) report.skipped += 1;
          else writes.push({ key, item, stored: stored.get(key) });
        }
        // One conditional put per key, `concurrency` at a time across all windows (see `gate`).
        await Promise.all(
          writes.map(async (write) => {
            const outcome = await gate(() => this.conditionalPut(spec.table, write, spec.condition));
            report.retries += outcome.throttled;
            if (outcome.ok) {
              report.written += 1;
              spec.onWritten?.(1);
            } else {
              report.conflicts += 1;
              conflicted.push(write.key);
            }
          }),
        );
      });
      pending = conflicted;
    }
    return report;
  }

  /**
   * One conditional PutItem. Each reader (or article) merges independently, so no transaction is
   * needed: a failed condition means a concurrent writer won, and only that key is re-read and retried.
   * (Also half the write units of a transactional put on AWS, and on the emulator O(1) instead of a
   * copy of the whole table per TransactWriteItems call.)
   */
  private async conditionalPut(
    table: string,
    write: { item: Item; stored: Item | undefined },
    condition: (stored: Item | undefined) => WriteCondition,
  ): Promise<{ ok: boolean; throttled: number }> {
    let throttled = 0;
    const { ExpressionAttributeValues: values, ...expression } = condition(write.stored);
    const command = new PutItemCommand({
      TableName: table,
      Item: marshall(write.item, DOCUMENT_MARSHALL_OPTIONS),
      ...expression,
      ...(values === undefined
        ? {}
        : { ExpressionAttributeValues: marshall(values, DOCUMENT_MARSHALL_OPTIONS) }),
    });
    try {
      await retryWithBackoff(
        () => this.dynamodb.send(command),
        (error) => {
          if (isThrottle(error)) throttled += 1;
          return isThrottle(error);
        },
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      );
      return { ok: true, throttled };
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException")
        return { ok: false, throttled };
      throw translateAwsError(error, `writing an item to ${table}`, { table });
    }
  }
}

/** A gate letting at most `limit` calls run at once; the others wait in order. */
function limiter(limit: number): <T>(call: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(call: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await call();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
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
