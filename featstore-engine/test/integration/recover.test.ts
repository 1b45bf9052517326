import { createServer, type Socket } from "node:net";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { type IngestionItem, ingestionItemSchema, processedKeys } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestFile } from "../../src/app/ingest-file.js";
import { recoverIngestions } from "../../src/app/recover.js";
import {
  createTestEnvironment,
  type GeneratedData,
  generate,
  runEngineMain,
  type TestEnvironment,
} from "./support.js";

const rows = async (t: TestEnvironment): Promise<IngestionItem[]> =>
  (await t.scanTable("ingestions")).map((m) => ingestionItemSchema.parse(m));

describe("a task killed mid-ingest is recovered", () => {
  let data: GeneratedData;
  let key: string;
  const envs: TestEnvironment[] = [];
  const env = async (label: string) => {
    const t = await createTestEnvironment(label);
    envs.push(t);
    await t.putRaw(key, data.files.get(key.slice("raw/".length)) as string);
    return t;
  };
  beforeAll(() => {
    data = generate({ users: 600, seed: "recover", days: 1 });
    key = `raw/${[...data.files.keys()].find((p) => p.startsWith("treino/"))}`;
  });
  afterAll(async () => {
    for (const t of envs) await t.destroy();
  }, 120_000);

  it("re-runs the ingestion left started, resuming after the committed readers, to the same state", async () => {
    const reference = await env("recover-ref");
    await ingestFile(reference.ingestDeps(), { bucket: reference.env.buckets.raw, key });
    const t = await env("recover");

    const ingest = runEngineMain(t, {
      GPLAY_SOURCE_BUCKET: t.env.buckets.raw,
      GPLAY_SOURCE_KEY: key,
      GPLAY_USERS_PER_CHECKPOINT: "40",
    });
    // SIGKILL once some readers are committed (a checkpoint) and before the ingestion finishes.
    let committed = 0;
    for (const deadline = Date.now() + 120_000; committed === 0 && Date.now() < deadline; ) {
      const [row] = await rows(t);
      if (row?.status === "succeeded") throw new Error("the ingestion finished before it could be killed");
      committed = row?.usersCommitted ?? 0;
      if (committed > 0) ingest.child.kill("SIGKILL");
      else await new Promise((r) => setTimeout(r, 5));
    }
    expect((await ingest.exited).signal).toBe("SIGKILL");
    const [left] = await rows(t);
    expect(left).toMatchObject({ status: "started", attempts: 1 });
    const resumeAfter = left?.usersCommitted ?? 0;
    expect(resumeAfter).toBeGreaterThan(0);

    // Past the time limit, `recover` (as the scheduled task runs it) re-runs it.
    await new Promise((r) => setTimeout(r, 1_500));
    const recover = runEngineMain(t, { GPLAY_INGEST_TIME_LIMIT_S: "1", GPLAY_INGEST_MAX_ATTEMPTS: "3" }, [
      "recover",
    ]);
    const done = await recover.exited;
    expect({ code: done.code, tail: done.code === 0 ? "" : done.stdout.slice(-3_000) }).toEqual({
      code: 0,
      tail: "",
    });
    expect(done.stdout).toContain('"IngestionRecoveries":1');
    const [row] = await rows(t);
    expect(row).toMatchObject({ status: "succeeded", attempts: 2 });
    const report = JSON.parse(
      (await (
        await t.clients.s3.send(
          new GetObjectCommand({
            Bucket: t.env.buckets.processed,
            Key: processedKeys.ingestionReport(row?.sourceId as string),
          }),
        )
      ).Body?.transformToString()) ?? "{}",
    );
    // The committed readers were skipped unread; the others merged.
    expect(report.resumedAfterUsers).toBe(resumeAfter);
    const merged = (m: Map<string, { userType: string; log: string }>) =>
      new Map([...m].map(([id, u]) => [id, { userType: u.userType, log: u.log }]));
    expect(merged(await t.scanUsers())).toEqual(merged(await reference.scanUsers()));
  }, 300_000);

  it("gives up on an ingestion out of attempts: marked failed, with a metric", async () => {
    const t = await env("recover-gaveup");
    const head = await t.ingestDeps().objects.head(t.env.buckets.raw, key);
    const stale: IngestionItem = {
      sourceId: "stale-source-0000000000",
      bucket: t.env.buckets.raw,
      key,
      etag: head.etag,
      status: "started",
      attempts: 3,
      startedAt: new Date(Date.now() - 7_200_000).toISOString(),
    };
    await t.ingestDeps().features.putIngestion(stale);
    const emitted: Record<string, number>[] = [];
    const deps = t.ingestDeps();
    const result = await recoverIngestions(
      {
        ...deps,
        ingestions: t.features(),
        metrics: { ...deps.metrics, emit: (values: Record<string, number>) => emitted.push(values) } as never,
      },
      { timeLimitMs: 3_600_000, maxAttempts: 3 },
    );
    expect(result).toMatchObject({ stale: 1, gaveUp: [stale.sourceId], recovered: [], failed: [] });
    expect(emitted).toEqual([{ ingestRecoveryGaveUp: 1 }]);
    expect((await rows(t)).find((r) => r.sourceId === stale.sourceId)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("3 attempts"),
    });
  }, 120_000);

  it("stops an ingest task that outlives GPLAY_INGEST_TIME_LIMIT_S, counting a failure", async () => {
    const t = await env("time-limit");
    // An endpoint that accepts connections and never answers: the task can only end by its limit.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const task = runEngineMain(t, {
        GPLAY_AWS_ENDPOINT: `http://127.0.0.1:${port}`,
        GPLAY_SOURCE_BUCKET: t.env.buckets.raw,
        GPLAY_SOURCE_KEY: key,
        GPLAY_INGEST_TIME_LIMIT_S: "2",
      });
      const done = await task.exited;
      expect(done.code).toBe(1);
      expect(done.stdout).toContain('"event":"time-limit"');
      expect(done.stdout).toContain('"IngestionFailures":1');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 120_000);
});
