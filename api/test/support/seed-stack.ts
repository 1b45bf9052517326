import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { AwsClients, TableNames } from "@gplay/common";
import type { ArticleMeta } from "../../src/domain/articles.js";
import { popularRow } from "./fixtures.js";

/** Writes `articles` to the items table and one global popularity list of them, in that order. */
export async function seedCatalog(
  clients: AwsClients,
  tables: TableNames,
  articles: readonly ArticleMeta[],
): Promise<void> {
  for (const a of articles)
    await clients.documents.send(
      new PutCommand({
        TableName: tables.items,
        Item: { ...a, caption: "", contentHash: "h", updatedAt: "2022-08-15T00:00:00.000Z" },
      }),
    );
  await clients.documents.send(
    new PutCommand({
      TableName: tables.coldstart,
      Item: popularRow(
        "global",
        articles.map((a) => a.page),
      ),
    }),
  );
}
