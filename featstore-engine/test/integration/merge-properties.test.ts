import { spawn } from "node:child_process";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  ingestionItemSchema,
  isAppError,
  logPages,
  RAW_HEADERS,
  userItemSchema,
} from "@gplay/common";
import { stackEnvironment } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestFile } from "../../src/app/ingest-file.js";
import { dynamoItemSizeBytes, formatCsvRecord, formatTreinoFields } from "../../src/domain/index.js";
import { createTestEnvironment, type GeneratedData, generate, type TestEnvironment } from "./support.js";

const REPO_ROOT = join(import.meta.dirname, "../../..");

async function ingestAll(t: TestEnvironment, keys: readonly string[]) {
  for (const key of keys) await ingestFile(t.ingestDeps(), { bucket: t.env.buckets.raw, key });
}

async function processedKeysOf(t: TestEnvironment): Promise<string[]> {
  const out = await t.clients.s3.send(new ListObjectsV2Command({ Bucket: t.env.buckets.processed }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

/** Users without their version and timestamps: the merged state only. */
async function mergedUsers(t: TestEnvironment) {
  const users = await t.scanUsers();
  return new Map([...users].map(([id, u]) => [id, { userType: u.userType, log: u.log }]));
}

describe("the feature store merges files as a set union", () => {
  let data: GeneratedData;
  let treino: string[];
  const envs: TestEnvironment[] = [];
  const env = async (label: string) => {
    const t = await createTestEnvironment(label);
    envs.push(t);
    for (const [path, body] of data.files) await t.putRaw(`raw/${path}`, body);
    return t;
  };

  beforeAll(() => {
    data = generate({ users: 400, seed: "merge", days: 2 });
    treino = [...data.files.keys()].filter((p) => p.startsWith("treino/")).map((p) => `raw/${p}`);
    expect(treino).toHaveLength(2);
  });

  afterAll(async () => {
    for (const t of envs) await t.destroy();
  }, 120_000);

  let reference: Map<string, { userType: string; log: string }>;

  it("gives identical state for two files in either order", async () => {
    const [a, b] = [await env("order-ab"), await env("order-ba")];
    await ingestAll(a, treino);
    await ingestAll(b, [...treino].reverse());
    reference = await mergedUsers(a);
    expect(reference.size).toBe(data.expected.totals.users);
    expect(await mergedUsers(b)).toEqual(reference);
  }, 180_000);

  it("loses no interaction when two tasks ingest overlapping readers concurrently", async () => {
    const t = await env("concurrent");
    const [first, second] = treino as [string, string];
    const results = await Promise.all([
      ingestFile(t.ingestDeps(t.features()), { bucket: t.env.buckets.raw, key: first }),
      ingestFile(t.ingestDeps(t.features()), { bucket: t.env.buckets.raw, key: second }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["ingested", "ingested"]);
    expect(await mergedUsers(t)).toEqual(reference);
  }, 180_000);

  it("loses and duplicates nothing when a task is SIGKILLed mid-file and run again", async () => {
    const t = await env("sigkill");
    const [key] = treino as [string];
    const child = spawn(
      process.execPath,
      ["--conditions=@gplay/source", "--import", "tsx", "featstore-engine/src/main.ts"],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          ...stackEnvironment(t.endpoints),
          GPLAY_PREFIX: t.env.prefix,
          GPLAY_SNAPSHOT_AFTER_INGEST: "false",
          LOG_LEVEL: "warn",
          GPLAY_SOURCE_BUCKET: t.env.buckets.raw,
          GPLAY_SOURCE_KEY: key,
        },
        stdio: "ignore",
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    // Kill as soon as the task has started writing (its "started" marker), before it can finish.
    let killedWhile: string | undefined;
    while (killedWhile === undefined) {
      const markers = (await t.scanTable("ingestions")).map((m) => ingestionItemSchema.parse(m));
      if (markers.length > 0) {
        child.kill("SIGKILL");
        killedWhile = markers[0]?.status;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await exited).toBe("SIGKILL");
    expect(killedWhile).toBe("started");

    const rerun = await ingestFile(t.ingestDeps(), { bucket: t.env.buckets.raw, key });
    expect(rerun.status).toBe("ingested");
    await ingestFile(t.ingestDeps(), { bucket: t.env.buckets.raw, key: treino[1] as string });
    expect(await mergedUsers(t)).toEqual(reference);
    const partitions = (await processedKeysOf(t)).filter((k) => k.endsWith(".parquet"));
    expect(partitions).toHaveLength(2);
  }, 180_000);
});

describe("files that cannot be ingested change nothing", () => {
  let t: TestEnvironment;
  beforeAll(async () => {
    t = await createTestEnvironment("badfiles");
  }, 60_000);
  afterAll(async () => t?.destroy(), 60_000);

  const header = RAW_HEADERS.itens.join(",");
  it.each([
    [
      "truncated inside a quoted field",
      `${header}\nebd223ab-9d97-429f-bf02-1781477f2653,http://g1.globo.com/a.ghtml,2022-08-15 02:57:16+00:00,2022-08-15 02:57:16+00:00,T,"body never closed\n`,
    ],
    ["not UTF-8", Buffer.concat([Buffer.from(`${header}\n`), Buffer.from([0xff, 0xfe, 0x41, 0x0a])])],
    ["of no known kind", "a,b,c\n1,2,3\n"],
  ])(
    "rejects a file %s with UNSUPPORTED_INPUT, stores nothing of it and marks it failed with the reason",
    async (_label, body) => {
      const key = `raw/bad/${_label.replaceAll(" ", "-")}.csv`;
      await t.putRaw(key, body);
      const error = await ingestFile(t.ingestDeps(), { bucket: t.env.buckets.raw, key }).catch(
        (e: unknown) => e,
      );
      expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
      expect(await processedKeysOf(t)).toEqual([]);
      for (const table of ["users", "items", "coldstart"] as const)
        expect(await t.scanTable(table)).toEqual([]);
      // Only a failure marker that says why, so whoever uploaded the file can read it (`pnpm ingestions`).
      const markers = await t.scanTable("ingestions");
      expect(markers.filter((m) => m.key === key)).toEqual([
        expect.objectContaining({ key, status: "failed", error: expect.stringContaining(key) }),
      ]);
      expect(markers.every((m) => m.status === "failed")).toBe(true);
    },
  );
});

describe("the heaviest reader", () => {
  let t: TestEnvironment;
  beforeAll(async () => {
    t = await createTestEnvironment("heavy");
  }, 60_000);
  afterAll(async () => t?.destroy(), 60_000);

  it("fits 7,004 interactions in one item and excludes every one of those articles", async () => {
    const n = 7004;
    const pages = Array.from(
      { length: n },
      (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    );
    const timestamps = pages.map((_, i) => 1_656_668_214_243 + i * 60_000);
    const row = formatTreinoFields({
      userId: "d".repeat(64),
      userType: "Logged",
      history: pages,
      timestampHistory: timestamps,
      numberOfClicksHistory: pages.map((_, i) => i % 50),
      timeOnPageHistory: pages.map(() => 60_000),
      scrollPercentageHistory: pages.map(() => 43.21),
      pageVisitsCountHistory: pages.map(() => 1),
      timestampHistory_new: timestamps,
    });
    await t.putRaw(
      "raw/treino/heavy.csv",
      Buffer.from(formatCsvRecord(RAW_HEADERS.treino) + formatCsvRecord(row)),
    );
    const result = await ingestFile(t.ingestDeps(), {
      bucket: t.env.buckets.raw,
      key: "raw/treino/heavy.csv",
    });
    expect(result.status).toBe("ingested");
    const [stored] = await t.scanTable("users");
    const user = userItemSchema.parse(stored);
    expect(user.interactionCount).toBe(n);
    expect(dynamoItemSizeBytes(stored as Record<string, unknown>)).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    const excluded = logPages(user.log);
    expect(pages.every((p) => excluded.has(p))).toBe(true);
  }, 120_000);
});
