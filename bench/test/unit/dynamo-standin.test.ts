import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAwsClients } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { DynamoStandIn, evaluateCondition } from "../../src/dynamo-standin.js";
import { startKeepAliveFront } from "../../src/keep-alive-front.js";

const TABLE = "t-users";
const describeUsers = async (table: string) => (table === TABLE ? ["userId"] : undefined);
const S = (s: string) => ({ S: s });
const N = (n: number) => ({ N: String(n) });

async function call(standIn: DynamoStandIn, operation: string, input: Record<string, unknown>) {
  const answer = await standIn.handle(operation, JSON.stringify(input), describeUsers);
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

const putFresh = (userId: string, version: number) => ({
  TableName: TABLE,
  Item: { userId: S(userId), version: N(version), log: { B: Buffer.from(userId).toString("base64") } },
  ConditionExpression: "attribute_not_exists(#k)",
  ExpressionAttributeNames: { "#k": "userId" },
});

describe("the DynamoDB stand-in of the ingest benchmark", () => {
  it("evaluates the engine's conditions: absent key, version equality, both clauses of an AND", () => {
    const item = { userId: S("a"), version: N(2), modified: N(5), contentHash: S("h") };
    expect(evaluateCondition("attribute_not_exists(#k)", undefined, { "#k": "userId" })).toBe(true);
    expect(evaluateCondition("attribute_not_exists(#k)", item, { "#k": "userId" })).toBe(false);
    expect(evaluateCondition("attribute_exists(userId)", item)).toBe(true);
    expect(evaluateCondition("#v = :v", item, { "#v": "version" }, { ":v": { N: "2.0" } })).toBe(true);
    expect(evaluateCondition("#v = :v", item, { "#v": "version" }, { ":v": N(1) })).toBe(false);
    expect(evaluateCondition("#v <> :v", item, { "#v": "version" }, { ":v": N(1) })).toBe(true);
    const both = "#m = :m AND #h = :h";
    const names = { "#m": "modified", "#h": "contentHash" };
    expect(evaluateCondition(both, item, names, { ":m": N(5), ":h": S("h") })).toBe(true);
    expect(evaluateCondition(both, item, names, { ":m": N(5), ":h": S("other") })).toBe(false);
    expect(() => evaluateCondition("size(#k) > :n", item, { "#k": "userId" }, { ":n": N(1) })).toThrow(
      /does not emulate the condition/,
    );
  });

  it("stores what PutItem sends, refuses a failed condition and returns stored items to BatchGetItem", async () => {
    const standIn = new DynamoStandIn();
    expect((await call(standIn, "PutItem", putFresh("a", 1))).status).toBe(200);
    const again = await call(standIn, "PutItem", putFresh("a", 1));
    expect(again.status).toBe(400);
    expect(again.body.__type).toMatch(/#ConditionalCheckFailedException$/);
    const bump = {
      TableName: TABLE,
      Item: { userId: S("a"), version: N(2) },
      ConditionExpression: "#v = :v",
      ExpressionAttributeNames: { "#v": "version" },
    };
    expect(
      (await call(standIn, "PutItem", { ...bump, ExpressionAttributeValues: { ":v": N(7) } })).status,
    ).toBe(400);
    expect(
      (await call(standIn, "PutItem", { ...bump, ExpressionAttributeValues: { ":v": N(1) } })).status,
    ).toBe(200);
    await call(standIn, "PutItem", putFresh("b", 1));
    const read = await call(standIn, "BatchGetItem", {
      RequestItems: {
        [TABLE]: { Keys: [{ userId: S("a") }, { userId: S("b") }, { userId: S("c") }], ConsistentRead: true },
      },
    });
    expect(read.body).toEqual({
      Responses: { [TABLE]: [{ userId: S("a"), version: N(2) }, putFresh("b", 1).Item] },
      UnprocessedKeys: {},
    });
    expect(standIn.counts()).toEqual({ [TABLE]: 2 });
  });

  it("answers unknown tables, operations and parameters with errors that name them", async () => {
    const standIn = new DynamoStandIn();
    const missing = await call(standIn, "PutItem", { ...putFresh("a", 1), TableName: "nope" });
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toMatch(/#ResourceNotFoundException$/);
    const query = await call(standIn, "Query", { TableName: TABLE });
    expect(query.body).toMatchObject({ __type: expect.stringMatching(/ValidationException$/) });
    expect(query.body.message).toMatch(/does not emulate Query/);
    const selected = await call(standIn, "Scan", { TableName: TABLE, Select: "COUNT" });
    expect(selected.status).toBe(400);
    expect(selected.body.message).toMatch(/Scan's Select/);
    const add = await call(standIn, "UpdateItem", {
      TableName: TABLE,
      Key: { userId: S("a") },
      UpdateExpression: "ADD n :one",
      ExpressionAttributeValues: { ":one": N(1) },
    });
    expect(add.status).toBe(400);
    expect(add.body.message).toMatch(/does not emulate the update "ADD n :one"/);
    const nested = await call(standIn, "GetItem", {
      TableName: TABLE,
      Key: { userId: S("a") },
      ProjectionExpression: "log.part",
    });
    expect(nested.status).toBe(400);
    expect(nested.body.message).toMatch(/does not emulate the operand "log.part"/);
  });

  it("updates with SET under a condition: a failed one changes nothing, an absent item is created from its key", async () => {
    const standIn = new DynamoStandIn();
    await call(standIn, "PutItem", putFresh("a", 1));
    const mark = (userId: string, condition?: string) =>
      call(standIn, "UpdateItem", {
        TableName: TABLE,
        Key: { userId: S(userId) },
        UpdateExpression: "SET erasedAt = :at, #v = :v",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":at": S("2026-12-07"), ":v": N(9) },
        ...(condition === undefined ? {} : { ConditionExpression: condition }),
      });
    expect((await mark("a", "attribute_exists(userId)")).status).toBe(200);
    const updated = await call(standIn, "GetItem", { TableName: TABLE, Key: { userId: S("a") } });
    expect(updated.body.Item).toEqual({
      ...putFresh("a", 1).Item,
      version: N(9),
      erasedAt: S("2026-12-07"),
    });
    const refused = await mark("b", "attribute_exists(userId)");
    expect(refused.body.__type).toMatch(/#ConditionalCheckFailedException$/);
    expect((await call(standIn, "GetItem", { TableName: TABLE, Key: { userId: S("b") } })).body).toEqual({});
    expect((await mark("c")).status).toBe(200);
    expect((await call(standIn, "GetItem", { TableName: TABLE, Key: { userId: S("c") } })).body.Item).toEqual(
      {
        userId: S("c"),
        version: N(9),
        erasedAt: S("2026-12-07"),
      },
    );
    const rekey = await call(standIn, "UpdateItem", {
      TableName: TABLE,
      Key: { userId: S("a") },
      UpdateExpression: "SET userId = :u",
      ExpressionAttributeValues: { ":u": S("z") },
    });
    expect(rekey.body.message).toMatch(/cannot change the key attribute userId/);
  });

  it("projects GetItem, BatchGetItem and Scan answers to the names asked, #placeholders resolved", async () => {
    const standIn = new DynamoStandIn();
    for (const id of ["a", "b"]) await call(standIn, "PutItem", putFresh(id, 3));
    const got = await call(standIn, "GetItem", {
      TableName: TABLE,
      Key: { userId: S("a") },
      ProjectionExpression: "#k, version",
      ExpressionAttributeNames: { "#k": "userId" },
    });
    expect(got.body.Item).toEqual({ userId: S("a"), version: N(3) });
    const batch = await call(standIn, "BatchGetItem", {
      RequestItems: {
        [TABLE]: {
          Keys: [{ userId: S("a") }, { userId: S("x") }, { userId: S("b") }],
          ProjectionExpression: "userId",
        },
      },
    });
    expect(batch.body.Responses).toEqual({ [TABLE]: [{ userId: S("a") }, { userId: S("b") }] });
    const scan = await call(standIn, "Scan", {
      TableName: TABLE,
      ConsistentRead: true,
      ProjectionExpression: "#k",
      ExpressionAttributeNames: { "#k": "userId" },
    });
    expect(scan.body.Items).toEqual([{ userId: S("a") }, { userId: S("b") }]);
    expect(scan.body.ScannedCount).toBe(2);
  });

  it("pages a Scan with Limit and ExclusiveStartKey, each item once, filtered as asked", async () => {
    const standIn = new DynamoStandIn();
    for (let i = 0; i < 7; i++) await call(standIn, "PutItem", putFresh(`u${i}`, i % 2));
    const seen: string[] = [];
    let start: unknown;
    let pages = 0;
    do {
      const page = await call(standIn, "Scan", {
        TableName: TABLE,
        Limit: 3,
        FilterExpression: "#v = :v",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":v": N(1) },
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      pages++;
      for (const item of page.body.Items as { userId: { S: string } }[]) seen.push(item.userId.S);
      start = page.body.LastEvaluatedKey;
    } while (start !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(["u1", "u3", "u5"]);
  });
});

describe("the stand-in behind the keep-alive front, through the platform's SDK clients", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }, 10_000);

  it("answers data-plane requests itself, sends table management to the emulator and forgets deleted tables", async () => {
    // The emulator's part: DescribeTable (the key schema) and DeleteTable, counted by operation.
    const upstreamCalls: string[] = [];
    const upstream: Server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const operation = String(req.headers["x-amz-target"]).split(".").at(-1) ?? "";
        upstreamCalls.push(operation);
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0", connection: "close" });
        res.end(
          JSON.stringify(
            operation === "DescribeTable"
              ? { Table: { TableName: TABLE, KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }] } }
              : { TableDescription: { TableName: TABLE } },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          upstream.closeAllConnections();
          upstream.close(() => resolve());
        }),
    );
    const standIn = new DynamoStandIn();
    const front = await startKeepAliveFront(
      `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      undefined,
      { standIn },
    );
    cleanups.push(() => front.close());
    const clients = createAwsClients({
      region: "us-east-1",
      endpoint: front.url,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    cleanups.push(async () => clients.destroy());
    const { PutCommand, BatchGetCommand, DeleteTableCommand } = await sdkCommands();

    const put = (version: number) =>
      clients.documents.send(
        new PutCommand({
          TableName: TABLE,
          Item: { userId: "a", version, log: new Uint8Array([1, 2, 3]) },
          ConditionExpression: "attribute_not_exists(#k)",
          ExpressionAttributeNames: { "#k": "userId" },
        }),
      );
    await put(1);
    await expect(put(2)).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    const read = (await clients.documents.send(
      new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ userId: "a" }], ConsistentRead: true } } }),
    )) as { Responses?: Record<string, unknown[]> };
    expect(read.Responses?.[TABLE]).toEqual([{ userId: "a", version: 1, log: new Uint8Array([1, 2, 3]) }]);
    expect(upstreamCalls).toEqual(["DescribeTable"]);

    await clients.dynamodb.send(new DeleteTableCommand({ TableName: TABLE }));
    expect(upstreamCalls).toEqual(["DescribeTable", "DeleteTable"]);
    expect(standIn.counts()).toEqual({});
  }, 15_000);
});

type Command = new (input: Record<string, unknown>) => never;
/** The SDK's commands, from common's own dependencies (the bench workspace declares only common). */
async function sdkCommands(): Promise<
  Record<"PutCommand" | "BatchGetCommand" | "DeleteTableCommand", Command>
> {
  const { createRequire } = await import("node:module");
  const path = await import("node:path");
  const { ROOT } = await import("../../src/engine-run.js");
  const require = createRequire(path.join(ROOT, "common", "package.json"));
  const { PutCommand, BatchGetCommand } = require("@aws-sdk/lib-dynamodb") as Record<string, Command>;
  const { DeleteTableCommand } = require("@aws-sdk/client-dynamodb") as Record<string, Command>;
  return { PutCommand, BatchGetCommand, DeleteTableCommand } as Record<
    "PutCommand" | "BatchGetCommand" | "DeleteTableCommand",
    Command
  >;
}
