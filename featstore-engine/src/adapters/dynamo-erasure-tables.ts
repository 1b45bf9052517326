import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  deleteItemsByKey,
  type ErasureLedgerItem,
  erasureLedgerItemSchema,
  isAppError,
  type TableNames,
  translateAwsError,
} from "@gplay/common";
import type { ErasureLedger, ReaderTables } from "../app/erasure-ports.js";
import { DynamoBatches } from "./dynamo-batches.js";

/**
 * The erasure ledger and the reader-keyed tables, over DynamoDB. The ledger is written in batches
 * (BatchGetItem of 100, BatchWriteItem of 25): two requests per ~20 readers instead of one
 * conditional write per reader each time.
 */
export class DynamoErasureTables implements ErasureLedger, ReaderTables {
  readonly #batches: DynamoBatches;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, "erasures" | "users" | "eventIds" | "ingestions">,
  ) {
    this.#batches = new DynamoBatches(documents);
  }

  async listEntries(): Promise<ErasureLedgerItem[]> {
    const out: ErasureLedgerItem[] = [];
    for await (const item of this.#scan(this.tables.erasures)) out.push(erasureLedgerItemSchema.parse(item));
    return out;
  }

  /**
   * Entries are read again (consistently) just before the batch write, and only the hashes still
   * absent are written: an entry the api's admin route added since the caller's scan keeps its first
   * `erasedAt`. A batch write has no condition, so an api request landing between that read and the
   * write (one round trip) is overwritten by an entry with this run's (later) time, which erases more
   * of that reader's rows, never fewer. A re-run finds the entries and writes nothing.
   */
  async addEntries(entries: readonly ErasureLedgerItem[]): Promise<void> {
    if (entries.length === 0) return;
    const stored = await this.#batches
      .batchGet(this.tables.erasures, "userHash", [...new Set(entries.map((e) => e.userHash))])
      .catch((error: unknown) => {
        throw translateAwsError(error, "reading the erasure ledger", { table: this.tables.erasures });
      });
    const fresh = entries.filter((e) => !stored.has(e.userHash));
    await this.#batches.batchPut(this.tables.erasures, "userHash", fresh);
  }

  /**
   * Marks entries `erased`: read in batches, written back whole in batches with the new status (an
   * entry not in the ledger is not created). Only this step changes an existing entry, and it keeps
   * every other field as read.
   */
  async markErased(hashes: readonly string[], at: Date): Promise<void> {
    if (hashes.length === 0) return;
    const stored = await this.#batches
      .batchGet(this.tables.erasures, "userHash", [...new Set(hashes)])
      .catch((error: unknown) => {
        throw translateAwsError(error, "reading the erasure ledger", { table: this.tables.erasures });
      });
    const updatedAt = at.toISOString();
    const marked = [...stored.values()].map((item) => ({
      ...erasureLedgerItemSchema.parse(item),
      status: "erased" as const,
      updatedAt,
    }));
    await this.#batches.batchPut(this.tables.erasures, "userHash", marked);
  }

  async existingUsers(userIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < userIds.length; i += 100) {
      let keys: Record<string, unknown>[] = userIds.slice(i, i + 100).map((userId) => ({ userId }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= 8)
          throw new AppError("UPSTREAM_UNAVAILABLE", "users: reads left unprocessed; retry later");
        let out: BatchGetCommandOutput;
        try {
          out = await this.documents.send(
            new BatchGetCommand({
              RequestItems: { [this.tables.users]: { Keys: keys, ProjectionExpression: "userId" } },
            }),
          );
        } catch (error) {
          throw translateAwsError(error, "reading reader keys", { table: this.tables.users });
        }
        for (const item of out.Responses?.[this.tables.users] ?? []) found.add(String(item.userId));
        keys = (out.UnprocessedKeys?.[this.tables.users]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async deleteUsers(userIds: readonly string[]): Promise<number> {
    await deleteItemsByKey(this.documents, this.tables.users, "userId", userIds);
    return userIds.length;
  }

  async *eventKeys(): AsyncIterable<string> {
    for await (const item of this.#scan(this.tables.eventIds, "eventKey")) yield String(item.eventKey);
  }

  async deleteEventKeys(keys: readonly string[]): Promise<number> {
    await deleteItemsByKey(this.documents, this.tables.eventIds, "eventKey", keys);
    return keys.length;
  }

  async markIngestionErased(sourceId: string, at: Date): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tables.ingestions,
          Key: { sourceId },
          UpdateExpression: "SET erasedAt = :at",
          ConditionExpression: "attribute_exists(sourceId)",
          ExpressionAttributeValues: { ":at": at.toISOString() },
        }),
      );
    } catch (error) {
      const translated = translateAwsError(error, "noting an erasure on an ingestion", { sourceId });
      if (!isAppError(translated, "CONFLICT")) throw translated; // a version never ingested
    }
  }

  async *#scan(table: string, projection?: string): AsyncIterable<Record<string, unknown>> {
    let start: Record<string, unknown> | undefined;
    do {
      let page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };
      try {
        page = await this.documents.send(
          new ScanCommand({
            TableName: table,
            ConsistentRead: true,
            ...(projection === undefined
              ? {}
              : { ProjectionExpression: "#k", ExpressionAttributeNames: { "#k": projection } }),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (error) {
        throw translateAwsError(error, `scanning ${table}`, { table });
      }
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }
}
