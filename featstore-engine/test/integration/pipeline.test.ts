import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { ingestionItemSchema, processedKeys, quarantineRecordSchema, sourceId } from "@gplay/common";
import { LocalTaskRunner } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { buildSnapshot } from "../../src/app/build-snapshot.js";
import { ingestFile } from "../../src/app/ingest-file.js";
import type { FeatureStore, ObjectStore } from "../../src/app/ports.js";
import {
  createTestEnvironment,
  type GeneratedData,
  generate,
  silentLogger,
  type TestEnvironment,
} from "./support.js";

/** Counts every write a use case makes through its ports. */
function countingPorts(deps: { objects: ObjectStore; features: FeatureStore }) {
  const writes: string[] = [];
  const counted =
    <A extends unknown[], R>(label: (...args: A) => string, call: (...args: A) => R) =>
    (...args: A): R => {
      writes.push(label(...args));
      return call(...args);
    };
  const objects: ObjectStore = {
    head: (b, k) => deps.objects.head(b, k),
    read: (b, k) => deps.objects.read(b, k),
    list: (b, p) => deps.objects.list(b, p),
    put: counted((_b, k, _body, _type) => `put ${k}`, deps.objects.put.bind(deps.objects)),
    delete: counted((_b, k) => `delete ${k}`, deps.objects.delete.bind(deps.objects)),
  };
  const features: FeatureStore = {
    getIngestion: (id) => deps.features.getIngestion(id),
    putIngestion: counted(
      (item) => `marker ${item.sourceId}`,
      deps.features.putIngestion.bind(deps.features),
    ),
    upsertArticles: counted(
      (items) => `articles ${items.length}`,
      deps.features.upsertArticles.bind(deps.features),
    ),
    mergeUsers: counted((merges) => `users ${merges.size}`, deps.features.mergeUsers.bind(deps.features)),
    putColdstart: counted(
      (items) => `coldstart ${items.length}`,
      deps.features.putColdstart.bind(deps.features),
    ),
  };
  return { writes, objects, features };
}

