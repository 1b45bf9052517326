import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestFiles } from "../../src/app/ingest-files.js";
import { createTestEnvironment, type GeneratedData, generate, type TestEnvironment } from "./support.js";

/**
 * Backfills (`cli ingest --prefix`) validate the next object while the current one is written. These
 * tests hold that this overlap keeps the per-object guarantees: objects are committed in order, a bad
 * object changes nothing (and stops the run before the objects after it), and a re-run finishes the rest.
 */
describe.each([
  ["one object at a time", 0],
  ["treino objects merged per reader", 1_000_000],
])("pipelined backfill of several objects, %s", (_label, groupInteractions) => {
  let t: TestEnvironment;
  let data: GeneratedData;
  let treino: string[];

  beforeAll(async () => {
    t = await createTestEnvironment(groupInteractions === 0 ? "backfill" : "backfill-grouped");
    data = generate({ users: 200, seed: "backfill", days: 3 });
    treino = [...data.files.keys()].filter((p) => p.startsWith("treino/")).map((p) => `raw/${p}`);
    expect(treino).toHaveLength(3);
    for (const [path, body] of data.files) await t.putRaw(`raw/${path}`, body);
  }, 120_000);
  afterAll(async () => t?.destroy(), 60_000);

  const processed = async () =>
    ((await t.clients.s3.send(new ListObjectsV2Command({ Bucket: t.env.buckets.processed }))).Contents ?? [])
      .map((o) => o.Key as string)
      .sort();

  it("commits objects before a bad one, writes nothing of it, and stops there", async () => {
    const [first, second, third] = treino as [string, string, string];
    const bad = "raw/treino/zz-truncated.csv";
    const body = data.files.get(first.slice("raw/".length)) as string;
    // A quoted field left open: the file is truncated, so nothing of it may be written.
    await t.putRaw(bad, `${body.slice(0, body.length / 2)}"unterminated`);
    const order = [first, bad, second].map((key) => ({ bucket: t.env.buckets.raw, key }));
    const committed: string[] = [];
    await expect(
      ingestFiles({ ...t.ingestDeps(), groupInteractions }, order, undefined, (r) =>
        committed.push(r.status),
      ),
    ).rejects.toMatchObject({ code: "UNSUPPORTED_INPUT" });
    expect(committed).toEqual(["ingested"]);
    const keys = await processed();
    expect(keys.filter((k) => k.startsWith("processed/ingestions/") || k.includes("/source="))).toHaveLength(
      2,
    );
    expect(keys.some((k) => k.includes("zz-truncated"))).toBe(false);
    // Each attempt has its row: the first succeeded, the bad one refused (and nothing after it tried).
    const markers = await t.scanTable("ingestions");
    expect(markers.map((m) => [m.key, m.status]).sort()).toEqual([
      [first, "succeeded"],
      [bad, "refused"],
    ]);

    // The rest of the backfill: the ingested object is skipped with zero writes, the others land.
    const results = await ingestFiles(
      { ...t.ingestDeps(), groupInteractions },
      [first, second, third].map((key) => ({ bucket: t.env.buckets.raw, key })),
    );
    expect(results.map((r) => r.status)).toEqual(["already-ingested", "ingested", "ingested"]);
    const users = await t.scanUsers();
    expect(users.size).toBe(data.expected.totals.users);
    const interactions = [...users.values()].reduce((n, u) => n + u.log.split(";").length, 0);
    expect(interactions).toBe(data.expected.totals.interactions);
  }, 240_000);
});
