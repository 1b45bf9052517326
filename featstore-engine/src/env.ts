import { awsEnvSchema, envFields, resourcePrefixSchema, SOURCE_OVERRIDE_VARS } from "@gplay/common";
import { z } from "zod";

/** The featstore-engine's configuration: everything it reads from the environment, validated once. */
export const engineEnvSchema = awsEnvSchema.extend({
  /** Resource prefix (`gplay-<env>`): bucket and table names derive from it. */
  GPLAY_PREFIX: resourcePrefixSchema,
  GPLAY_ENVIRONMENT: z.string().min(1).default("local"),
  LOG_LEVEL: envFields.logLevel(),
  /** Run the snapshot step after a successful ingestion (default on). */
  GPLAY_SNAPSHOT_AFTER_INGEST: envFields.bool().default(true),
  /** DynamoDB requests in flight at once during ingestion and snapshot writes. */
  GPLAY_DYNAMO_CONCURRENCY: envFields.int(1, 64).default(16),
  /** Re-check accepted rows with the zod schemas after the hand checks (they miss counts > 2^53 − 1). */
  GPLAY_SCHEMA_CHECK: envFields.bool().default(true),
  /** Interval of progress log lines when stderr is not a terminal (0 turns progress off). */
  GPLAY_PROGRESS_INTERVAL_MS: envFields.int(0, 3_600_000).default(10_000),
  /**
   * A task still running after this long stops (exit 1, IngestionFailures): its ingestion stays
   * `started`, and `recover` (run on a schedule) re-runs ingestions started longer ago than this.
   */
  GPLAY_INGEST_TIME_LIMIT_S: envFields.int(1, 86_400).default(3_600),
  /** Attempts of one object version `recover` allows before it marks the ingestion failed. */
  GPLAY_INGEST_MAX_ATTEMPTS: envFields.int(1, 100).default(3),
  /** Readers merged between two checkpoints of a running ingestion (a re-run resumes after the last). */
  GPLAY_USERS_PER_CHECKPOINT: envFields.int(1, 1_000_000).default(2_000),
  /**
   * `cli ingest --prefix` (a backfill): interactions of consecutive treino objects held in memory and
   * merged per reader, so each reader is written once per group rather than once per file (packed,
   * 40 bytes each plus a reader's overhead; bench/README.md has the peak RSS); 0: each object alone.
   */
  GPLAY_INGEST_GROUP_INTERACTIONS: envFields.int(0, 50_000_000).default(1_000_000),
  /**
   * A reader's item expires (DynamoDB TTL) this many days after ingestion last wrote it (infra sets it
   * from its retention config); unset: items never expire.
   */
  GPLAY_READER_RETENTION_DAYS: envFields.int(1, 36_500).optional(),
  /** EventBridge bus for "Snapshot Ready" (default bus when unset). */
  GPLAY_EVENT_BUS: z.string().min(1).default("default"),
  // Container overrides set by the EventBridge input transformer (ECS) or the local task runner.
  [SOURCE_OVERRIDE_VARS.bucket]: z.string().min(3).optional(),
  [SOURCE_OVERRIDE_VARS.key]: z.string().min(1).optional(),
  [SOURCE_OVERRIDE_VARS.etag]: z.string().optional(),
  [SOURCE_OVERRIDE_VARS.eventId]: z.string().optional(),
  [SOURCE_OVERRIDE_VARS.eventTime]: z.string().optional(),
  /** A whole EventBridge "Object Created" event as JSON (an alternative to the override variables). */
  GPLAY_EVENT: z.string().optional(),
});
export type EngineEnv = z.infer<typeof engineEnvSchema>;
