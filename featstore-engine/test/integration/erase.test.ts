import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
} from "@aws-sdk/client-s3";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  API_IMPRESSIONS_PREFIX,
  coldstartListId,
  decodeProcessedParquet,
  ERASURE_REWRITE_METADATA,
  ERASURE_STORES,
  encodeProcessedParquet,
  erasureAuditSchema,
  erasureHash,
  type ImpressionLogRow,
  impressionLogFields,
  processedKeys,
  RAW_HEADERS,
  snapshotManifestSchema,
} from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DynamoErasureTables } from "../../src/adapters/dynamo-erasure-tables.js";
import { S3VersionedStore } from "../../src/adapters/s3-versioned-store.js";
import {
  AGGREGATES_KEY,
  buildSnapshot,
  type SnapshotResult,
  WRITTEN_LISTS_KEY,
} from "../../src/app/build-snapshot.js";
import { type EraseDeps, eraseReaders, proveErased } from "../../src/app/erase.js";
import type { VersionedObjectStore } from "../../src/app/erasure-ports.js";
import { ingestFile } from "../../src/app/ingest-file.js";
import { ingestFiles } from "../../src/app/ingest-files.js";
import { formatCsvRecord } from "../../src/domain/csv.js";
import { ErasedReaders } from "../../src/domain/erasure.js";
import { formatTreinoFields } from "../../src/domain/raw-format.js";
import {
  decodeReaderIndexEntry,
  formatReaderIndexEntry,
  READER_INDEX_PREFIX,
  type ReaderIndexEntry,
  readerIndexHash,
} from "../../src/domain/reader-index.js";
import { createTestEnvironment, generate, silentLogger, type TestEnvironment } from "./support.js";

const TIMEOUT = 600_000;
const hex64 = (n: number, tag: string) => `${tag}${n.toString(16)}`.padEnd(64, "0").slice(0, 64);

