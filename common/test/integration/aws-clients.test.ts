// The local stack's test support lives in @gplay/scripts, which depends on common: imported by path
// so common does not depend on it back (no workspace cycle).

import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
} from "../../../scripts/src/index.js";
import {
  type AwsClients,
  ingestionItemSchema,
  isAppError,
  translateAwsError,
  userItemSchema,
} from "../../src/index.js";

describe("common's AWS clients against the emulator", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  let env: ProvisionedEnvironment;

  beforeAll(async () => {
    ({ endpoints, clients, env } = await provisionTestEnvironment("common-aws"));
  });

  afterAll(async () => {
    await destroyTestEnvironment({ endpoints, clients, env });
  });

  it("writes an object to the raw bucket and reads the same bytes back", async () => {
    const body = "userId,userType,history\nabc,Logged,p1\n";
    const put = await clients.s3.send(
      new PutObjectCommand({
        Bucket: env.buckets.raw,
        Key: "raw/treino.csv",
        Body: body,
        ContentType: "text/csv",
      }),
    );
    const got = await clients.s3.send(
      new GetObjectCommand({ Bucket: env.buckets.raw, Key: "raw/treino.csv" }),
    );
    expect(await got.Body?.transformToString()).toBe(body);
    expect(got.ETag).toBe(put.ETag);
    expect(got.ContentType).toBe("text/csv");
  });

  it("translates a missing object into a NOT_FOUND AppError", async () => {
    const error = await clients.s3
      .send(new GetObjectCommand({ Bucket: env.buckets.processed, Key: "processed/nothing.parquet" }))
      .catch((e: unknown) => translateAwsError(e, "GetObject"));
    expect(isAppError(error, "NOT_FOUND")).toBe(true);
  });

  it("round-trips a user item, binary log included, through the document client", async () => {
    const user = userItemSchema.parse({
      userId: "a".repeat(64),
      userType: "Logged",
      version: 1,
      updatedAt: "2026-11-27T10:00:00.000Z",
      interactionCount: 2,
      firstTimestamp: 1_000,
      lastTimestamp: 2_000,
      log: new Uint8Array([1, 2, 3, 250]),
      evictedCount: 0,
      expiresAt: 1_900_000_000,
    });
    await clients.documents.send(new PutCommand({ TableName: env.tables.users, Item: user }));
    const { Item } = await clients.documents.send(
      new GetCommand({ TableName: env.tables.users, Key: { userId: user.userId }, ConsistentRead: true }),
    );
    const back = userItemSchema.parse(Item);
    expect(back).toEqual({ ...user, log: expect.any(Uint8Array) });
    expect([...back.log]).toEqual([1, 2, 3, 250]);
  });

  it("rejects a stale conditional write with a CONFLICT AppError", async () => {
    const marker = ingestionItemSchema.parse({
      sourceId: "s1",
      bucket: env.buckets.raw,
      key: "raw/treino.csv",
      etag: "e1",
      kind: "treino",
      status: "started",
      attempts: 1,
      startedAt: "2026-11-27T10:00:00.000Z",
    });
    const putOnce = () =>
      clients.documents.send(
        new PutCommand({
          TableName: env.tables.ingestions,
          Item: marker,
          ConditionExpression: "attribute_not_exists(sourceId)",
        }),
      );
    await putOnce();
    const error = await putOnce().catch((e: unknown) => translateAwsError(e, "PutItem ingestion marker"));
    expect(isAppError(error, "CONFLICT")).toBe(true);
  });
});
