import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ColdstartItem, Interaction } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import { domainBuilders } from "../../src/app/builders.js";
import type { UserMerge } from "../../src/app/ports.js";
import { createTestEnvironment, type TestEnvironment } from "./support.js";

/**
 * The store's clients, forwarding to the emulator but, for the first `faults` calls of a command,
 * answering as a throttled DynamoDB would: BatchWriteItem (document client) processes only half and
 * returns the rest as UnprocessedItems; a conditional PutItem (low-level client) fails with
 * ProvisionedThroughputExceededException.
 */
function faultyClients(
  real: { documents: DynamoDBDocumentClient; dynamodb: DynamoDBClient },
  faults: number,
) {
  const injected = { batch: 0, conditional: 0 };
  const documents = {
    send: async (command: unknown) => {
      const batch =
        command instanceof BatchWriteCommand
          ? Object.entries(command.input.RequestItems ?? {})[0]
          : undefined;
      if (batch !== undefined && batch[1].length > 1 && injected.batch < faults) {
        injected.batch += 1;
        const [table, requests] = batch;
        const half = Math.floor(requests.length / 2);
        await real.documents.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, half) } }),
        );
        return { UnprocessedItems: { [table]: requests.slice(half) } };
      }
      return real.documents.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  const dynamodb = {
    send: async (command: unknown) => {
      if (
        command instanceof PutItemCommand &&
        command.input.ConditionExpression !== undefined &&
        injected.conditional < faults
      ) {
        injected.conditional += 1;
        throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
          name: "ProvisionedThroughputExceededException",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return real.dynamodb.send(command as never);
    },
  } as unknown as DynamoDBClient;
  return { clients: { documents, dynamodb }, injected };
}

describe("throttled DynamoDB writes are retried to completion", () => {
  let t: TestEnvironment;
  beforeAll(async () => {
    t = await createTestEnvironment("faults");
  }, 60_000);
  afterAll(async () => t?.destroy(), 60_000);

  it("re-sends UnprocessedItems of BatchWriteItem until every row is written", async () => {
    const { clients, injected } = faultyClients(t.clients, 5);
    const store = new DynamoFeatureStore(clients, t.env.tables, { baseDelayMs: 1, maxDelayMs: 5 });
    const rows: ColdstartItem[] = Array.from({ length: 60 }, (_, i) => ({
      listId: `popular#section:s${i}#24h`,
      snapshotId: "snap-test",
      asOf: 1_660_000_000_000,
      entries: [{ page: "ebd223ab-9d97-429f-bf02-1781477f2653", score: i }],
      updatedAt: new Date(0).toISOString(),
    }));
    const report = await store.putColdstart(rows);
    expect(injected.batch).toBe(5);
    expect(report.written).toBe(60);
    expect(report.retries).toBe(5);
    expect((await t.scanTable("coldstart")).map((r) => r.listId).sort()).toEqual(
      rows.map((r) => r.listId).sort(),
    );
  }, 60_000);

  it("retries throttled conditional user writes and loses no interaction", async () => {
    const { clients, injected } = faultyClients(t.clients, 3);
    const store = new DynamoFeatureStore(clients, t.env.tables, { baseDelayMs: 1, maxDelayMs: 5 });
    const interaction = (i: number): Interaction => ({
      page: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      timestamp: 1_656_668_214_243 + i,
      clicks: 1,
      timeOnPageMs: 60_000,
      scrollPercentage: 40,
      pageVisits: 1,
    });
    const merges = new Map<string, UserMerge>();
    for (let u = 0; u < 30; u++) {
      const userId = u.toString(16).padStart(64, "0");
      merges.set(
        userId,
        domainBuilders.userMerge(userId, "Non-Logged", [interaction(u), interaction(u + 100)], new Date()),
      );
    }
    const report = await store.mergeUsers(merges);
    expect(injected.conditional).toBe(3);
    expect(report.written).toBe(30);
    expect(report.retries).toBe(3);
    const users = await t.scanUsers();
    expect(users.size).toBe(30);
    for (const u of users.values()) expect(u.log.split(";")).toHaveLength(2);
  }, 60_000);
});