describe("ingestion through S3 → EventBridge → SQS → task runner → featstore-engine", () => {
  let t: TestEnvironment;
  let data: GeneratedData;
  let runner: LocalTaskRunner;

  beforeAll(async () => {
    t = await createTestEnvironment("ingest");
    data = generate({ users: 150, seed: "pipeline", days: 2, malformed: true });
    runner = LocalTaskRunner.forEnvironment("ingest", t.endpoints, t.env, {
      env: { GPLAY_PREFIX: t.env.prefix, GPLAY_SNAPSHOT_AFTER_INGEST: "false", LOG_LEVEL: "warn" },
      backoffSeconds: 0,
      waitTimeSeconds: 1,
      logger: silentLogger,
    });
    runner.start();
    for (const [path, body] of data.files) await t.putRaw(`raw/${path}`, body);
    const deadline = Date.now() + 240_000;
    while (runner.results.filter((r) => r.outcome === "succeeded").length < data.files.size) {
      const failed = runner.results.find((r) => r.outcome !== "succeeded");
      if (failed !== undefined) throw new Error(`task failed: ${failed.error}`);
      if (Date.now() > deadline) throw new Error("files were not all ingested in time");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 300_000);

  afterAll(async () => {
    await runner?.stop();
    await t?.destroy();
  }, 60_000);

  it("started one task per file with bucket, key and etag in the override variables", () => {
    const keys = runner.results.map((r) => r.overrides.GPLAY_SOURCE_KEY).sort();
    expect(keys).toEqual([...data.files.keys()].map((p) => `raw/${p}`).sort());
    for (const r of runner.results) {
      expect(r.overrides.GPLAY_SOURCE_BUCKET).toBe(t.env.buckets.raw);
      expect(r.overrides.GPLAY_SOURCE_ETAG).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it("reports per file exactly the generator's accepted, quarantined and dropped counts", async () => {
    const markers = (await t.scanTable("ingestions")).map((m) => ingestionItemSchema.parse(m));
    expect(markers).toHaveLength(data.files.size);
    for (const file of data.expected.files) {
      const marker = markers.find((m) => m.key === `raw/${file.path}`);
      expect(marker?.status).toBe("succeeded");
      expect(marker?.kind).toBe(file.kind);
      expect(marker?.counts).toMatchObject({
        rowsIn: file.rowsIn,
        rowsAccepted: file.rowsAccepted,
        rowsQuarantined: file.rowsQuarantined,
        elementsDropped: file.elementsDropped,
        elementsDroppedByReason: { EDITORIAL_ID: file.elementsDropped },
      });
    }
  });

  it("quarantines each malformed row with its reason code", async () => {
    const malformed = data.expected.files.filter((f) => f.rowsQuarantined > 0);
    expect(malformed.length).toBeGreaterThan(0);
    for (const file of malformed) {
      const key = `raw/${file.path}`;
      const head = await t.clients.s3.send(
        new ListObjectsV2Command({ Bucket: t.env.buckets.processed, Prefix: `processed/quarantine/${key}/` }),
      );
      expect(head.Contents).toHaveLength(1);
      const out = await t.clients.s3.send(
        new GetObjectCommand({ Bucket: t.env.buckets.processed, Key: head.Contents?.[0]?.Key }),
      );
      const records = (await out.Body?.transformToString())
        ?.trim()
        .split("\n")
        .map((line) => quarantineRecordSchema.parse(JSON.parse(line)));
      const byReason: Record<string, number> = {};
      for (const r of records ?? []) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
      expect(byReason).toEqual(file.byReason);
    }
  });

  it("stores every reader with exactly the generator's interactions after cleaning", async () => {
    const users = await t.scanTable("users");
    expect(users).toHaveLength(data.expected.totals.users);
    const perUser = data.expected.perUser ?? {};
    expect(Object.keys(perUser)).toHaveLength(users.length);
    for (const u of users) expect(u.interactionCount).toBe(perUser[u.userId as string]);
  });

  it("stores every article once, categorised", async () => {
    const items = await t.scanTable("items");
    expect(items).toHaveLength(data.expected.totals.items);
    const bySection: Record<string, number> = {};
    for (const i of items) bySection[i.section as string] = (bySection[i.section as string] ?? 0) + 1;
    expect(bySection).toEqual(data.expected.itemsBySection);
  });

  it("writes one Parquet partition per file", async () => {
    const out = await t.clients.s3.send(
      new ListObjectsV2Command({ Bucket: t.env.buckets.processed, Prefix: "processed/" }),
    );
    const partitions = (out.Contents ?? []).filter((o) => o.Key?.endsWith(".parquet"));
    expect(partitions).toHaveLength(data.files.size);
  });

  it("makes zero writes when an ingested object's event is delivered again", async () => {
    const [path] = [...data.files.keys()];
    const key = `raw/${path}`;
    const deps = t.ingestDeps();
    const counting = countingPorts(deps);
    const before = await t.scanUsers();
    const result = await ingestFile(
      { ...deps, objects: counting.objects, features: counting.features },
      {
        bucket: t.env.buckets.raw,
        key,
      },
    );
    expect(result.status).toBe("already-ingested");
    expect(counting.writes).toEqual([]);
    expect(await t.scanUsers()).toEqual(before);
    const head = await deps.objects.head(t.env.buckets.raw, key);
    expect(result.sourceId).toBe(sourceId(t.env.buckets.raw, key, head.etag));
  });

  it("builds a snapshot matching the generated data and announces it to training", async () => {
    const result = await buildSnapshot(t.snapshotDeps());
    expect(result.status).toBe("built");
    if (result.status !== "built") return;
    expect(result.manifest.totals.interactions).toBe(data.expected.totals.interactions);
    expect(result.manifest.totals.items).toBe(data.expected.totals.items);
    expect(result.manifest.totals.users).toBe(data.expected.totals.users);
    expect(result.manifest.asOf).toBe(data.expected.totals.newestInteraction);
    expect(result.manifest.partitions).toHaveLength(data.files.size);
    const lists = await t.scanTable("coldstart");
    const global24 = lists.find((l) => l.listId === "popular#global#24h");
    expect(((global24?.entries ?? []) as unknown[]).length).toBeGreaterThan(0);
    expect(lists.some((l) => String(l.listId).startsWith("covisit#"))).toBe(true);

    const received = await t.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: t.env.queues.training.url,
        WaitTimeSeconds: 5,
        MaxNumberOfMessages: 10,
      }),
    );
    const details = (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}").detail);
    expect(details).toContainEqual(
      expect.objectContaining({ snapshotId: result.manifest.snapshotId, manifestKey: result.manifestKey }),
    );
    expect(result.manifestKey).toBe(processedKeys.snapshotManifest(result.manifest.snapshotId));

    const again = await buildSnapshot(t.snapshotDeps());
    expect(again).toEqual({
      status: "unchanged",
      snapshotId: result.manifest.snapshotId,
      manifestKey: result.manifestKey,
    });
  }, 60_000);
});
