import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { type AwsClients, createLogger, SNAPSHOT_READY, SOURCE_OVERRIDE_VARS } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  destroyEnvironment,
  type LocalStackEndpoints,
  LocalTaskRunner,
  localAwsClients,
  type ProvisionedEnvironment,
  provisionEnvironment,
  readLocalStack,
  uniquePrefix,
} from "../../src/index.js";

const quiet = createLogger({ service: "test", version: "0", level: "silent" });
const recorder = join(import.meta.dirname, "..", "fixtures", "record-env.mjs");

interface Recorded {
  env: Record<string, string>;
}
function recordings(dir: string): Recorded[] {
  return readdirSync(dir)
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), "utf8")) as Recorded);
}

async function drain(clients: AwsClients, queueUrl: string, waitSeconds = 1) {
  const { Messages } = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ["All"],
    }),
  );
  return Messages ?? [];
}

describe("LocalTaskRunner against the emulator", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  let mine: ProvisionedEnvironment;
  let other: ProvisionedEnvironment;
  const records = mkdtempSync(join(tmpdir(), "gplay-runner-"));

  beforeAll(async () => {
    endpoints = await readLocalStack();
    clients = localAwsClients(endpoints);
    [mine, other] = await Promise.all([
      provisionEnvironment(endpoints, uniquePrefix("runner-a")),
      provisionEnvironment(endpoints, uniquePrefix("runner-b")),
    ]);
  });

  afterAll(async () => {
    await Promise.all([
      destroyEnvironment(endpoints, mine.prefix),
      destroyEnvironment(endpoints, other.prefix),
    ]);
    clients.destroy();
    rmSync(records, { recursive: true, force: true });
  });

  it("starts the task for an object created under raw/ in its own raw bucket only", async () => {
    const dir = join(records, "raw");
    const runner = LocalTaskRunner.forEnvironment("ingest", endpoints, mine, {
      command: ["node", recorder],
      env: { RECORD_DIR: dir },
      waitTimeSeconds: 1,
      logger: quiet,
    });
    runner.start();
    try {
      // Not for this runner: processed/ in its own raw bucket, raw/ in its processed bucket, and
      // raw/ in another environment's raw bucket. moto delivers during PutObject, so these are
      // queued (or not) before the matching object below.
      await clients.s3.send(
        new PutObjectCommand({ Bucket: mine.buckets.raw, Key: "processed/x.csv", Body: "a" }),
      );
      await clients.s3.send(
        new PutObjectCommand({ Bucket: mine.buckets.processed, Key: "raw/x.csv", Body: "b" }),
      );
      await clients.s3.send(
        new PutObjectCommand({ Bucket: other.buckets.raw, Key: "raw/theirs.csv", Body: "c" }),
      );
      const put = await clients.s3.send(
        new PutObjectCommand({
          Bucket: mine.buckets.raw,
          Key: "raw/2026/treino_parte1.csv",
          Body: "userId,history\n",
        }),
      );

      const result = await runner.waitFor((r) => r.outcome === "succeeded", 30_000);
      expect(result.overrides[SOURCE_OVERRIDE_VARS.bucket]).toBe(mine.buckets.raw);
      expect(result.overrides[SOURCE_OVERRIDE_VARS.key]).toBe("raw/2026/treino_parte1.csv");
      expect(result.overrides[SOURCE_OVERRIDE_VARS.etag]).toBe(put.ETag?.replaceAll('"', ""));

      const seen = recordings(dir);
      expect(seen).toHaveLength(1);
      const env = seen[0]?.env ?? {};
      expect(env.GPLAY_SOURCE_KEY).toBe("raw/2026/treino_parte1.csv");
      expect(env.GPLAY_EVENT_ID).toMatch(/^[0-9a-f-]{36}$/);
      expect(env.GPLAY_EVENT_TIME).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(env.GPLAY_AWS_ENDPOINT).toBe(endpoints.awsEndpoint);
      expect(env.MLFLOW_TRACKING_URI).toBe(endpoints.mlflowUrl);
      expect(env.AWS_REGION).toBe("us-east-1");
      expect(env.GPLAY_PREFIX).toBe(mine.prefix);

      // The other environment's rule did fire (so the event existed), into its own queue.
      const theirs = await drain(clients, other.queues.ingest.url);
      expect(theirs.map((m) => JSON.parse(m.Body ?? "{}").detail.object.key)).toEqual(["raw/theirs.csv"]);
    } finally {
      await runner.stop();
    }
    expect(runner.results).toHaveLength(1);
    expect(await drain(clients, mine.queues.ingest.url)).toHaveLength(0);
  });

  it("retries a failing task, then moves its event to the DLQ", async () => {
    const dir = join(records, "failing");
    const runner = LocalTaskRunner.forEnvironment("ingest", endpoints, mine, {
      command: ["node", recorder],
      env: { RECORD_DIR: dir, FAIL_WITH: "3" },
      maxAttempts: 3,
      backoffSeconds: 0,
      waitTimeSeconds: 1,
      logger: quiet,
    });
    runner.start();
    try {
      await clients.s3.send(
        new PutObjectCommand({ Bucket: mine.buckets.raw, Key: "raw/bad.csv", Body: "x" }),
      );
      const final = await runner.waitFor((r) => r.outcome === "dead-lettered", 60_000);
      expect(final.attempt).toBe(3);
      expect(final.exitCode).toBe(3);
      expect(final.error).toContain("told to fail with 3");
    } finally {
      await runner.stop();
    }
    expect(runner.results.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, "retrying"],
      [2, "retrying"],
      [3, "dead-lettered"],
    ]);
    expect(recordings(dir)).toHaveLength(3);
    const dead = await drain(clients, mine.queues.ingestDlq.url);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]?.Body ?? "{}").detail.object.key).toBe("raw/bad.csv");
    expect(dead[0]?.MessageAttributes?.attempts?.StringValue).toBe("3");
    expect(await drain(clients, mine.queues.ingest.url)).toHaveLength(0);
  });

  it("sends an event it cannot turn into container overrides straight to the DLQ", async () => {
    const runner = LocalTaskRunner.forEnvironment("ingest", endpoints, mine, {
      command: ["node", recorder],
      env: { RECORD_DIR: join(records, "invalid") },
      waitTimeSeconds: 1,
      logger: quiet,
    });
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: mine.queues.ingest.url, MessageBody: '{"detail":{}}' }),
    );
    runner.start();
    try {
      const result = await runner.waitFor((r) => r.outcome === "dead-lettered", 30_000);
      expect(result.attempt).toBe(1);
      expect(result.error).toMatch(/expected string/i);
    } finally {
      await runner.stop();
    }
    const dead = await drain(clients, mine.queues.ingestDlq.url);
    expect(dead.map((m) => m.Body)).toEqual(['{"detail":{}}']);
  });

  it("starts the training task for a Snapshot Ready event of its processed bucket", async () => {
    const dir = join(records, "training");
    const runner = LocalTaskRunner.forEnvironment("training", endpoints, mine, {
      command: ["node", recorder],
      env: { RECORD_DIR: dir },
      waitTimeSeconds: 1,
      logger: quiet,
    });
    runner.start();
    try {
      const detail = (bucket: string, snapshotId: string) =>
        JSON.stringify({
          snapshotId,
          bucket,
          manifestKey: `processed/snapshots/${snapshotId}/manifest.json`,
          asOf: 1,
          partitions: 1,
          interactions: 1,
          items: 1,
        });
      const sent = await clients.eventbridge.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: SNAPSHOT_READY.source,
              DetailType: SNAPSHOT_READY.detailType,
              Detail: detail(other.buckets.processed, "theirs"),
            },
            {
              Source: SNAPSHOT_READY.source,
              DetailType: SNAPSHOT_READY.detailType,
              Detail: detail(mine.buckets.processed, "s-1"),
            },
          ],
        }),
      );
      expect(sent.FailedEntryCount ?? 0).toBe(0);
      const result = await runner.waitFor((r) => r.outcome === "succeeded", 30_000);
      expect(result.overrides).toEqual({
        GPLAY_SNAPSHOT_BUCKET: mine.buckets.processed,
        GPLAY_SNAPSHOT_MANIFEST_KEY: "processed/snapshots/s-1/manifest.json",
        GPLAY_SNAPSHOT_ID: "s-1",
        GPLAY_EVENT_ID: sent.Entries?.[1]?.EventId,
      });
    } finally {
      await runner.stop();
    }
    expect(runner.results).toHaveLength(1);
    expect(recordings(dir)).toHaveLength(1);
  });
});
