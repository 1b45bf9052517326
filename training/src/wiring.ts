/** Builds every dependency of the training job from validated configuration. The only wiring point. */
import {
  awsClientOptionsFromEnv,
  createAwsClients,
  createLogger,
  type Logger,
  lakeBucketNames,
  SNAPSHOT_OVERRIDE_VARS,
  tableNames,
} from "@gplay/common";
import { MlflowClient, mlflowConfigFromEnv } from "@gplay/mlflow";
import { DynamoArticleVectors } from "./adapters/dynamo-article-vectors.js";
import { MlflowTracker } from "./adapters/mlflow-tracker.js";
import { S3ImpressionLog } from "./adapters/s3-impression-log.js";
import { S3SnapshotReader } from "./adapters/s3-snapshot-reader.js";
import type { JobDeps } from "./app/run-job.js";
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from "./app/train.js";
import type { TrainingEnv } from "./env.js";
import { initTensorflow } from "./tf/backend.js";

export const SERVICE = "training";
export const VERSION = "0.1.0";

export interface TrainingApp {
  logger: Logger;
  deps: JobDeps;
  registry: MlflowTracker;
  /** The impression log the online decision reads (processed/impressions). */
  impressionLog: S3ImpressionLog;
  config: TrainConfig;
  bucket: string;
  close(): void;
}

export function trainConfigFromEnv(env: TrainingEnv): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    modelName: env.GPLAY_MODEL_NAME,
    experimentName: env.GPLAY_EXPERIMENT_NAME,
    seed: env.GPLAY_TRAIN_SEED,
    epochs: env.GPLAY_TRAIN_EPOCHS,
    batchSize: env.GPLAY_TRAIN_BATCH_SIZE,
    learningRate: env.GPLAY_TRAIN_LEARNING_RATE,
    hidden: env.GPLAY_TRAIN_HIDDEN.map(Number),
    loss: env.GPLAY_TRAIN_LOSS,
    features: env.GPLAY_TRAIN_FEATURES,
    examplesAt: env.GPLAY_TRAIN_EXAMPLES_AT,
    tuningAt: env.GPLAY_TRAIN_TUNING_AT,
    recentBy: env.GPLAY_TRAIN_RECENT_BY,
    patience: env.GPLAY_TRAIN_PATIENCE === 0 ? undefined : env.GPLAY_TRAIN_PATIENCE,
    maxEvalReaders: env.GPLAY_TRAIN_MAX_EVAL_READERS,
    onlineLoop: env.GPLAY_ONLINE_LOOP,
  };
}

export async function createTrainingApp(env: TrainingEnv, logger?: Logger): Promise<TrainingApp> {
  const log =
    logger ??
    createLogger({
      service: SERVICE,
      version: VERSION,
      level: env.LOG_LEVEL,
      base: { environment: env.GPLAY_ENVIRONMENT, eventId: env[SNAPSHOT_OVERRIDE_VARS.eventId] },
    });
  const clients = createAwsClients(awsClientOptionsFromEnv(env));
  const mlflow = new MlflowClient(mlflowConfigFromEnv(env), log);
  const tracker = new MlflowTracker(mlflow);
  const { tf, backend } = await initTensorflow({ prefer: env.GPLAY_TF_BACKEND, log });
  return {
    logger: log,
    registry: tracker,
    config: trainConfigFromEnv(env),
    impressionLog: new S3ImpressionLog(clients.s3, lakeBucketNames(env.GPLAY_PREFIX).processed),
    bucket: env[SNAPSHOT_OVERRIDE_VARS.bucket] ?? lakeBucketNames(env.GPLAY_PREFIX).processed,
    deps: {
      tf,
      backend,
      tracker,
      registry: tracker,
      log,
      snapshots: new S3SnapshotReader(clients.s3),
      vectors: new DynamoArticleVectors(clients.documents, tableNames(env.GPLAY_PREFIX).items),
    },
    close: () => clients.destroy(),
  };
}
