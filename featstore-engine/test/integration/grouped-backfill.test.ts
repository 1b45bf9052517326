import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { AppError, type IngestionReport } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestFiles } from "../../src/app/ingest-files.js";
import type { FeatureStore } from "../../src/app/ports.js";
import { createTestEnvironment, type GeneratedData, generate, type TestEnvironment } from "./support.js";

const TIMEOUT = 300_000;

/**
 * A backfill with `groupInteractions` merges the readers of consecutive treino objects and writes
 * each reader once per group. These tests hold that this changes nothing but the number of writes:
 * the lake objects are byte for byte those of the per-object path, the reader items the same (their
 * optimistic-concurrency `version` and `updatedAt` aside), the reports the same but for their writes,
 * and a crash in the middle of a group re-runs to that same state without duplicates.
 */
describe("a backfill merging readers across treino objects", () => {
  let data: GeneratedData;
  let perObject: TestEnvironment;
  let grouped: TestEnvironment;
  let crashed: TestEnvironment;
  let keys: string[];

  beforeAll(async () => {
    data = generate({ users: 150, seed: "grouped", days: 4, malformed: true });
    keys = [...data.files.keys()].map((p) => `raw/${p}`).sort();
    expect(keys.filter((k) => k.startsWith("raw/treino/"))).toHaveLength(4);
    perObject = await createTestEnvironment("per-object");
    grouped = await createTestEnvironment("grouped");
    crashed = await createTestEnvironment("grouped-crash");
    // Every environment ingests the raw objects of the first one, so the source ids (and with them
    // every lake key and Parquet byte) are the same in all three.
    for (const [path, body] of data.files) await perObject.putRaw(`raw/${path}`, body);
  }, TIMEOUT);
  afterAll(async () => {
    for (const t of [perObject, grouped, crashed]) await t?.destroy();
  }, TIMEOUT);

  const sources = () => keys.map((key) => ({ bucket: perObject.env.buckets.raw, key }));

  /** Every processed object: key → bytes (Parquet) or parsed JSON lines / report. */
  const processed = async (t: TestEnvironment) => {
    const out = new Map<string, unknown>();
    const list = await t.clients.s3.send(new ListObjectsV2Command({ Bucket: t.env.buckets.processed }));
    for (const { Key } of list.Contents ?? []) {
      const body = await t.clients.s3.send(new GetObjectCommand({ Bucket: t.env.buckets.processed, Key }));
      const bytes = await (
        body.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      const key = Key as string;
      if (key.startsWith("processed/ingestions/")) {
        // Times differ between runs; the writes are what grouping changes (compared apart).
        const {
          startedAt: _s,
          finishedAt: _f,
          writes: _w,
          group: _g,
          counts,
          ...report
        } = JSON.parse(Buffer.from(bytes).toString("utf8")) as IngestionReport;
        const { itemsWritten: _i, ...rest } = counts;
        out.set(key, { ...report, counts: rest });
      } else if (key.startsWith("processed/reader-index/")) {
        // An entry names the objects it covers in this environment's processed bucket.
        const entry = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
          objects: { bucket: string }[];
        };
        const objects = entry.objects.map((o) => ({
          ...o,
          bucket: o.bucket === t.env.buckets.processed ? "<processed>" : o.bucket,
        }));
        out.set(key, { ...entry, objects });
      } else out.set(key, Buffer.from(bytes).toString("base64"));
    }
    return out;
  };
  /** Reader items without what a write sets on its own (version, updatedAt). */
  const readers = async (t: TestEnvironment) =>
    new Map(
      (await t.scanTable("users")).map(({ version: _v, updatedAt: _u, ...item }) => [
        String(item.userId),
        item,
      ]),
    );
  const reports = async (t: TestEnvironment) =>
    (await t.scanTable("ingestions")).map((m) => `${String(m.key)} ${String(m.status)}`).sort();

  it(
    "writes each reader once and ends in the same lake objects, readers and reports as one object at a time",
    async () => {
      const one = await ingestFiles(perObject.ingestDeps(), sources());
      const many = await ingestFiles({ ...grouped.ingestDeps(), groupInteractions: 1_000_000 }, sources());
      expect(many.map((r) => [r.sourceId, r.status])).toEqual(one.map((r) => [r.sourceId, r.status]));
      expect(one.every((r) => r.status === "ingested")).toBe(true);

      const lakeOne = await processed(perObject);
      expect([...lakeOne.keys()].some((k) => k.startsWith("processed/quarantine/"))).toBe(true);
      expect(await processed(grouped)).toEqual(lakeOne);
      const readersOne = await readers(perObject);
      expect(readersOne.size).toBeGreaterThan(100);
      expect(await readers(grouped)).toEqual(readersOne);
      expect(await reports(grouped)).toEqual(await reports(perObject));

      // The writes: once per reader in the group, against once per reader per object.
      const written = (results: typeof one) =>
        results.reduce(
          (n, r) => n + (r.status === "ingested" && r.kind === "treino" ? r.counts.itemsWritten : 0),
          0,
        );
      expect(written(many)).toBe(readersOne.size);
      expect(written(one)).toBeGreaterThan(readersOne.size);
      const treinoReports = (await grouped.scanTable("ingestions")).filter((m) => m.kind === "treino");
      const last = JSON.parse(
        Buffer.from(
          await (
            (
              await grouped.clients.s3.send(
                new GetObjectCommand({
                  Bucket: grouped.env.buckets.processed,
                  Key: String(
                    treinoReports.sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1)).at(-1)?.reportKey,
                  ),
                }),
              )
            ).Body as { transformToByteArray(): Promise<Uint8Array> }
          ).transformToByteArray(),
        ).toString("utf8"),
      ) as IngestionReport;
      expect(last.group).toHaveLength(4);
      expect(last.writes.users?.written).toBe(readersOne.size);
    },
    TIMEOUT,
  );

  it(
    "re-runs a group that failed half-way to the same readers, without duplicates",
    async () => {
      const deps = { ...crashed.ingestDeps(), groupInteractions: 1_000_000, usersPerCheckpoint: 40 };
      const real = deps.features;
      let calls = 0;
      // The second batch of readers fails (as a lost task would): the first batch is written.
      const failing: FeatureStore = {
        getIngestion: (id) => real.getIngestion(id),
        putIngestion: (item) => real.putIngestion(item),
        upsertArticles: (items, onWritten) => real.upsertArticles(items, onWritten),
        putColdstart: (items, onWritten) => real.putColdstart(items, onWritten),
        mergeUsers: async (merges, onWritten) => {
          calls += 1;
          if (calls === 2) throw new AppError("RATE_LIMITED", "injected: the table throttled for too long");
          return real.mergeUsers(merges, onWritten);
        },
      };
      await expect(ingestFiles({ ...deps, features: failing }, sources())).rejects.toMatchObject({
        code: "RATE_LIMITED",
      });
      const left = await crashed.scanTable("ingestions");
      expect(left.filter((m) => m.kind === "treino").map((m) => m.status)).toEqual([
        "failed",
        "failed",
        "failed",
        "failed",
      ]);
      const partial = await readers(crashed);
      expect(partial.size).toBe(40);

      const rerun = await ingestFiles(deps, sources());
      // The articles were committed before the group: only they are skipped.
      expect(rerun.map((r) => r.status)).toEqual(
        keys.map((k) => (k.startsWith("raw/itens/") ? "already-ingested" : "ingested")),
      );
      expect(await readers(crashed)).toEqual(await readers(perObject));
      const all = await crashed.scanTable("ingestions");
      expect(all.every((m) => m.status === "succeeded")).toBe(true);
      // The readers the failed attempt wrote already hold their rows: read again, not rewritten.
      const treino = rerun.filter((r) => r.status === "ingested" && r.kind === "treino");
      const itemsWritten = treino.reduce(
        (n, r) => n + (r.status === "ingested" ? r.counts.itemsWritten : 0),
        0,
      );
      expect(itemsWritten).toBe((await readers(perObject)).size - 40);
    },
    TIMEOUT,
  );
});
