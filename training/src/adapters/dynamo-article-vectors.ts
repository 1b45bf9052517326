/**
 * Content vectors from the items table (the ones the API reads), fetched with BatchGet in chunks of
 * 100 keys, projecting only `page` and `vector`.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { AppError } from "@gplay/common";
import type { ArticleVectorSource } from "../app/ports.js";

export class DynamoArticleVectors implements ArticleVectorSource {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly itemsTable: string,
  ) {}

  async vectors(pages: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (let i = 0; i < pages.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = pages.slice(i, i + 100).map((page) => ({ page }));
      for (let attempt = 0; keys !== undefined && keys.length > 0; attempt++) {
        if (attempt > 8)
          throw new AppError("UPSTREAM_UNAVAILABLE", "DynamoDB kept unprocessed keys of the items table");
        let res: BatchGetCommandOutput;
        try {
          res = await this.documents.send(
            new BatchGetCommand({
              RequestItems: {
                [this.itemsTable]: {
                  Keys: keys,
                  ProjectionExpression: "#p, #v",
                  ExpressionAttributeNames: { "#p": "page", "#v": "vector" },
                },
              },
            }),
          );
        } catch (error) {
          throw new AppError("UPSTREAM_UNAVAILABLE", `Could not read ${this.itemsTable}`, { cause: error });
        }
        for (const item of res.Responses?.[this.itemsTable] ?? []) {
          if (item.vector instanceof Uint8Array) out.set(String(item.page), item.vector);
        }
        keys = res.UnprocessedKeys?.[this.itemsTable]?.Keys as Record<string, unknown>[] | undefined;
        if (keys !== undefined && keys.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
    return out;
  }
}
