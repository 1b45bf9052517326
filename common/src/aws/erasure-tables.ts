import { BatchWriteCommand, type BatchWriteCommandOutput, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ErasureLedgerItem } from "../contracts/erasure.js";
import { AppError, isAppError } from "../errors/app-error.js";
import { translateAwsError } from "./errors.js";

/** What these helpers send (the SDK's DynamoDBDocumentClient satisfies it; tests pass fakes). */
export interface ErasureTablesSender {
  send(command: PutCommand | BatchWriteCommand): Promise<unknown>;
}

/**
 * Adds erasure ledger entries, one conditional put each: a reader already in the ledger keeps its
 * first `erasedAt` (the engine's `erase` and the api's admin route both write it).
 */
export async function addErasureLedgerEntries(
  client: ErasureTablesSender,
  table: string,
  entries: readonly ErasureLedgerItem[],
): Promise<void> {
  for (const entry of entries) {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: entry,
          ConditionExpression: "attribute_not_exists(userHash)",
        }),
      );
    } catch (error) {
      const translated = translateAwsError(error, "Recording an erasure", { table });
      if (!isAppError(translated, "CONFLICT")) throw translated; // already in the ledger
    }
  }
}

const MAX_ROUNDS = 8;

/** Deletes items by key, 25 per BatchWriteItem, retrying the unprocessed ones with backoff. */
export async function deleteItemsByKey(
  client: ErasureTablesSender,
  table: string,
  keyName: string,
  keys: readonly string[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let pending: unknown[] = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { [keyName]: k } } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS)
        throw new AppError("UPSTREAM_UNAVAILABLE", `${table}: deletes left unprocessed; retry later`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      let out: BatchWriteCommandOutput;
      try {
        out = (await client.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
        )) as BatchWriteCommandOutput;
      } catch (error) {
        throw translateAwsError(error, `Deleting from ${table}`, { table });
      }
      pending = (out.UnprocessedItems?.[table] ?? []) as unknown[];
    }
  }
}
