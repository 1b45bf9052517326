import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  type GetCommandOutput,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  articleItemSchema,
  type ColdstartItem,
  coldstartItemSchema,
  type Logger,
  type TableNames,
  translateAwsError,
  type UserItem,
  userItemSchema,
} from "@gplay/common";
import type { ArticleSource, ColdstartSource, UserStore } from "../app/ports.js";
import type { ArticleMeta } from "../domain/articles.js";

/** The commands this adapter sends; the SDK's DynamoDBDocumentClient satisfies it, tests pass a fake. */
export type FeatureStoreCommand = GetCommand | PutCommand | ScanCommand | BatchGetCommand;
export interface DocumentSender {
  send(command: FeatureStoreCommand): Promise<unknown>;
}

const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_ROUNDS = 6;

const articleMetaSchema = articleItemSchema.pick({
  page: true,
  url: true,
  title: true,
  section: true,
  region: true,
  issued: true,
  modified: true,
  contentType: true,
  vector: true,
});

/**
 * The online feature store in DynamoDB: readers (users table), article metadata (items table) and
 * cold-start rows (coldstart table). Items are validated with common's schemas on the way in; SDK
 * errors become AppErrors (a lost conditional write is CONFLICT).
 */
export class DynamoFeatureStore implements UserStore, ArticleSource, ColdstartSource {
  constructor(
    private readonly client: DocumentSender,
    private readonly tables: Pick<TableNames, "users" | "items" | "coldstart">,
    private readonly logger?: Logger,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async getUser(userId: string): Promise<UserItem | undefined> {
    let output: GetCommandOutput;
    try {
      output = (await this.client.send(
        new GetCommand({ TableName: this.tables.users, Key: { userId }, ConsistentRead: true }),
      )) as GetCommandOutput;
    } catch (error) {
      throw translateAwsError(error, "Reading the reader's item", { table: this.tables.users });
    }
    if (output.Item === undefined) return undefined;
    const parsed = userItemSchema.safeParse(output.Item);
    if (!parsed.success)
      throw new AppError(
        "UPSTREAM_FAILED",
        "A reader's item in the users table does not match the contract",
        {
          cause: parsed.error,
          details: { table: this.tables.users, issues: parsed.error.issues.map((i) => i.path.join(".")) },
        },
      );
    return parsed.data;
  }

  async putUser(item: UserItem, expectedVersion: number | undefined): Promise<void> {
    const condition =
      expectedVersion === undefined
        ? { ConditionExpression: "attribute_not_exists(userId)" }
        : {
            ConditionExpression: "#version = :expected",
            ExpressionAttributeNames: { "#version": "version" },
            ExpressionAttributeValues: { ":expected": expectedVersion },
          };
    try {
      await this.client.send(new PutCommand({ TableName: this.tables.users, Item: item, ...condition }));
    } catch (error) {
      throw translateAwsError(error, "Writing the reader's item", {
        table: this.tables.users,
        expectedVersion,
      });
    }
  }

  async scanArticles(): Promise<ArticleMeta[]> {
    const out: ArticleMeta[] = [];
    let skipped = 0;
    let startKey: Record<string, unknown> | undefined;
    const names = [
      "page",
      "url",
      "title",
      "section",
      "region",
      "issued",
      "modified",
      "contentType",
      "vector",
    ];
    do {
      let page: ScanCommandOutput;
      try {
        page = (await this.client.send(
          new ScanCommand({
            TableName: this.tables.items,
            ProjectionExpression: names.map((_, i) => `#a${i}`).join(", "),
            ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#a${i}`, n])),
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        )) as ScanCommandOutput;
      } catch (error) {
        throw translateAwsError(error, "Scanning the items table", { table: this.tables.items });
      }
      for (const item of page.Items ?? []) {
        const parsed = articleMetaSchema.safeParse(item);
        if (parsed.success) out.push(parsed.data);
        else skipped += 1;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    if (skipped > 0)
      this.logger?.warn(
        { event: "articles-skipped", skipped, table: this.tables.items },
        "malformed articles skipped",
      );
    return out;
  }

  async getLists(listIds: readonly string[]): Promise<Map<string, ColdstartItem>> {
    const out = new Map<string, ColdstartItem>();
    const unique = [...new Set(listIds)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = unique
        .slice(i, i + BATCH_GET_LIMIT)
        .map((listId) => ({ listId }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= MAX_UNPROCESSED_ROUNDS)
          throw new AppError("RATE_LIMITED", "DynamoDB kept cold-start keys unprocessed; retry later", {
            details: { table: this.tables.coldstart, unprocessed: keys.length },
          });
        if (round > 0) await this.sleep(25 * 2 ** round);
        let output: BatchGetCommandOutput;
        try {
          output = (await this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tables.coldstart]: { Keys: keys } } }),
          )) as BatchGetCommandOutput;
        } catch (error) {
          throw translateAwsError(error, "Reading cold-start lists", { table: this.tables.coldstart });
        }
        for (const row of output.Responses?.[this.tables.coldstart] ?? []) {
          const parsed = coldstartItemSchema.safeParse(row);
          if (parsed.success) out.set(parsed.data.listId, parsed.data);
          else
            this.logger?.warn(
              { event: "coldstart-row-skipped", listId: row.listId },
              "malformed cold-start row",
            );
        }
        keys = (output.UnprocessedKeys?.[this.tables.coldstart]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }
}
