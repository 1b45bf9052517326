/**
 * The featstore-engine task, as ECS (or the local task runner) starts it: the source object arrives in
 * the container-override variables set by the EventBridge input transformer (or as a whole event in
 * GPLAY_EVENT). Ingests it, then runs the snapshot step. Exit code 0 on success, 1 on failure.
 *
 * With the argument `recover` (the scheduled task and the stopped-task rule run it), it re-runs the
 * ingestions still `started` past GPLAY_INGEST_TIME_LIMIT_S instead (see app/recover.ts).
 * An ingest task stops at GPLAY_INGEST_TIME_LIMIT_S (exit 1, IngestionFailures), so a `started` row
 * older than the limit always belongs to a task that is gone. (`recover` itself is not stopped by it:
 * it runs the stale ingestions one after the other, each bounded by GPLAY_INGEST_MAX_ATTEMPTS.)
 */
import {
  AppError,
  createLogger,
  isAppError,
  type Metrics,
  parseEnv,
  SOURCE_OVERRIDE_VARS,
  s3ObjectCreatedEventSchema,
} from "@gplay/common";
import { buildSnapshot } from "./app/build-snapshot.js";
import { eraseReaders } from "./app/erase.js";
import { ingestFile, type SourceObject } from "./app/ingest-file.js";
import { recoverIngestions } from "./app/recover.js";
import { type EngineEnv, engineEnvSchema } from "./env.js";
import { createEngine, createEngineMetrics, SERVICE, VERSION } from "./wiring.js";

function sourceFromEnv(env: EngineEnv): SourceObject {
  if (env.GPLAY_EVENT !== undefined) {
    const event = s3ObjectCreatedEventSchema.parse(JSON.parse(env.GPLAY_EVENT));
    return { bucket: event.detail.bucket.name, key: event.detail.object.key };
  }
  const bucket = env[SOURCE_OVERRIDE_VARS.bucket];
  const key = env[SOURCE_OVERRIDE_VARS.key];
  if (bucket === undefined || key === undefined)
    throw new AppError(
      "CONFIG_INVALID",
      `No source object: set ${SOURCE_OVERRIDE_VARS.bucket} and ${SOURCE_OVERRIDE_VARS.key} (container overrides) or GPLAY_EVENT`,
    );
  return { bucket, key };
}

/** Set once the engine is built, so the top-level catch counts a failure in the right environment. */
let metrics: Metrics | undefined;

async function main(): Promise<void> {
  const env = parseEnv(engineEnvSchema, process.env);
  const engine = createEngine(env);
  metrics = engine.metrics;
  const log = engine.logger.child({ eventId: env[SOURCE_OVERRIDE_VARS.eventId] });
  const limitMs = env.GPLAY_INGEST_TIME_LIMIT_S * 1_000;
  const limit = setTimeout(() => {
    log.error(
      { event: "time-limit", limitSeconds: env.GPLAY_INGEST_TIME_LIMIT_S },
      "the task reached GPLAY_INGEST_TIME_LIMIT_S; stopping (recover re-runs its ingestion)",
    );
    engine.metrics.emit({ ingestFailures: 1 });
    process.exit(1);
  }, limitMs);
  limit.unref();
  try {
    if (process.argv[2] === "erase") {
      // `erase` (scheduled, and after an api request): finishes every ledger entry still `requested`.
      clearTimeout(limit);
      const result = await eraseReaders({ ...engine.erase, logger: log }, { pending: true });
      log.info(
        { event: "erase-finished", readers: result.readers, auditKey: result.auditKey },
        "erasure finished",
      );
      return;
    }
    if (process.argv[2] === "recover") {
      clearTimeout(limit);
      const result = await recoverIngestions(
        { ...engine.ingest, ingestions: engine.ingestions, logger: log },
        { timeLimitMs: limitMs, maxAttempts: env.GPLAY_INGEST_MAX_ATTEMPTS },
      );
      log.info(
        {
          event: "recover-finished",
          stale: result.stale,
          recovered: result.recovered.length,
          gaveUp: result.gaveUp.length,
          failed: result.failed.length,
        },
        "recovery finished",
      );
      if (result.recovered.some((r) => r.status === "ingested") && env.GPLAY_SNAPSHOT_AFTER_INGEST)
        await buildSnapshot({ ...engine.snapshot, logger: log });
      if (result.failed.length > 0)
        throw new AppError("UPSTREAM_FAILED", `${result.failed.length} ingestions could not be recovered`);
      return;
    }
    const source = sourceFromEnv(env);
    const result = await ingestFile({ ...engine.ingest, logger: log }, source);
    if (result.status === "ingested" && env.GPLAY_SNAPSHOT_AFTER_INGEST)
      await buildSnapshot({ ...engine.snapshot, logger: log });
  } finally {
    clearTimeout(limit);
    engine.close();
  }
}

main().catch((error: unknown) => {
  const logger = createLogger({ service: SERVICE, version: VERSION });
  logger.error(
    { err: error, code: isAppError(error) ? error.code : "INTERNAL" },
    "featstore-engine task failed",
  );
  (metrics ?? createEngineMetrics(process.env.GPLAY_ENVIRONMENT ?? "local")).emit({ ingestFailures: 1 });
  process.exitCode = 1;
});
