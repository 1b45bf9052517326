import {
  awsClientOptionsFromEnv,
  createAwsClients,
  createLogger,
  createMetrics,
  type Logger,
  lakeBucketNames,
  loggerMetricsSink,
  type Metrics,
  tableNames,
} from "@gplay/common";
import { DynamoErasureTables } from "./adapters/dynamo-erasure-tables.js";
import { DynamoFeatureStore } from "./adapters/dynamo-feature-store.js";
import { EventBridgePublisher } from "./adapters/eventbridge-publisher.js";
import { S3ObjectStore } from "./adapters/s3-object-store.js";
import { S3VersionedStore } from "./adapters/s3-versioned-store.js";
import { buildSnapshot, type SnapshotDeps } from "./app/build-snapshot.js";
import { domainBuilders, withReaderRetention } from "./app/builders.js";
import type { EraseDeps } from "./app/erase.js";
import type { IngestDeps } from "./app/ingest-file.js";
import type { IngestionList } from "./app/ports.js";
import type { EngineEnv } from "./env.js";
import { createProgress, noProgress, type Progress } from "./progress/progress.js";

export const SERVICE = "featstore-engine";
export const VERSION = "0.1.0";

export interface Engine {
  logger: Logger;
  metrics: Metrics;
  ingest: IngestDeps;
  /** The ingestions table as a list (`recover`). */
  ingestions: IngestionList;
  snapshot: SnapshotDeps;
  /** `erase`: the stores erasure reads and rewrites, and the snapshot it rebuilds. */
  erase: EraseDeps;
  close(): void;
}

/** Builds every dependency of the engine from validated configuration. The only wiring point. */
export function createEngine(env: EngineEnv, logger?: Logger): Engine {
  const log =
    logger ??
    createLogger({
      service: SERVICE,
      version: VERSION,
      level: env.LOG_LEVEL,
      base: { environment: env.GPLAY_ENVIRONMENT },
    });
  const clients = createAwsClients(awsClientOptionsFromEnv(env));
  const buckets = lakeBucketNames(env.GPLAY_PREFIX);
  const objects = new S3ObjectStore(clients.s3);
  const features = new DynamoFeatureStore(clients, tableNames(env.GPLAY_PREFIX), {
    concurrency: env.GPLAY_DYNAMO_CONCURRENCY,
  });
  const metrics = createEngineMetrics(env.GPLAY_ENVIRONMENT);
  const versions = new S3VersionedStore(clients.s3);
  const erasureTables = new DynamoErasureTables(clients.documents, tableNames(env.GPLAY_PREFIX));
  const progress: Progress =
    env.GPLAY_PROGRESS_INTERVAL_MS === 0
      ? noProgress
      : createProgress({ stream: process.stderr, logger: log, intervalMs: env.GPLAY_PROGRESS_INTERVAL_MS });
  const snapshot: SnapshotDeps = {
    progress,
    objects,
    features,
    events: new EventBridgePublisher(clients.eventbridge, env.GPLAY_EVENT_BUS),
    buckets,
    logger: log,
  };
  return {
    logger: log,
    metrics,
    ingest: {
      objects,
      features,
      buckets,
      builders: withReaderRetention(domainBuilders, env.GPLAY_READER_RETENTION_DAYS),
      logger: log,
      metrics,
      progress,
      schemaCheck: env.GPLAY_SCHEMA_CHECK,
      usersPerCheckpoint: env.GPLAY_USERS_PER_CHECKPOINT,
      groupInteractions: env.GPLAY_INGEST_GROUP_INTERACTIONS,
      erasure: { ledger: erasureTables, versions },
    },
    ingestions: features,
    snapshot,
    erase: {
      versions,
      ledger: erasureTables,
      tables: erasureTables,
      buckets,
      logger: log,
      snapshot: async (change) => {
        const built = await buildSnapshot(snapshot, change);
        return built.status === "empty"
          ? undefined
          : built.status === "built"
            ? built.manifest.snapshotId
            : built.snapshotId;
      },
    },
    close: () => clients.destroy(),
  };
}

/**
 * The engine's metrics: EMF documents on stdout as JSON lines, where the awslogs driver (or a local
 * reader) finds them. Also used when the engine could not be built (a failure is still counted).
 */
export function createEngineMetrics(environment: string, logger?: Logger): Metrics {
  return createMetrics(
    { service: SERVICE, environment },
    loggerMetricsSink(logger ?? createLogger({ service: SERVICE, version: VERSION })),
  );
}
