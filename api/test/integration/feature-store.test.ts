import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  API_IMPRESSIONS_PREFIX,
  type AwsClients,
  bloomAdd,
  createBloomFilter,
  createLogger,
  createMetrics,
  logPages,
  RAW_HEADERS,
  type UserItem,
} from "@gplay/common";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
} from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import { DynamoSeenEvents } from "../../src/adapters/dynamo-seen-events.js";
import { S3RawEventSink } from "../../src/adapters/s3-raw-event-sink.js";
import { SwitchableModelProvider } from "../../src/app/model.js";
import { OnlineServing } from "../../src/app/online.js";
import { systemClock } from "../../src/app/ports.js";
import { Readiness } from "../../src/app/readiness.js";
import { Recommender } from "../../src/app/recommend.js";
import { EventRecorder } from "../../src/app/record-events.js";
import { ImpressionRecorder } from "../../src/app/record-impressions.js";
import { ServingData } from "../../src/app/serving-data.js";
import { createApp } from "../../src/http/app.js";
import { listen } from "../../src/server.js";
import { article, coldstartRow, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import { API_KEY, json, post } from "../support/service.js";

const articleItem = (n: number) => ({
  ...article(n),
  caption: "",
  contentHash: `h${n}`,
  updatedAt: "2022-08-15T00:00:00.000Z",
});

describe("DynamoDB and S3 adapters against the emulator", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  let env: ProvisionedEnvironment;
  let store: DynamoFeatureStore;

  beforeAll(async () => {
    ({ endpoints, clients, env } = await provisionTestEnvironment("api-store"));
    store = new DynamoFeatureStore(clients.documents, env.tables);
    for (let n = 1; n <= 30; n++)
      await clients.documents.send(new PutCommand({ TableName: env.tables.items, Item: articleItem(n) }));
    await clients.documents.send(new PutCommand({ TableName: env.tables.items, Item: { page: "broken" } }));
    for (const row of [
      popularRow(
        "global",
        Array.from({ length: 30 }, (_, i) => pageId(i + 1)),
      ),
      coldstartRow(`covisit#${pageId(1)}`, [pageId(2)]),
    ])
      await clients.documents.send(new PutCommand({ TableName: env.tables.coldstart, Item: row }));
  });

  afterAll(async () => {
    await destroyTestEnvironment({ endpoints, clients, env });
  });

  it("creates a reader once and then writes only at the stored version", async () => {
    const first = reader(userId(1), [pageId(1)]);
    await store.putUser(first, undefined);
    await expect(store.putUser(first, undefined)).rejects.toMatchObject({ code: "CONFLICT" });
    const second = { ...first, version: 2 };
    await store.putUser(second, 1);
    await expect(store.putUser({ ...first, version: 3 }, 1)).rejects.toMatchObject({ code: "CONFLICT" });
    expect((await store.getUser(userId(1)))?.version).toBe(2);
  });

  it("round-trips a 7,004-interaction reader with its evicted-page filter", async () => {
    const pages = Array.from({ length: 7_004 }, (_, i) => pageId(10_000 + i));
    const evicted = bloomAdd(createBloomFilter(), [pageId(9)]) as UserItem["log"];
    await store.putUser(reader(userId(2), pages, { evicted, evictedCount: 1 }), undefined);
    const got = await store.getUser(userId(2));
    expect(got?.log.byteLength).toBe(6 + 7_004 * 40);
    expect(logPages(got?.log as Uint8Array).size).toBe(7_004);
    expect(Buffer.from(got?.evicted as Uint8Array).equals(Buffer.from(evicted))).toBe(true);
    expect(await store.getUser(userId(3))).toBeUndefined();
  });

  it("claims a client event id once, with a TTL, until it is released", async () => {
    const seen = new DynamoSeenEvents(clients.documents, env.tables.eventIds, {
      now: () => 1_700_000_000_000,
    });
    const keys = [`${userId(1)}#a`, `${userId(1)}#b`];
    expect(await seen.claim(keys)).toEqual(new Set(keys));
    expect(await seen.claim([...keys, `${userId(2)}#a`])).toEqual(new Set([`${userId(2)}#a`]));
    const stored = await clients.documents.send(
      new GetCommand({ TableName: env.tables.eventIds, Key: { eventKey: keys[0] } }),
    );
    expect(stored.Item?.expiresAt).toBe(1_700_000_000 + 7 * 24 * 3600);
    await seen.release([keys[0] as string]);
    expect(await seen.claim(keys)).toEqual(new Set([keys[0]]));
  });

  it("scans article metadata and skips malformed items", async () => {
    const articles = await store.scanArticles();
    expect(articles).toHaveLength(30);
    expect(articles.find((a) => a.page === pageId(7))).toMatchObject({ title: "News 7", section: "sp" });
  });

  it("batch-reads the cold-start rows that exist", async () => {
    const ids = [
      "popular#global#24h",
      `covisit#${pageId(1)}`,
      ...Array.from({ length: 120 }, (_, i) => `covisit#${pageId(500 + i)}`),
    ];
    const rows = await store.getLists(ids);
    expect([...rows.keys()].sort()).toEqual([`covisit#${pageId(1)}`, "popular#global#24h"]);
  });

  it("serves the real app: a click is excluded from the next prediction and filed under raw/", async () => {
    const logger = createLogger({ service: "api", version: "it", level: "silent" });
    const metrics = createMetrics({ service: "api", environment: "it" }, { write: () => undefined });
    const model = new SwitchableModelProvider("none in this test");
    const data = new ServingData(
      store,
      store,
      { freshnessHours: 48, coVisitCacheTtlMs: 1_000, coVisitCacheMaxEntries: 100 },
      systemClock,
      logger,
    );
    await data.refresh();
    // Two recommenders stand for two tasks: the one that did not record the click reads it from DynamoDB.
    const options = { maxCandidates: 100, userCacheTtlMs: 0, userCacheMaxEntries: 10 };
    const recommender = new Recommender({ users: store, data, model, clock: systemClock }, options);
    const sink = new S3RawEventSink(clients.s3, env.buckets.raw);
    const impressions = new ImpressionRecorder(
      { sink, clock: systemClock },
      { instanceId: "it", maxBufferedRows: 1_000, attributionReaders: 100, listsPerReader: 5 },
    );
    const online = new OnlineServing(
      { recommender, impressions, champion: model },
      { challengerShare: 0, challengerMode: "split", salt: "it" },
    );
    const events = new EventRecorder(
      {
        impressions,
        users: store,
        sink,
        seen: new DynamoSeenEvents(clients.documents, env.tables.eventIds, systemClock),
        clock: systemClock,
      },
      { maxWriteAttempts: 5, instanceId: "it", maxBufferedClicks: 1_000 },
    );
    const readiness = new Readiness(
      { model, data, clock: systemClock },
      { requireModel: false, maxDataAgeMs: 60_000 },
    );
    const app = createApp({
      online,
      events,
      readiness,
      model,
      logger,
      metrics,
      config: {
        clients: [{ name: "it", key: API_KEY, quota: { ratePerSecond: 100, burst: 100 } }],
        authFailureQuota: { ratePerSecond: 1, burst: 20 },
        trustProxyHops: 0,
        corsOrigins: [],
        bodyLimitBytes: 65_536,
        requestTimeoutMs: 10_000,
        serviceVersion: "it",
      },
    });
    const { server, url } = await listen(app, { port: 0, host: "127.0.0.1" });
    try {
      const before = await json(await post(`${url}/predict`, { userId: userId(50), k: 3 }));
      expect(before).toMatchObject({ fallback: "unknown-reader" });
      const shown = before.items[0].page as string;
      const click = { type: "click", userId: userId(50), page: shown, eventId: "it-1" };
      expect(await json(await post(`${url}/events`, { events: [click] }))).toMatchObject({ attributed: 1 });
      // The retry (another receipt time, same id) adds nothing: one click filed.
      expect(await json(await post(`${url}/events`, { events: [click] }))).toMatchObject({
        accepted: 0,
        duplicates: 1,
      });
      const after = await json(await post(`${url}/predict`, { userId: userId(50), k: 30 }));
      expect(after).toMatchObject({ fallback: "no-model" });
      expect(after.items.map((i: { page: string }) => i.page)).not.toContain(shown);

      expect(await events.close()).toBe(1);
      const listed = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: env.buckets.raw, Prefix: "raw/api-events/dt=" }),
      );
      const key = listed.Contents?.[0]?.Key as string;
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: env.buckets.raw, Key: key }));
      const lines = ((await object.Body?.transformToString()) ?? "").trimEnd().split("\n");
      expect(lines[0]).toBe(RAW_HEADERS.treino.join(","));
      expect(lines[1]).toContain(shown);

      // The impression log: both served lists and the click, credited to the first list, in one file.
      expect(await impressions.close()).toBe(3);
      const logged = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: env.buckets.raw, Prefix: API_IMPRESSIONS_PREFIX }),
      );
      const logKey = logged.Contents?.[0]?.Key as string;
      const log = await clients.s3.send(new GetObjectCommand({ Bucket: env.buckets.raw, Key: logKey }));
      const rows = ((await log.Body?.transformToString()) ?? "").trimEnd().split("\n");
      expect(rows[0]).toBe(RAW_HEADERS.impressions.join(","));
      expect(rows.find((row) => row.startsWith("click,"))).toMatch(
        new RegExp(`^click,${before.impressionId},${userId(50)},\\d+,coldstart,none,coldstart,${shown},,$`),
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