/** Every occurrence of the ids in every store, read independently of the erasure's own scan. */
async function occurrences(t: TestEnvironment, ids: readonly string[]): Promise<Record<string, number>> {
  const lower = ids.map((id) => id.toLowerCase());
  const counts: Record<string, number> = {};
  const add = (store: string, n: number) => {
    counts[store] = (counts[store] ?? 0) + n;
  };
  for (const bucket of Object.values(t.env.buckets)) {
    const out = await t.clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    for (const v of out.Versions ?? []) {
      const got = await t.clients.s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: v.Key,
          ...(v.VersionId && v.VersionId !== "null" ? { VersionId: v.VersionId } : {}),
        }),
      );
      const bytes = await (
        got.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      const key = v.Key as string;
      if (key.endsWith(".parquet")) {
        const dataset = key.includes("/interactions/")
          ? "interactions"
          : key.includes("/validation/")
            ? "validation"
            : key.includes("/impressions/")
              ? "impressions"
              : undefined;
        if (dataset === undefined) continue;
        const rows: readonly { userId?: string }[] = await decodeProcessedParquet(dataset, bytes);
        add(dataset, rows.filter((r) => r.userId !== undefined && lower.includes(r.userId)).length);
      } else {
        const text = Buffer.from(bytes).toString("utf8").toLowerCase();
        add(
          bucket.endsWith("-raw") ? "raw" : (key.split("/")[1] ?? key),
          lower.filter((id) => text.includes(id)).length,
        );
      }
    }
  }
  const users = await t.scanTable("users");
  add("users", users.filter((u) => lower.includes(String(u.userId))).length);
  const events = await t.scanTable("eventIds");
  add("event-ids", events.filter((e) => lower.includes(String(e.eventKey).split("#")[0] ?? "")).length);
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Rows per dataset of readers other than `ids`, and their users items. */
async function otherRows(t: TestEnvironment, ids: readonly string[]) {
  const out = { interactions: 0, validation: 0, users: 0 };
  for (const dataset of ["interactions", "validation"] as const) {
    for await (const o of t.ingestDeps().objects.list(t.env.buckets.processed, `processed/${dataset}/`)) {
      const got = await t.clients.s3.send(
        new GetObjectCommand({ Bucket: t.env.buckets.processed, Key: o.key }),
      );
      const bytes = await (
        got.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      out[dataset] += (await decodeProcessedParquet(dataset, bytes)).filter(
        (r) => !ids.includes(r.userId),
      ).length;
    }
  }
  out.users = (await t.scanTable("users")).filter((u) => !ids.includes(String(u.userId))).length;
  return out;
}

describe("erasing readers from every store", () => {
  let t: TestEnvironment;
  let files: Map<string, string>;
  let erased: string[];
  let heavy: string;
  let clickOnly: string;
  const unknownId = hex64(7, "feed");

  const eraseDeps = (versions: VersionedObjectStore = new S3VersionedStore(t.clients.s3)): EraseDeps => {
    const tables = new DynamoErasureTables(t.clients.documents, t.env.tables);
    return {
      versions,
      ledger: tables,
      tables,
      buckets: t.env.buckets,
      logger: silentLogger,
      snapshot: async (change) => {
        const r = await buildSnapshot(t.snapshotDeps(), change);
        return r.status === "built" ? r.manifest.snapshotId : undefined;
      },
    };
  };
  const ingest = () => ({
    ...t.ingestDeps(),
    erasure: {
      ledger: new DynamoErasureTables(t.clients.documents, t.env.tables),
      versions: new S3VersionedStore(t.clients.s3),
    },
  });

  beforeAll(async () => {
    t = await createTestEnvironment("erase");
    // As infra declares it: the raw bucket keeps versions.
    await t.clients.s3.send(
      new PutBucketVersioningCommand({
        Bucket: t.env.buckets.raw,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    const data = generate({ users: 150, seed: "erase", days: 2, malformed: true });
    files = new Map([...data.files].map(([path, body]) => [`raw/${path}`, body]));
    const pages = [
      ...(
        data.files.get([...data.files.keys()].find((k) => k.startsWith("itens/")) as string) ?? ""
      ).matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g),
    ].map((m) => m[0]);
    // A reader with thousands of reads, and one known only from an api click file.
    heavy = hex64(1, "aa");
    clickOnly = hex64(2, "bb");
    const start = Date.parse("2022-07-01T00:00:00Z");
    const row = (userId: string, n: number) =>
      formatCsvRecord(
        formatTreinoFields({
          userId,
          userType: "Logged",
          history: Array.from({ length: n }, (_, i) => pages[i % pages.length] as string),
          timestampHistory: Array.from({ length: n }, (_, i) => start + i * 60_000),
          numberOfClicksHistory: Array(n).fill(1),
          timeOnPageHistory: Array(n).fill(1000),
          scrollPercentageHistory: Array(n).fill(50),
          pageVisitsCountHistory: Array(n).fill(1),
          timestampHistory_new: Array.from({ length: n }, (_, i) => start + i * 60_000),
        }),
      );
    const header = formatCsvRecord(RAW_HEADERS.treino);
    files.set("raw/treino/heavy.csv", header + row(heavy, 3_000));
    files.set("raw/api-events/dt=2022-07-02/clicks-1.csv", header + row(clickOnly, 3));
    // The api's impression log: a list served to the click-only reader, their click on it, and an
    // anonymous /coldstart list (no reader: it must stay).
    const listed = pages.slice(0, 3);
    const served = "5f0c7a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6";
    files.set(
      `${API_IMPRESSIONS_PREFIX}dt=2022-07-02/impressions-1.csv`,
      formatCsvRecord(RAW_HEADERS.impressions) +
        [
          {
            eventType: "served",
            impressionId: served,
            userId: clickOnly,
            modelVersion: "1",
            arm: "champion",
            strategy: "model",
            pages: listed,
            scores: [0.3, 0.2, 0.1],
            latencyMs: 4,
          },
          {
            eventType: "click",
            impressionId: served,
            userId: clickOnly,
            modelVersion: "1",
            arm: "champion",
            strategy: "model",
            pages: listed.slice(0, 1),
            scores: [],
          },
          {
            eventType: "served",
            impressionId: "6a1d8b2f-3c4e-4d6f-9a01-b2c3d4e5f6a7",
            modelVersion: "coldstart",
            arm: "none",
            strategy: "coldstart",
            pages: listed,
            scores: [0.5, 0.33, 0.25],
            latencyMs: 1,
          },
        ]
          .map((r, i) =>
            formatCsvRecord(
              impressionLogFields({ ...r, timestamp: start + 86_400_000 + i * 1_000 } as ImpressionLogRow),
            ),
          )
          .join(""),
    );
    // An older version of a raw object holds a reader too (versioning keeps it).
    await t.putRaw("raw/treino/heavy.csv", header + row(heavy, 5));
    for (const [key, body] of files) await t.putRaw(key, body);
    const keys = [...files.keys()].sort((a, b) =>
      a.includes("itens") ? -1 : b.includes("itens") ? 1 : a < b ? -1 : 1,
    );
    await ingestFiles(
      ingest(),
      keys.map((key) => ({ bucket: t.env.buckets.raw, key })),
    );
    await buildSnapshot(t.snapshotDeps());
    const treino = [...files].filter(([k]) => k.startsWith("raw/treino/treino-"));
    const someIds = [
      ...new Set(
        treino.flatMap(([, body]) => [...body.matchAll(/^([0-9a-f]{64}),/gm)].map((m) => m[1] as string)),
      ),
    ];
    erased = [heavy, clickOnly, ...someIds.slice(0, 8)];
    expect(erased).toHaveLength(10);
  }, TIMEOUT);
  afterAll(async () => {
    // Versions first: the environment's teardown empties buckets of their current objects only.
    const out = await t?.clients.s3.send(new ListObjectVersionsCommand({ Bucket: t.env.buckets.raw }));
    const store = new S3VersionedStore(t.clients.s3);
    for (const v of out?.Versions ?? [])
      await store.deleteVersion(t.env.buckets.raw, v.Key as string, v.VersionId as string);
    await t?.destroy();
  }, TIMEOUT);

  it(
    "the proof reads every store: a reader id in any of them is found there (before any erasure)",
    async () => {
      const versions = new S3VersionedStore(t.clients.s3);
      // What ingestion does not write: an MLflow text artifact and an api event id naming a reader.
      await versions.putWithMetadata(
        t.env.buckets.models,
        "mlflow/1/proof-run/artifacts/top-readers.json",
        JSON.stringify({ top: [heavy] }),
        "application/json",
        {},
      );
      await t.clients.documents.send(
        new PutCommand({ TableName: t.env.tables.eventIds, Item: { eventKey: `${clickOnly}#proof-1` } }),
      );
      // A reader of the validation file, and one named by a quarantined row.
      const validacao = [...files].find(([k]) => k.includes("validacao"))?.[1] ?? "";
      const validationId = /^([0-9a-f]{64}),/m.exec(validacao)?.[1];
      let quarantineId: string | undefined;
      for await (const v of versions.listVersions(t.env.buckets.processed, "processed/quarantine/")) {
        const text = Buffer.from(
          await versions.readVersion(t.env.buckets.processed, v.key, v.versionId),
        ).toString("utf8");
        quarantineId ??= /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/.exec(text)?.[0];
      }
      expect(validationId).toBeDefined();
      expect(quarantineId).toBeDefined();
      const readers = [...erased, validationId as string, quarantineId as string];

      const remaining = await proveErased(
        {
          versions,
          tables: new DynamoErasureTables(t.clients.documents, t.env.tables),
          buckets: t.env.buckets,
        },
        new ErasedReaders(
          readers.map((id) => erasureHash(id)),
          readers,
        ),
      );
      // Every store, the old raw versions and the reader index included: none left unread.
      expect(ERASURE_STORES.filter((store) => remaining[store] === 0)).toEqual([]);
      // And a reader no store holds is found nowhere.
      const nobody = await proveErased(
        {
          versions,
          tables: new DynamoErasureTables(t.clients.documents, t.env.tables),
          buckets: t.env.buckets,
        },
        new ErasedReaders([erasureHash(unknownId)], [unknownId]),
      );
      expect(Object.values(nobody).every((n) => n === 0)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "removes ten readers everywhere, keeps them out of re-delivered files, and leaves the others unchanged",
    async () => {
      const before = await occurrences(t, erased);
      expect(before.raw).toBeGreaterThan(0);
      expect(before.interactions).toBeGreaterThan(0);
      expect(before.impressions).toBe(2); // the served list and the click, in processed/impressions
      expect(before.users).toBeGreaterThanOrEqual(10);
      const othersBefore = await otherRows(t, erased);

      const result = await eraseReaders(eraseDeps(), { userIds: [...erased, unknownId.toUpperCase()] });
      expect(result.unknown).toEqual([unknownId]);
      expect(result.readers).toBe(10);
      expect(Object.values(result.audit.verification).every((n) => n === 0)).toBe(true);
      expect(result.audit.stores.raw.rewritten).toBeGreaterThan(0);
      expect(result.audit.stores["raw-versions"].rewritten).toBeGreaterThan(0);
      expect(result.audit.supersededManifests).toBe(1);
      expect(await occurrences(t, erased)).toEqual(expect.objectContaining({ users: 0 }));
      expect(total(await occurrences(t, erased))).toBe(0);
      // The audit names no reader; the unknown id changed nothing (no ledger entry).
      const auditText = await (
        await t.clients.s3.send(
          new GetObjectCommand({ Bucket: t.env.buckets.processed, Key: result.auditKey }),
        )
      ).Body?.transformToString();
      expect(erasureAuditSchema.parse(JSON.parse(auditText ?? "{}")).readers).toBe(10);
      for (const id of erased) expect(auditText).not.toContain(id);
      const ledger = await t.scanTable("erasures");
      expect(ledger).toHaveLength(10);
      expect(ledger.map((e) => e.userHash)).not.toContain(erasureHash(unknownId));
      expect(ledger.every((e) => e.status === "erased")).toBe(true);
      // The old manifest is superseded; the latest points at a new snapshot over the rewritten partitions.
      const manifests = [];
      for await (const o of t.ingestDeps().objects.list(t.env.buckets.processed, "processed/snapshots/"))
        if (o.key.endsWith("manifest.json")) {
          const body = await (
            await t.clients.s3.send(new GetObjectCommand({ Bucket: t.env.buckets.processed, Key: o.key }))
          ).Body?.transformToString();
          manifests.push(snapshotManifestSchema.parse(JSON.parse(body ?? "{}")));
        }
      expect(manifests.filter((m) => m.supersededBy !== undefined)).toHaveLength(1);
      expect(manifests.find((m) => m.snapshotId === result.audit.snapshotId)?.supersededBy).toBeUndefined();

      // An erasure's rewrite starts no ingestion.
      const rewritten = await t.clients.s3.send(
        new HeadObjectCommand({ Bucket: t.env.buckets.raw, Key: "raw/treino/heavy.csv" }),
      );
      expect(rewritten.Metadata?.[ERASURE_REWRITE_METADATA]).toBe(result.requestId);
      expect(
        (await ingestFile(ingest(), { bucket: t.env.buckets.raw, key: "raw/treino/heavy.csv" })).status,
      ).toBe("erasure-rewrite");

      // Re-delivered originals (same bytes, same keys) and a copy under a new key: still nothing.
      for (const [key, body] of files) await t.putRaw(key, body);
      await t.putRaw("raw/redelivered/heavy.csv", files.get("raw/treino/heavy.csv") as string);
      const redelivered = [...files.keys(), "raw/redelivered/heavy.csv"].sort();
      for (const key of redelivered) await ingestFile(ingest(), { bucket: t.env.buckets.raw, key });
      expect(await occurrences(t, erased)).toEqual(
        expect.objectContaining({ raw: 0, interactions: 0, validation: 0, users: 0 }),
      );
      expect(total(await occurrences(t, erased))).toBe(0);

      // The next snapshot builds; every other reader's rows are as they were.
      const next = await buildSnapshot(t.snapshotDeps());
      expect(["built", "unchanged"]).toContain(next.status);
      expect(await otherRows(t, erased)).toEqual(othersBefore);
    },
    TIMEOUT,
  );

  it(
    "a run that crashes half-way leaves the ledger entry, and running it again finishes the erasure",
    async () => {
      const [victim] = [
        ...(files.get([...files.keys()].find((k) => k.includes("treino-")) as string) ?? "").matchAll(
          /^([0-9a-f]{64}),/gm,
        ),
      ]
        .map((m) => m[1] as string)
        .filter((id) => !erased.includes(id));
      expect(victim).toBeDefined();
      const real = new S3VersionedStore(t.clients.s3);
      let puts = 0;
      const crashing: VersionedObjectStore = {
        listVersions: (b, p) => real.listVersions(b, p),
        readVersion: (b, k, v) => real.readVersion(b, k, v),
        deleteVersion: (b, k, v) => real.deleteVersion(b, k, v),
        putWithMetadata: async (...args) => {
          puts += 1;
          if (puts > 1) throw new Error("task stopped");
          return real.putWithMetadata(...args);
        },
      };
      await expect(eraseReaders(eraseDeps(crashing), { userIds: [victim as string] })).rejects.toThrow(
        "task stopped",
      );
      expect(total(await occurrences(t, [victim as string]))).toBeGreaterThan(0);
      const ledger = await t.scanTable("erasures");
      const entry = ledger.find((e) => e.userHash === erasureHash(victim as string));
      expect(entry?.status).toBe("requested");

      const again = await eraseReaders(eraseDeps(), { pending: true });
      expect(again.readers).toBe(1);
      expect(total(await occurrences(t, [victim as string]))).toBe(0);
      const after = (await t.scanTable("erasures")).find((e) => e.userHash === erasureHash(victim as string));
      expect(after).toMatchObject({ status: "erased", erasedAt: entry?.erasedAt });
    },
    TIMEOUT,
  );

  it(
    "writes a reader's ledger entry and deletes its users item before any rewrite, and a re-run after a crash mid-rewrite rewrites only what is left",
    async () => {
      // A reader found in the first treino file only (whose index entry the crash above left stale:
      // the objects of other raw files, which the later tests' entries cover, stay untouched), with one
      // read (the snapshot test below picks one with more), not the crash test's.
      const firstKey = [...files.keys()].filter((k) => k.includes("treino-")).sort()[0] as string;
      const elsewhere = [...files].filter(([key]) => key !== firstKey).map(([, body]) => body);
      const victim = [...(files.get(firstKey) ?? "").matchAll(/^([0-9a-f]{64}),"?Logged"?,(\d+),/gm)]
        .filter((m) => !erased.includes(m[1] as string))
        .slice(1)
        .find((m) => m[2] === "1" && !elsewhere.some((body) => body.includes(m[1] as string)))?.[1];
      expect(victim).toBeDefined();
      const id = victim as string;
      const before = await occurrences(t, [id]);
      expect(before.raw).toBeGreaterThan(0);
      expect(before.interactions).toBeGreaterThan(0);
      expect(before.users).toBe(1);
      const real = new S3VersionedStore(t.clients.s3);
      const tables = new DynamoErasureTables(t.clients.documents, t.env.tables);
      /** What the run did, in order: ledger entries, users deleted, lake objects written. */
      const events: string[] = [];
      const lake = (bucket: string, key: string) =>
        bucket === t.env.buckets.raw ||
        /^processed\/(interactions|validation|impressions|quarantine)\//.test(key);
      const recording = (crashAfter: number): { deps: EraseDeps; written: string[] } => {
        const written: string[] = [];
        const versions: VersionedObjectStore = {
          listVersions: (b, p) => real.listVersions(b, p),
          readVersion: (b, k, v) => real.readVersion(b, k, v),
          deleteVersion: (b, k, v) => {
            if (lake(b, k)) events.push(`delete ${k}`);
            return real.deleteVersion(b, k, v);
          },
          putWithMetadata: async (...args) => {
            const [bucket, key] = args;
            if (lake(bucket, key)) {
              if (written.length >= crashAfter) throw new Error("task stopped");
              events.push(`write ${key}`);
              written.push(key);
            }
            return real.putWithMetadata(...args);
          },
        };
        return {
          written,
          deps: {
            ...eraseDeps(versions),
            ledger: {
              listEntries: () => tables.listEntries(),
              markErased: (hashes, at) => tables.markErased(hashes, at),
              addEntries: (entries) => {
                if (entries.some((e) => e.userHash === erasureHash(id))) events.push("ledger");
                return tables.addEntries(entries);
              },
            },
            tables: {
              existingUsers: (ids) => tables.existingUsers(ids),
              eventKeys: () => tables.eventKeys(),
              deleteEventKeys: (keys) => tables.deleteEventKeys(keys),
              markIngestionErased: (source, at) => tables.markIngestionErased(source, at),
              deleteUsers: (ids) => {
                if (ids.includes(id)) events.push("users");
                return tables.deleteUsers(ids);
              },
            },
          },
        };
      };

      // The task stops after its first lake object is rewritten.
      const crashed = recording(1);
      await expect(eraseReaders(crashed.deps, { userIds: [id] })).rejects.toThrow("task stopped");
      expect(crashed.written).toHaveLength(1);
      expect(events.slice(0, 2)).toEqual(["ledger", "users"]);
      expect(events.filter((e) => e.startsWith("write ")).length).toBe(1);
      const entry = (await t.scanTable("erasures")).find((e) => e.userHash === erasureHash(id));
      expect(entry?.status).toBe("requested");
      const left = await occurrences(t, [id]);
      expect(left.users).toBe(0);
      expect(total(left)).toBeGreaterThan(0);
      expect(total(left)).toBeLessThan(total(before));

      // The re-run (same id: the ledger knows it, so it is not unknown) rewrites only what is left.
      events.length = 0;
      const again = recording(Number.POSITIVE_INFINITY);
      const result = await eraseReaders(again.deps, { userIds: [id] });
      expect(result).toMatchObject({ readers: 1, unknown: [] });
      expect(again.written.length).toBeGreaterThan(0);
      expect(again.written.filter((key) => crashed.written.includes(key))).toEqual([]);
      expect(events).not.toContain("ledger");
      expect(total(await occurrences(t, [id]))).toBe(0);
      const after = (await t.scanTable("erasures")).find((e) => e.userHash === erasureHash(id));
      expect(after).toMatchObject({ status: "erased", erasedAt: entry?.erasedAt });
    },
    TIMEOUT,
  );

  it(
    "reads each object version once: the rewrite follows the scan's read, and the proof reads neither what the scan read clean nor what the run wrote",
    async () => {
      const victim = [
        ...(
          files.get([...files.keys()].filter((k) => k.includes("treino-")).at(-1) as string) ?? ""
        ).matchAll(/^([0-9a-f]{64}),/gm),
      ]
        .map((m) => m[1] as string)
        .find((id) => !erased.includes(id));
      expect(victim).toBeDefined();
      const real = new S3VersionedStore(t.clients.s3);
      const reads = new Map<string, number>();
      const written = new Set<string>();
      const lists: string[] = [];
      const counting: VersionedObjectStore = {
        listVersions: (b, p) => {
          lists.push(p);
          return real.listVersions(b, p);
        },
        readVersion: (b, k, v) => {
          reads.set(`${b}/${k}@${v}`, (reads.get(`${b}/${k}@${v}`) ?? 0) + 1);
          return real.readVersion(b, k, v);
        },
        deleteVersion: (b, k, v) => real.deleteVersion(b, k, v),
        putWithMetadata: (...args) => {
          written.add(`${args[0]}/${args[1]}@null`);
          return real.putWithMetadata(...args);
        },
      };
      const result = await eraseReaders(eraseDeps(counting), { userIds: [victim as string] });
      expect(result.readers).toBe(1);
      expect(result.audit.stores.raw.rewritten).toBeGreaterThan(0);
      expect(total(await occurrences(t, [victim as string]))).toBe(0);
      expect(reads.size).toBeGreaterThan(files.size);
      // Every lake object version is read once, those rewritten in place (an unversioned bucket's
      // version "null") included: the proof does not read back what the run wrote from bytes it checked.
      // Only an index entry rewritten in place is read again (the proof reloads the index).
      expect(
        [...reads].filter(
          ([key, n]) => n > (key.includes(`/${READER_INDEX_PREFIX}`) && written.has(key) ? 2 : 1),
        ),
      ).toEqual([]);
      // Each zone is listed once by the locate step and once by the proof; the stores' prefixes are
      // taken from those listings (moto copies every version of a bucket on each ListObjectVersions).
      expect(lists.filter((p) => p === "processed/")).toHaveLength(2);
      expect(lists.filter((p) => p === "raw/")).toHaveLength(2);
      expect(
        lists.filter((p) => /^processed\/(interactions|validation|impressions|quarantine)\//.test(p)),
      ).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "the erasure's snapshot subtracts the reader from the previous one without reading a partition, writes only the lists that changed, and equals a full recompute",
    async () => {
      const victim = [
        ...(files.get([...files.keys()].filter((k) => k.includes("treino-")).at(0) as string) ?? "").matchAll(
          /^([0-9a-f]{64}),"?Logged"?,(\d+),/gm,
        ),
      ]
        .filter((m) => Number(m[2]) > 1)
        .map((m) => m[1] as string)
        .find((id) => !erased.includes(id));
      expect(victim).toBeDefined();
      const lists = async () =>
        new Map((await t.scanTable("coldstart")).map((l) => [String(l.listId), JSON.stringify(l.entries)]));
      let written = 0;
      const writtenIds: string[] = [];
      const reads: string[] = [];
      const counted = () => {
        const deps = t.snapshotDeps();
        const putColdstart = deps.features.putColdstart.bind(deps.features);
        deps.features.putColdstart = (items, onWritten) => {
          written += items.length;
          for (const i of items) writtenIds.push(String(i.listId));
          return putColdstart(items, onWritten);
        };
        const read = deps.objects.read.bind(deps.objects);
        deps.objects.read = (bucket, key) => {
          reads.push(key);
          return read(bucket, key);
        };
        return deps;
      };
      // A full snapshot first: its aggregates are those of the lake as the other tests left it.
      await buildSnapshot(t.snapshotDeps());
      const before = await lists();
      let incremental: SnapshotResult | undefined;
      const result = await eraseReaders(
        {
          ...eraseDeps(),
          snapshot: async (change) => {
            incremental = await buildSnapshot(counted(), change);
            return incremental.status === "built" ? incremental.manifest.snapshotId : undefined;
          },
        },
        { userIds: [victim as string] },
      );
      expect(result.audit.snapshotId).toBeDefined();
      expect(incremental && "fallback" in incremental ? incremental.fallback : undefined).toBeUndefined();
      expect(incremental).toMatchObject({ status: "built", mode: "erasure" });
      expect(reads.filter((k) => k.endsWith(".parquet"))).toEqual([]);
      const after = await lists();
      // Written: the popularity lists (always: they carry the snapshot's id) and exactly the
      // co-visitation lists whose entries the reader changed; every other co-visitation list is kept.
      const covisit = coldstartListId.covisit("");
      const changed = [...after.keys()].filter((id) => before.get(id) !== after.get(id));
      const writtenCovisit = writtenIds.filter((id) => id.startsWith(covisit));
      expect(changed.filter((id) => !writtenIds.includes(id))).toEqual([]);
      expect(writtenCovisit.filter((id) => !changed.includes(id))).toEqual([]);
      expect(written).toBeLessThan(after.size);

      // Forget the note, the latest pointer and the aggregates: the full recompute over the scrubbed
      // lake gives the same snapshot (partitions, totals, as-of, digest) and leaves the same lists.
      for (const key of [WRITTEN_LISTS_KEY, processedKeys.latestSnapshot(), AGGREGATES_KEY])
        await t.clients.s3.send(new DeleteObjectCommand({ Bucket: t.env.buckets.processed, Key: key }));
      written = 0;
      reads.length = 0;
      const full = await buildSnapshot(counted());
      expect(full).toMatchObject({ status: "built", mode: "full" });
      if (full.status !== "built" || incremental?.status !== "built") throw new Error("not built");
      const { createdAt: _a, ...fullManifest } = full.manifest;
      const { createdAt: _b, ...incrementalManifest } = incremental.manifest;
      expect(incrementalManifest).toEqual(fullManifest);
      expect(reads.filter((k) => k.endsWith(".parquet")).length).toBeGreaterThan(0);
      expect(written).toBeGreaterThanOrEqual(after.size - 50);
      expect(await lists()).toEqual(after);
    },
    TIMEOUT,
  );

  it(
    "an erasure's snapshot recomputes in full when the lake changed since the previous snapshot",
    async () => {
      const treino = [...files.keys()].filter((k) => k.includes("treino-")).sort();
      const candidates = [
        ...(files.get(treino[Math.floor(treino.length / 2)] as string) ?? "").matchAll(/^([0-9a-f]{64}),/gm),
      ]
        .map((m) => m[1] as string)
        .filter((id) => !erased.includes(id))
        .slice(10);
      let victim: string | undefined;
      for (const id of candidates)
        if (((await occurrences(t, [id])).interactions ?? 0) > 0) {
          victim = id;
          break;
        }
      expect(victim).toBeDefined();
      // A partition changed behind the snapshot's back (its aggregates no longer describe the lake).
      const partitions: string[] = [];
      for await (const o of t.ingestDeps().objects.list(t.env.buckets.processed, "processed/validation/"))
        partitions.push(o.key);
      const touched = partitions[0] as string;
      const got = await t.clients.s3.send(
        new GetObjectCommand({ Bucket: t.env.buckets.processed, Key: touched }),
      );
      const rows = await decodeProcessedParquet(
        "validation",
        await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      await t
        .ingestDeps()
        .objects.put(
          t.env.buckets.processed,
          touched,
          encodeProcessedParquet("validation", rows.slice(1)),
          "application/vnd.apache.parquet",
        );
      let built: SnapshotResult | undefined;
      await eraseReaders(
        {
          ...eraseDeps(),
          snapshot: async (change) => {
            built = await buildSnapshot(t.snapshotDeps(), change);
            return built.status === "built" ? built.manifest.snapshotId : undefined;
          },
        },
        { userIds: [victim as string] },
      );
      expect(built).toMatchObject({
        status: "built",
        mode: "full",
        fallback: "the lake's partitions changed",
      });
      if (built?.status !== "built") throw new Error("not built");
      expect(built.manifest.partitions.find((p) => p.key === touched)?.rows).toBe(
        rows.slice(1).filter((r) => r.userId !== victim).length,
      );
    },
    TIMEOUT,
  );

  it(
    "finds readers through the reader index, reads its objects only, and still finds those whose entry is missing or stale",
    async () => {
      const objects = t.ingestDeps().objects;
      const bucket = t.env.buckets.processed;
      const entries = async () => {
        const out: { key: string; entry: ReaderIndexEntry }[] = [];
        for await (const o of objects.list(bucket, READER_INDEX_PREFIX)) {
          const got = await t.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
          const entry = decodeReaderIndexEntry((await got.Body?.transformToString()) ?? "");
          if (entry !== undefined) out.push({ key: o.key, entry });
        }
        return out;
      };
      const naming = <T extends { entry: ReaderIndexEntry }>(all: T[], id: string) =>
        all.filter(({ entry }) => entry.readers.includes(readerIndexHash(erasureHash(id))));
      // Ingestion wrote an entry per raw version; none holds an id in clear.
      const before = await entries();
      expect(before.length).toBeGreaterThanOrEqual(files.size);
      for (const { entry } of before) expect(JSON.stringify(entry)).not.toMatch(/[0-9a-f]{64}/);

      // Two readers, each in one treino file only, not used by the other tests.
      const treino = [...files.keys()].filter((k) => k.includes("treino-")).sort();
      expect(treino.length).toBeGreaterThanOrEqual(2);
      const idsOf = (key: string) =>
        new Set([...(files.get(key) ?? "").matchAll(/^([0-9a-f]{64}),/gm)].map((m) => m[1] as string));
      const first = idsOf(treino[0] as string);
      const last = idsOf(treino.at(-1) as string);
      const fresh = (id: string) => !erased.includes(id) && naming(before, id).length > 0;
      // (The first file's entry names a stale etag since the crashed run above: its raw object is read.)
      const missing = [...first].slice(30).find((id) => !last.has(id) && fresh(id));
      const [plain, stale] = [...last].slice(30).filter((id) => !first.has(id) && fresh(id));
      if (plain === undefined || missing === undefined || stale === undefined)
        throw new Error("the generated lake has no readers to pick");

      // With the index intact: its entries are rewritten without the reader and with the new etags.
      const plainEntries = naming(before, plain);
      const alone = await eraseReaders(eraseDeps(), { userIds: [plain] });
      expect(alone.readers).toBe(1);
      expect(total(await occurrences(t, [plain]))).toBe(0);
      expect(alone.audit.stores["reader-index"].rewritten).toBeGreaterThanOrEqual(plainEntries.length);
      const rewrittenEntries = (await entries()).filter(({ key }) => plainEntries.some((e) => e.key === key));
      expect(rewrittenEntries).toHaveLength(plainEntries.length);
      expect(naming(rewrittenEntries, plain)).toEqual([]);
      for (const { entry } of rewrittenEntries)
        for (const o of entry.objects) {
          const head = await t.clients.s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }));
          expect(head.ETag?.replaceAll('"', "")).toBe(o.etag);
        }

      // The entries of `missing` go; those of `stale` name other etags and no longer name it (as if the
      // objects changed after the entry was written).
      const toDelete = naming(before, missing);
      const toTamper = naming(await entries(), stale);
      expect(toDelete.length).toBeGreaterThan(0);
      expect(toTamper.length).toBeGreaterThan(0);
      expect(toTamper.filter(({ key }) => toDelete.some((d) => d.key === key))).toEqual([]);
      for (const { key } of toDelete)
        await t.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      for (const { key, entry } of toTamper)
        await objects.put(
          bucket,
          key,
          formatReaderIndexEntry(
            entry.objects.map((o) => ({ ...o, etag: `${o.etag}-old` })),
            entry.readers.filter((h) => h !== readerIndexHash(erasureHash(stale))),
          ),
          "application/json",
        );

      const result = await eraseReaders(eraseDeps(), { userIds: [missing, stale] });
      expect(result).toMatchObject({ readers: 2, unknown: [] });
      expect(result.audit.stores.raw.rewritten).toBeGreaterThanOrEqual(2);
      expect(Object.values(result.audit.verification).every((n) => n === 0)).toBe(true);
      expect(total(await occurrences(t, [missing, stale]))).toBe(0);
      // The index saved reads: the objects it cleared were not read by the locate step.
      const partitions: string[] = [];
      for await (const o of objects.list(bucket, "processed/interactions/")) partitions.push(o.key);
      expect(result.audit.stores.interactions.scanned).toBeLessThan(partitions.length);
      expect(result.audit.stores["reader-index"].scanned).toBeGreaterThanOrEqual(
        before.length - naming(before, missing).length,
      );
      // No entry names them any more.
      const after = await entries();
      expect(naming(after, missing)).toEqual([]);
      expect(naming(after, stale)).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "refuses ids that are not reader ids, and reports unknown ones without writing anything",
    async () => {
      await expect(eraseReaders(eraseDeps(), { userIds: ["not-an-id"] })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
      const ledgerBefore = await t.scanTable("erasures");
      const result = await eraseReaders(eraseDeps(), { userIds: [hex64(9, "cafe")] });
      expect(result).toMatchObject({ readers: 0, unknown: [hex64(9, "cafe")] });
      expect(await t.scanTable("erasures")).toHaveLength(ledgerBefore.length);
      expect(result.audit.stores.raw.rewritten).toBe(0);
    },
    TIMEOUT,
  );
});

describe("the erasure ledger in batches", () => {
  let t: TestEnvironment;
  beforeAll(async () => {
    t = await createTestEnvironment("erase-ledger");
  }, TIMEOUT);
  afterAll(async () => {
    await t?.destroy();
  }, TIMEOUT);

  it(
    "writes 1,000 entries in batches, keeps an entry's first erasure time, and marks only entries it holds",
    async () => {
      const sent: string[] = [];
      const counting = {
        send: (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return t.clients.documents.send(command as never);
        },
      } as unknown as typeof t.clients.documents;
      const tables = new DynamoErasureTables(counting, t.env.tables);
      const entry = (n: number, at: string) => ({
        userHash: erasureHash(n.toString(16).padStart(64, "0")),
        erasedAt: at,
        status: "requested" as const,
        requestId: "erase-test",
        updatedAt: at,
      });
      const first = "2026-01-01T00:00:00.000Z";
      const later = "2026-02-01T00:00:00.000Z";
      // The api's admin route added reader 0 after the run's scan.
      await tables.addEntries([entry(0, first)]);
      sent.length = 0;
      const entries = Array.from({ length: 1_000 }, (_, n) => entry(n, later));
      await tables.addEntries(entries);
      // 10 BatchGetItem (100 keys) and 40 BatchWriteItem (25 items), not one request per reader.
      expect(sent.filter((c) => c === "PutCommand" || c === "UpdateCommand")).toEqual([]);
      expect(sent.length).toBeLessThanOrEqual(10 + 40);
      let ledger = new Map((await t.scanTable("erasures")).map((e) => [String(e.userHash), e]));
      expect(ledger.size).toBe(1_000);
      expect(ledger.get(entries[0]?.userHash as string)).toMatchObject({ erasedAt: first });
      expect(ledger.get(entries[999]?.userHash as string)).toMatchObject({ erasedAt: later });

      // A re-run (the same entries) writes nothing and changes no time.
      sent.length = 0;
      await tables.addEntries(entries);
      expect(sent.filter((c) => c === "BatchWriteCommand")).toEqual([]);

      // Marking: the entries held, whole; a hash the ledger does not hold is not created.
      const absent = erasureHash((5_000).toString(16).padStart(64, "0"));
      sent.length = 0;
      await tables.markErased([...entries.map((e) => e.userHash), absent], new Date(Date.parse(later) + 1));
      expect(sent.length).toBeLessThanOrEqual(11 + 40);
      ledger = new Map((await t.scanTable("erasures")).map((e) => [String(e.userHash), e]));
      expect(ledger.size).toBe(1_000);
      expect(ledger.has(absent)).toBe(false);
      expect([...ledger.values()].filter((e) => e.status !== "erased")).toEqual([]);
      expect(ledger.get(entries[0]?.userHash as string)).toMatchObject({ erasedAt: first, status: "erased" });
      expect(ledger.get(entries[1]?.userHash as string)).toMatchObject({
        erasedAt: later,
        requestId: "erase-test",
        updatedAt: "2026-02-01T00:00:00.001Z",
      });
    },
    TIMEOUT,
  );
});
