import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AwsClients,
  createLogger,
  createMetrics,
  decodeInteractionLog,
  type Logger,
  type tableNames,
  userItemSchema,
} from "@gplay/common";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
  stackEnvironment,
} from "@gplay/scripts";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import { EventBridgePublisher } from "../../src/adapters/eventbridge-publisher.js";
import { S3ObjectStore } from "../../src/adapters/s3-object-store.js";
import type { SnapshotDeps } from "../../src/app/build-snapshot.js";
import { domainBuilders } from "../../src/app/builders.js";
import type { IngestDeps } from "../../src/app/ingest-file.js";
import { type ExpectedAggregates, generateDataset, type OutputSink } from "../../src/generator/generate.js";

export const silentLogger: Logger = createLogger({
  service: "featstore-engine-test",
  version: "test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

/** One isolated environment (own buckets, tables, queues, rules) on the running local stack. */
export interface TestEnvironment {
  endpoints: LocalStackEndpoints;
  env: ProvisionedEnvironment;
  clients: AwsClients;
  ingestDeps(features?: DynamoFeatureStore): IngestDeps;
  snapshotDeps(): SnapshotDeps;
  features(options?: ConstructorParameters<typeof DynamoFeatureStore>[2]): DynamoFeatureStore;
  putRaw(key: string, body: string | Uint8Array): Promise<void>;
  /** userId → decoded log (sorted) and version, straight from the users table. */
  scanUsers(): Promise<Map<string, { version: number; userType: string; log: string }>>;
  scanTable(table: keyof ReturnType<typeof tableNames>): Promise<Record<string, unknown>[]>;
  destroy(): Promise<void>;
}

export async function createTestEnvironment(label: string): Promise<TestEnvironment> {
  const local = await provisionTestEnvironment(label);
  const { endpoints, env, clients } = local;
  const objects = new S3ObjectStore(clients.s3);
  const metrics = createMetrics(
    { service: "featstore-engine", environment: "test" },
    { write: () => undefined },
  );
  const features = (options?: ConstructorParameters<typeof DynamoFeatureStore>[2]) =>
    new DynamoFeatureStore(clients, env.tables, options);
  const scanTable = async (table: keyof ReturnType<typeof tableNames>) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await clients.documents.send(
        new ScanCommand({ TableName: env.tables[table], ExclusiveStartKey: start }),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      start = out.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (start !== undefined);
    return items;
  };
  return {
    endpoints,
    env,
    clients,
    features,
    ingestDeps: (store = features()) => ({
      objects,
      features: store,
      buckets: env.buckets,
      builders: domainBuilders,
      logger: silentLogger,
      metrics,
    }),
    snapshotDeps: () => ({
      objects,
      features: features(),
      events: new EventBridgePublisher(clients.eventbridge),
      buckets: env.buckets,
      logger: silentLogger,
    }),
    async putRaw(key, body) {
      await clients.s3.send(new PutObjectCommand({ Bucket: env.buckets.raw, Key: key, Body: body }));
    },
    async scanUsers() {
      const users = new Map<string, { version: number; userType: string; log: string }>();
      for (const raw of await scanTable("users")) {
        const user = userItemSchema.parse(raw);
        const log = decodeInteractionLog(user.log)
          .map(
            (i) =>
              `${i.timestamp}|${i.page}|${i.clicks}|${i.timeOnPageMs}|${i.scrollPercentage}|${i.pageVisits}`,
          )
          .join(";");
        users.set(user.userId, { version: user.version, userType: user.userType, log });
      }
      return users;
    },
    scanTable,
    destroy: () => destroyTestEnvironment(local),
  };
}

/** A generated data set kept in memory: relative path → content, plus what the generator expects. */
export interface GeneratedData {
  files: Map<string, string>;
  expected: ExpectedAggregates;
}

export function generate(options: Parameters<typeof generateDataset>[0]): GeneratedData {
  const files = new Map<string, string>();
  const sink: OutputSink = {
    open(path) {
      const parts: string[] = [];
      return {
        write: (text) => void parts.push(text),
        close: () => void files.set(path, parts.join("")),
      };
    },
  };
  const expected = generateDataset(options, sink);
  return { files, expected };
}

/** Writes generated files to a temp folder (for tests that start the engine as a process). */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `gplay-${label}-`));
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

const REPO_ROOT = join(import.meta.dirname, "../../..");

/**
 * Runs featstore-engine/src/main.ts as ECS would, on `t`'s resources (no snapshot step, no progress
 * lines); resolves with its exit code, signal and stdout (logs and metrics) once it ends.
 */
export function runEngineMain(t: TestEnvironment, env: Record<string, string>, args: string[] = []) {
  const child = spawn(
    process.execPath,
    ["--conditions=@gplay/source", "--import", "tsx", "featstore-engine/src/main.ts", ...args],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...stackEnvironment(t.endpoints),
        GPLAY_PREFIX: t.env.prefix,
        GPLAY_SNAPSHOT_AFTER_INGEST: "false",
        GPLAY_PROGRESS_INTERVAL_MS: "0",
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let stdout = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout })),
  );
  return { child, exited };
}
