import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import {
  awsClientOptionsFromEnv,
  type BundleManifest,
  CHALLENGER_ALIAS,
  createAwsClients,
  createLogger,
  createMetrics,
  isAppError,
  lakeBucketNames,
  loggerMetricsSink,
  parseEnv,
  readBundleDirectory,
  tableNames,
} from "@gplay/common";
import { MlflowClient, mlflowConfigFromEnv } from "@gplay/mlflow";
import { DynamoErasures } from "./adapters/dynamo-erasures.js";
import { DynamoFeatureStore } from "./adapters/dynamo-feature-store.js";
import { DynamoSeenEvents } from "./adapters/dynamo-seen-events.js";
import { MlflowModelFigures } from "./adapters/mlflow-model-figures.js";
import { MlflowModelRegistry } from "./adapters/mlflow-model-registry.js";
import { S3RawEventSink } from "./adapters/s3-raw-event-sink.js";
import { bundleRanker } from "./app/bundle-ranker.js";
import { ReaderEraser } from "./app/erase-readers.js";
import { LiveReadsFeed } from "./app/live-world.js";
import { SwitchableModelProvider } from "./app/model.js";
import { ModelLifecycle } from "./app/model-lifecycle.js";
import { OnlineServing } from "./app/online.js";
import { systemClock } from "./app/ports.js";
import { type ModelFigures, ReaderView } from "./app/reader-view.js";
import { Readiness } from "./app/readiness.js";
import { Recommender } from "./app/recommend.js";
import { EventRecorder } from "./app/record-events.js";
import { ImpressionRecorder } from "./app/record-impressions.js";
import { ServingData } from "./app/serving-data.js";
import { apiEnvSchema } from "./env.js";
import { createApp } from "./http/app.js";
import { drain, listen } from "./server.js";

