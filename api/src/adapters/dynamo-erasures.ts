import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommand,
  type PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  addErasureLedgerEntries,
  deleteItemsByKey,
  type ErasureLedgerItem,
  erasureHash,
  type TableNames,
  translateAwsError,
} from "@gplay/common";
import type { ErasureStores } from "../app/erase-readers.js";

export type ErasuresCommand = BatchGetCommand | BatchWriteCommand | PutCommand | ScanCommand;
export interface ErasuresSender {
  send(command: ErasuresCommand): Promise<unknown>;
}

const MAX_ROUNDS = 8;

/**
 * The api's side of erasure over DynamoDB: the ledger (conditional puts keep the first erasure time;
 * batch gets answer "which of these readers are erased"), the users and event-ids tables.
 */
export class DynamoErasures implements ErasureStores {
  constructor(
    private readonly client: ErasuresSender,
    private readonly tables: Pick<TableNames, "erasures" | "users" | "eventIds">,
  ) {}

  async addLedgerEntries(entries: readonly ErasureLedgerItem[]): Promise<void> {
    await addErasureLedgerEntries(this.client, this.tables.erasures, entries);
  }

  /** Erasure time (epoch ms) of each erased reader among `userIds`. */
  async erasedAt(userIds: readonly string[]): Promise<Map<string, number>> {
    const byHash = new Map(userIds.map((id) => [erasureHash(id), id]));
    const found = await this.#batchGet(this.tables.erasures, "userHash", [...byHash.keys()]);
    const out = new Map<string, number>();
    for (const item of found) {
      const id = byHash.get(String(item.userHash));
      if (id !== undefined) out.set(id, Date.parse(String(item.erasedAt)));
    }
    return out;
  }

  async existingUsers(userIds: readonly string[]): Promise<Set<string>> {
    const found = await this.#batchGet(this.tables.users, "userId", userIds, "userId");
    return new Set(found.map((item) => String(item.userId)));
  }

  async deleteUsers(userIds: readonly string[]): Promise<number> {
    await deleteItemsByKey(this.client, this.tables.users, "userId", userIds);
    return userIds.length;
  }

  async deleteEventIds(userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const wanted = new Set(userIds);
    const keys: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      let page: ScanCommandOutput;
      try {
        page = (await this.client.send(
          new ScanCommand({
            TableName: this.tables.eventIds,
            ProjectionExpression: "eventKey",
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        )) as ScanCommandOutput;
      } catch (error) {
        throw translateAwsError(error, "Listing client event ids", { table: this.tables.eventIds });
      }
      for (const item of page.Items ?? []) {
        const key = String(item.eventKey);
        if (wanted.has(key.split("#")[0] ?? "")) keys.push(key);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    await deleteItemsByKey(this.client, this.tables.eventIds, "eventKey", keys);
    return keys.length;
  }

  async #batchGet(
    table: string,
    keyName: string,
    keys: readonly string[],
    projection?: string,
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + 100).map((k) => ({ [keyName]: k }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= MAX_ROUNDS)
          throw new AppError("UPSTREAM_UNAVAILABLE", `${table}: reads left unprocessed; retry later`);
        let page: BatchGetCommandOutput;
        try {
          page = (await this.client.send(
            new BatchGetCommand({
              RequestItems: {
                [table]: {
                  Keys: pending,
                  ...(projection === undefined ? {} : { ProjectionExpression: projection }),
                },
              },
            }),
          )) as BatchGetCommandOutput;
        } catch (error) {
          throw translateAwsError(error, `Reading ${table}`, { table });
        }
        out.push(...((page.Responses?.[table] ?? []) as Record<string, unknown>[]));
        pending = (page.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }
}
