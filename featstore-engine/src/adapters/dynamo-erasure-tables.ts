import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  addErasureLedgerEntries,
  deleteItemsByKey,
  type ErasureLedgerItem,
  erasureLedgerItemSchema,
  isAppError,
  type TableNames,
  translateAwsError,
} from "@gplay/common";
import type { ErasureLedger, ReaderTables } from "../app/erasure-ports.js";

/** The erasure ledger and the reader-keyed tables, over DynamoDB. */
export class DynamoErasureTables implements ErasureLedger, ReaderTables {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: Pick<TableNames, "erasures" | "users" | "eventIds" | "ingestions">,
  ) {}

  async listEntries(): Promise<ErasureLedgerItem[]> {
    const out: ErasureLedgerItem[] = [];
    for await (const item of this.#scan(this.tables.erasures)) out.push(erasureLedgerItemSchema.parse(item));
    return out;
  }

  async addEntries(entries: readonly ErasureLedgerItem[]): Promise<void> {
    await addErasureLedgerEntries(this.documents, this.tables.erasures, entries);
  }

  async markErased(hashes: readonly string[], at: Date): Promise<void> {
    for (const userHash of hashes) {
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tables.erasures,
            Key: { userHash },
            UpdateExpression: "SET #s = :s, updatedAt = :u",
            ConditionExpression: "attribute_exists(userHash)",
            ExpressionAttributeNames: { "#s": "status" },
            ExpressionAttributeValues: { ":s": "erased", ":u": at.toISOString() },
          }),
        );
      } catch (error) {
        throw translateAwsError(error, "marking an erasure done", { table: this.tables.erasures });
      }
    }
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