/** The only place that reads the environment, builds clients and wires the service. */
async function main(): Promise<void> {
  const env = parseEnv(apiEnvSchema, process.env);
  const logger = createLogger({
    service: "api",
    version: env.GPLAY_SERVICE_VERSION,
    level: env.LOG_LEVEL,
    base: { environment: env.GPLAY_ENVIRONMENT },
  });
  const metrics = createMetrics(
    { service: "api", environment: env.GPLAY_ENVIRONMENT },
    loggerMetricsSink(logger),
  );
  const clients = createAwsClients(awsClientOptionsFromEnv(env));
  const tables = tableNames(env.GPLAY_PREFIX);
  const store = new DynamoFeatureStore(clients.documents, tables, logger);
  const sink = new S3RawEventSink(clients.s3, lakeBucketNames(env.GPLAY_PREFIX).raw);
  const erasures = new DynamoErasures(clients.documents, tables);
  const model = new SwitchableModelProvider(
    env.MLFLOW_TRACKING_URI === undefined
      ? "MLFLOW_TRACKING_URI is not set: no model registry, serving cold start"
      : `loading models:/${env.GPLAY_MODEL_NAME}@${env.GPLAY_MODEL_ALIAS} from the registry`,
  );
  const data = new ServingData(
    store,
    store,
    { freshnessHours: env.GPLAY_FRESHNESS_HOURS, coVisitCacheTtlMs: 300_000, coVisitCacheMaxEntries: 50_000 },
    systemClock,
    logger,
  );
  const recommender = new Recommender(
    { users: store, data, model, clock: systemClock, logger },
    {
      userCacheTtlMs: env.GPLAY_USER_CACHE_TTL_MS,
      userCacheMaxEntries: 10_000,
    },
  );
  const instanceId = hostname()
    .replaceAll(/[^A-Za-z0-9-]/g, "-")
    .slice(0, 40);
  // Attribution in the task keeps the latest 3 lists of 20,000 readers (≈ 15 MB); the exact join over
  // the files attributes the rest. 500,000 buffered rows ≈ 100 s at 5,000 lists/s if S3 refuses files.
  const impressions = new ImpressionRecorder(
    { sink, clock: systemClock, metrics, logger, erasures },
    { instanceId, maxBufferedRows: 500_000, attributionReaders: 20_000, listsPerReader: 3 },
  );
  // The `@challenger` version, loaded and swapped like the champion (only with the online loop's share > 0 or shadow).
  const challenger = new SwitchableModelProvider("no @challenger version loaded");
  const challengerOn =
    env.MLFLOW_TRACKING_URI !== undefined &&
    (env.GPLAY_CHALLENGER_SHARE > 0 || env.GPLAY_CHALLENGER_MODE === "shadow");
  const online = new OnlineServing(
    { recommender, impressions, champion: model, ...(challengerOn ? { challenger } : {}), logger },
    {
      challengerShare: env.GPLAY_CHALLENGER_SHARE,
      challengerMode: env.GPLAY_CHALLENGER_MODE,
      salt: env.GPLAY_CHALLENGER_SALT,
    },
  );
  // The served worlds follow the accepted clicks (this task's share of them behind the load balancer).
  const live = env.GPLAY_LIVE_WORLD
    ? new LiveReadsFeed(
        {
          models: challengerOn ? [model, challenger] : [model],
          admits: (page) => data.article(page) !== undefined,
          clock: systemClock,
          logger,
        },
        {
          rebuildEveryMs: env.GPLAY_LIVE_REBUILD_MS,
          rebuildAtReads: env.GPLAY_LIVE_REBUILD_READS,
          recentReads: env.GPLAY_LIVE_RECENT_READS,
          waitingReads: env.GPLAY_LIVE_WAITING_READS,
        },
      )
    : undefined;
  const events = new EventRecorder(
    {
      impressions,
      users: store,
      sink,
      seen: new DynamoSeenEvents(clients.documents, tables.eventIds, systemClock),
      clock: systemClock,
      logger,
      onUserWritten: (user) => recommender.rememberUser(user),
      ...(live === undefined ? {} : { onClicks: (clicks) => live.record(clicks) }),
      erasures,
    },
    {
      maxWriteAttempts: 8,
      instanceId,
      maxBufferedClicks: 200_000,
      ...(env.GPLAY_READER_RETENTION_DAYS === undefined
        ? {}
        : { readerRetentionDays: env.GPLAY_READER_RETENTION_DAYS }),
    },
  );
  const readiness = new Readiness(
    { model, data, clock: systemClock },
    { requireModel: env.GPLAY_READY_REQUIRES_MODEL, maxDataAgeMs: 3 * env.GPLAY_DATA_REFRESH_MS },
  );
  await data.refresh().catch(() => undefined); // logged inside; readiness reports it until a refresh succeeds
  let lifecycle: ModelLifecycle | undefined;
  let challengerLifecycle: ModelLifecycle | undefined;
  let modelDir: string | undefined;
  let figures: ModelFigures | undefined;
  if (env.MLFLOW_TRACKING_URI !== undefined) {
    modelDir = await mkdtemp(path.join(tmpdir(), "gplay-api-models-"));
    const mlflow = new MlflowClient(
      mlflowConfigFromEnv({ ...env, MLFLOW_TRACKING_URI: env.MLFLOW_TRACKING_URI }),
      logger,
    );
    figures = new MlflowModelFigures(mlflow, env.GPLAY_MODEL_NAME);
    const openBundle = async (dir: string, manifest: BundleManifest, version: string) =>
      bundleRanker(version, await readBundleDirectory(dir, manifest), () => data.catalogue(), {
        live: live !== undefined,
      });
    lifecycle = new ModelLifecycle({
      registry: new MlflowModelRegistry(mlflow, {
        modelName: env.GPLAY_MODEL_NAME,
        alias: env.GPLAY_MODEL_ALIAS,
        workDir: modelDir,
      }),
      provider: model,
      openBundle,
      logger,
    });
    // Not awaited: the service listens (cold start, /readyz says why) while the first model loads.
    void lifecycle.refresh();
    lifecycle.start(env.GPLAY_MODEL_REFRESH_MS);
    if (challengerOn) {
      challengerLifecycle = new ModelLifecycle({
        registry: new MlflowModelRegistry(mlflow, {
          modelName: env.GPLAY_MODEL_NAME,
          alias: CHALLENGER_ALIAS,
          fallbackStage: null,
          workDir: modelDir,
        }),
        provider: challenger,
        openBundle,
        logger,
      });
      void challengerLifecycle.refresh();
      challengerLifecycle.start(env.GPLAY_MODEL_REFRESH_MS);
    }
  }
  data.startRefreshing(env.GPLAY_DATA_REFRESH_MS);
  events.startFlushing(env.GPLAY_EVENTS_FLUSH_MS);
  live?.start();
  impressions.startFlushing(env.GPLAY_EVENTS_FLUSH_MS);

  const app = createApp({
    online,
    events,
    readiness,
    model,
    logger,
    metrics,
    eraser: new ReaderEraser({
      stores: erasures,
      buffer: events,
      impressions,
      clock: systemClock,
      logger,
    }),
    config: {
      clients: env.GPLAY_API_KEYS.map((c) => ({
        name: c.name,
        key: c.key,
        quota: {
          ratePerSecond: c.ratePerSecond ?? env.GPLAY_RATE_LIMIT_PER_SECOND,
          burst: c.burst ?? env.GPLAY_RATE_LIMIT_BURST,
        },
        ...(c.scopes === undefined ? {} : { scopes: c.scopes }),
      })),
      authFailureQuota: {
        ratePerSecond: env.GPLAY_AUTH_FAILURES_PER_SECOND,
        burst: env.GPLAY_AUTH_FAILURES_BURST,
      },
      trustProxyHops: env.GPLAY_TRUST_PROXY_HOPS,
      corsOrigins: env.GPLAY_CORS_ORIGINS,
      bodyLimitBytes: env.GPLAY_BODY_LIMIT_BYTES,
      requestTimeoutMs: env.GPLAY_REQUEST_TIMEOUT_MS,
      serviceVersion: env.GPLAY_SERVICE_VERSION,
    },
    ...(env.GPLAY_READER_VIEW
      ? {
          readerView: new ReaderView({
            recommender,
            article: (page) => data.article(page),
            model,
            ...(figures === undefined ? {} : { figures }),
            logger,
          }),
        }
      : {}),
  });
  // The served model version as a gauge, so dashboards show which version each task runs.
  const versionGauge = setInterval(() => {
    const state = model.current();
    const version = state.status === "ready" ? Number(state.ranker.modelVersion) : Number.NaN;
    if (Number.isFinite(version)) metrics.emit({ apiModelVersion: version });
  }, 60_000);
  versionGauge.unref();

  const { server, url } = await listen(app, { port: env.PORT });
  logger.info({ event: "listening", url }, "api listening");

  let stopping = false;
  const stop = (signal: string) => {
    logger.info({ event: "signal", signal }, "stopping");
    if (stopping) return;
    stopping = true;
    void drain({
      server,
      startDraining: () => readiness.startDraining(),
      finish: async () => {
        clearInterval(versionGauge);
        data.stopRefreshing();
        live?.stop();
        lifecycle?.stop();
        challengerLifecycle?.stop();
        await events.close();
        await impressions.close();
      },
      logger,
      delayMs: env.GPLAY_DRAIN_DELAY_MS,
      forceAfterMs: env.GPLAY_DRAIN_TIMEOUT_MS,
    }).finally(async () => {
      if (modelDir !== undefined) await rm(modelDir, { recursive: true, force: true }).catch(() => undefined);
      clients.destroy();
      logger.flush();
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  // Before the logger exists (bad config) this is the only way out; the message lists every bad variable.
  const message = isAppError(error) ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: "fatal", service: "api", msg: message })}\n`);
  process.exitCode = 1;
});
