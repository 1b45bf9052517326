import {
  awsEnvSchema,
  DEFAULT_EXPERIMENT_NAME,
  DEFAULT_MODEL_NAME,
  envFields,
  resourcePrefixSchema,
  SNAPSHOT_OVERRIDE_VARS,
} from "@gplay/common";
import { mlflowEnvSchema } from "@gplay/mlflow";
import { z } from "zod";
import { RECENT_MEASURES } from "./domain/baselines.js";
import { FEATURE_SET_NAMES, RANKING_LOSSES } from "./domain/examples.js";
import { SERVED_AT } from "./domain/served-window.js";

/** The training job's configuration: everything it reads from the environment, validated once. */
export const trainingEnvSchema = awsEnvSchema.extend(mlflowEnvSchema.shape).extend({
  /** Resource prefix (`gplay-<env>`): bucket and table names derive from it. */
  GPLAY_PREFIX: resourcePrefixSchema,
  GPLAY_ENVIRONMENT: z.string().min(1).default("local"),
  LOG_LEVEL: envFields.logLevel(),
  GPLAY_MODEL_NAME: z.string().min(1).default(DEFAULT_MODEL_NAME),
  GPLAY_EXPERIMENT_NAME: z.string().min(1).default(DEFAULT_EXPERIMENT_NAME),
  GPLAY_TRAIN_SEED: envFields.int(0, 2 ** 31 - 1).default(42),
  GPLAY_TRAIN_EPOCHS: envFields.int(0, 1000).default(8),
  GPLAY_TRAIN_BATCH_SIZE: envFields.int(1, 1 << 20).default(512),
  GPLAY_TRAIN_LEARNING_RATE: z.coerce.number().positive().max(1).default(0.003),
  GPLAY_TRAIN_HIDDEN: envFields.list().default(["64", "32"]),
  /** How the ranker learns: "listwise" (softmax over a reader's positive and its negatives) or "pointwise". */
  GPLAY_TRAIN_LOSS: z.enum(RANKING_LOSSES).default("listwise"),
  /**
   * The network's numeric columns: "share" (the article's reads as shares of the portal's); "counts"
   * (as read counts, the columns of every bundle before the shares); "appeal" (counts and the
   * article's reads against its exposure).
   */
  GPLAY_TRAIN_FEATURES: z.enum(FEATURE_SET_NAMES).default("share"),
  /**
   * Where the training examples are built: "visits" (each reader at the first access in the label
   * window, in the world the api serves then) or "window-start" (the label window's start).
   */
  GPLAY_TRAIN_EXAMPLES_AT: z.enum(SERVED_AT).default("visits"),
  /**
   * Where the baselines are tuned and the serving popularity chosen on the validation window: "visits"
   * (each reader at the first access, as the api serves it) or "window-start" (the window's start).
   */
  GPLAY_TRAIN_TUNING_AT: z.enum(SERVED_AT).default("visits"),
  /**
   * How the recent-buffer baseline and a recent serving popularity measure "recent": "time" (the reads
   * of the last M minutes, M tuned; the default since session 15, docs/quality.md) or "reads" (the
   * latest N reads, N tuned, as before issue #13's window).
   */
  GPLAY_TRAIN_RECENT_BY: z.enum(RECENT_MEASURES).default("time"),
  /** Early stopping: epochs without a better validation loss before stopping; 0 runs every epoch. */
  GPLAY_TRAIN_PATIENCE: envFields.int(0, 1000).default(2),
  GPLAY_TRAIN_MAX_EVAL_READERS: envFields.int(10, 10_000_000).default(5_000),
  /** The online loop (docs/online.md): the gate sets `@challenger`, the decision job moves `@champion`. */
  GPLAY_ONLINE_LOOP: envFields.bool().default(false),
  GPLAY_TF_BACKEND: z.enum(["node", "wasm", "cpu"]).default("node"),
  // Container overrides set by the EventBridge input transformer (ECS) or the local task runner.
  [SNAPSHOT_OVERRIDE_VARS.bucket]: z.string().min(3).optional(),
  [SNAPSHOT_OVERRIDE_VARS.manifestKey]: z.string().min(1).optional(),
  [SNAPSHOT_OVERRIDE_VARS.snapshotId]: z.string().min(1).optional(),
  [SNAPSHOT_OVERRIDE_VARS.eventId]: z.string().optional(),
});
export type TrainingEnv = z.infer<typeof trainingEnvSchema>;
