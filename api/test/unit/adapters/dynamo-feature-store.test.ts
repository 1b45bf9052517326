import type { PutObjectCommand } from "@aws-sdk/client-s3";
import { type BatchGetCommand, GetCommand, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import {
  type DocumentSender,
  DynamoFeatureStore,
  type FeatureStoreCommand,
} from "../../../src/adapters/dynamo-feature-store.js";
import { S3RawEventSink } from "../../../src/adapters/s3-raw-event-sink.js";
import { article, coldstartRow, pageId, reader, userId } from "../../support/fixtures.js";

const tables = { users: "t-users", items: "t-items", coldstart: "t-coldstart" };

/** A document client that records commands and answers from a script. */
function fakeClient(
  answer: (command: FeatureStoreCommand, n: number) => unknown,
): DocumentSender & { sent: FeatureStoreCommand[] } {
  const sent: FeatureStoreCommand[] = [];
  return {
    sent,
    async send(command) {
      sent.push(command);
      const out = answer(command, sent.length);
      if (out instanceof Error) throw out;
      return out;
    },
  };
}

function sdkError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

const articleItem = (n: number) => ({
  ...article(n),
  caption: "c",
  contentHash: "h",
  updatedAt: "2022-08-15T00:00:00.000Z",
});

describe("DynamoFeatureStore", () => {
  it("reads a reader with one consistent GetItem and validates it", async () => {
    const item = reader(userId(1), [pageId(1)]);
    const client = fakeClient(() => ({ Item: item }));
    const store = new DynamoFeatureStore(client, tables);
    expect(await store.getUser(userId(1))).toEqual(item);
    expect(client.sent).toHaveLength(1);
    const command = client.sent[0] as GetCommand;
    expect(command).toBeInstanceOf(GetCommand);
    expect(command.input).toEqual({ TableName: "t-users", Key: { userId: userId(1) }, ConsistentRead: true });
  });

  it("returns undefined for an unknown reader", async () => {
    const store = new DynamoFeatureStore(
      fakeClient(() => ({})),
      tables,
    );
    expect(await store.getUser(userId(2))).toBeUndefined();
  });

  it("refuses a reader item that breaks the contract", async () => {
    const store = new DynamoFeatureStore(
      fakeClient(() => ({ Item: { userId: userId(1), version: "x" } })),
      tables,
    );
    await expect(store.getUser(userId(1))).rejects.toMatchObject({ code: "UPSTREAM_FAILED" });
  });

  it("creates a reader only if absent and updates only at the expected version", async () => {
    const client = fakeClient(() => ({}));
    const store = new DynamoFeatureStore(client, tables);
    const item = reader(userId(1), [pageId(1)]);
    await store.putUser(item, undefined);
    await store.putUser({ ...item, version: 2 }, 1);
    const [create, update] = client.sent as [PutCommand, PutCommand];
    expect(create).toBeInstanceOf(PutCommand);
    expect(create.input.ConditionExpression).toBe("attribute_not_exists(userId)");
    expect(update.input).toMatchObject({
      TableName: "t-users",
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":expected": 1 },
    });
  });

  it("reports a lost conditional write as CONFLICT and an outage as UPSTREAM_UNAVAILABLE", async () => {
    const conflict = new DynamoFeatureStore(
      fakeClient(() => sdkError("ConditionalCheckFailedException")),
      tables,
    );
    await expect(conflict.putUser(reader(userId(1), [pageId(1)]), 1)).rejects.toMatchObject({
      code: "CONFLICT",
    });
    const down = new DynamoFeatureStore(
      fakeClient(() => sdkError("InternalServerError", 500)),
      tables,
    );
    await expect(down.getUser(userId(1))).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
  });

  it("scans every page of the items table, projecting the metadata and skipping malformed articles", async () => {
    const client = fakeClient((_c, n) =>
      n === 1
        ? { Items: [articleItem(1), { page: "not-a-uuid" }], LastEvaluatedKey: { page: pageId(1) } }
        : { Items: [articleItem(2)] },
    );
    const store = new DynamoFeatureStore(client, tables);
    const articles = await store.scanArticles();
    expect(articles.map((a) => a.page)).toEqual([pageId(1), pageId(2)]);
    expect(articles[0]).not.toHaveProperty("caption");
    const [first, second] = client.sent as [ScanCommand, ScanCommand];
    expect(first).toBeInstanceOf(ScanCommand);
    expect(Object.values(first.input.ExpressionAttributeNames ?? {})).toContain("section");
    expect(second.input.ExclusiveStartKey).toEqual({ page: pageId(1) });
  });

  it("batches cold-start reads by 100 keys and retries unprocessed keys", async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `covisit#${pageId(i)}`);
    const client = fakeClient((command, n) => {
      const keys = (command as BatchGetCommand).input.RequestItems?.["t-coldstart"]?.Keys ?? [];
      if (n === 1)
        return {
          Responses: { "t-coldstart": [coldstartRow(ids[0] as string, [pageId(7)])] },
          UnprocessedKeys: { "t-coldstart": { Keys: keys.slice(1, 3) } },
        };
      return { Responses: { "t-coldstart": [] } };
    });
    const store = new DynamoFeatureStore(client, tables, undefined, async () => undefined);
    const rows = await store.getLists(ids);
    expect(rows.get(ids[0] as string)?.entries[0]?.page).toBe(pageId(7));
    const sizes = client.sent.map(
      (c) => (c as BatchGetCommand).input.RequestItems?.["t-coldstart"]?.Keys?.length,
    );
    expect(sizes).toEqual([100, 2, 50]);
  });
});

describe("S3RawEventSink", () => {
  it("puts a CSV object under raw/ in the raw bucket", async () => {
    const sent: PutObjectCommand[] = [];
    const sink = new S3RawEventSink({ send: async (c) => void sent.push(c) }, "gplay-test-raw");
    await sink.putRawObject("raw/api-events/x.csv", "a,b\n");
    expect(sent[0]?.input).toMatchObject({
      Bucket: "gplay-test-raw",
      Key: "raw/api-events/x.csv",
      Body: "a,b\n",
    });
  });

  it("refuses keys outside raw/", async () => {
    const sink = new S3RawEventSink({ send: async () => undefined }, "b");
    await expect(sink.putRawObject("processed/x.csv", "")).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("translates S3 failures", async () => {
    const sink = new S3RawEventSink({ send: async () => Promise.reject(sdkError("SlowDown", 503)) }, "b");
    await expect(sink.putRawObject("raw/x.csv", "")).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });
});
