import {
  API_SCOPES,
  awsEnvSchema,
  CHAMPION_ALIAS,
  DEFAULT_MODEL_NAME,
  envFields,
  resourcePrefixSchema,
} from "@gplay/common";
import { mlflowEnvSchema } from "@gplay/mlflow";
import { z } from "zod";

const clientSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  key: z.string().min(16, "API keys must be at least 16 characters"),
  ratePerSecond: z.number().positive().optional(),
  burst: z.number().int().positive().optional(),
  /** What the key may do; `admin` opens the admin routes (default: `recommend` only). */
  scopes: z.array(z.enum(API_SCOPES)).min(1).optional(),
});

/**
 * `GPLAY_API_KEYS`: a JSON array of {name, key, ratePerSecond?, burst?, scopes?} (in AWS, a Secrets
 * Manager secret).
 */
const apiKeysField = z.string().transform((raw, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: 'expected JSON: [{"name":"web","key":"…","ratePerSecond":50,"burst":100}]',
    });
    return z.NEVER;
  }
  const parsed = z.array(clientSchema).min(1).safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: "custom", message: `${issue.path.join(".")}: ${issue.message}` });
    return z.NEVER;
  }
  return parsed.data;
});

/** The api service's configuration. Parsed once in main.ts; nothing else reads process.env. */
export const apiEnvSchema = awsEnvSchema.extend({
  /** MLflow client variables (auth, timeout, retries), as MLflow's own clients spell them. */
  ...mlflowEnvSchema.shape,
  PORT: envFields.int(0, 65_535).default(8080),
  GPLAY_ENVIRONMENT: z.string().min(1).default("local"),
  /** Prefix of every table and bucket name (`gplay-<env>` in AWS). */
  GPLAY_PREFIX: resourcePrefixSchema,
  LOG_LEVEL: envFields.logLevel(),
  GPLAY_API_KEYS: apiKeysField,
  GPLAY_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  GPLAY_RATE_LIMIT_BURST: envFields.int(1, 100_000).default(100),
  /** Failed authentications per client IP: sustained rate and burst, then 429 before authentication. */
  GPLAY_AUTH_FAILURES_PER_SECOND: z.coerce.number().positive().default(1),
  GPLAY_AUTH_FAILURES_BURST: envFields.int(1, 100_000).default(20),
  /**
   * Proxies in front of the api that append to X-Forwarded-For (the ALB: 1; none locally: 0). The
   * client IP the limits use is the address the outermost trusted proxy saw, never one a client wrote.
   */
  GPLAY_TRUST_PROXY_HOPS: envFields.int(0, 10).default(0),
  GPLAY_CORS_ORIGINS: envFields.list().default([]),
  GPLAY_BODY_LIMIT_BYTES: envFields.int(1_024, 10_485_760).default(262_144),
  GPLAY_REQUEST_TIMEOUT_MS: envFields.int(50, 120_000).default(2_000),
  /** Registry the model loader reads `models:/<name>@champion` from; unset: cold start only. */
  MLFLOW_TRACKING_URI: envFields.url().optional(),
  GPLAY_MODEL_NAME: z.string().min(1).default(DEFAULT_MODEL_NAME),
  /** Alias of the served version (stage Production is the fallback when it is not set). */
  GPLAY_MODEL_ALIAS: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default(CHAMPION_ALIAS),
  /**
   * The online loop (docs/online.md): share of readers (0..1, sticky by reader hash) served by the
   * `@challenger` version when one is set; 0 with mode `split` loads no challenger.
   */
  GPLAY_CHALLENGER_SHARE: z.coerce.number().min(0).max(1).default(0),
  /** `split`: the challenger answers its share; `shadow`: it scores every request unseen. */
  GPLAY_CHALLENGER_MODE: z.enum(["split", "shadow"]).default("split"),
  /** Salt of the reader hash (change it to reshuffle readers between arms). */
  GPLAY_CHALLENGER_SALT: z.string().min(1).default("gplay-online"),
  GPLAY_MODEL_REFRESH_MS: envFields.int(1_000, 86_400_000).default(60_000),
  GPLAY_DATA_REFRESH_MS: envFields.int(1_000, 86_400_000).default(300_000),
  GPLAY_EVENTS_FLUSH_MS: envFields.int(100, 600_000).default(5_000),
  /** A reader's item expires (DynamoDB TTL) this many days after a click last wrote it; unset: never. */
  GPLAY_READER_RETENTION_DAYS: envFields.int(1, 36_500).optional(),
  /**
   * The served world follows the clicks `/events` accepts (docs/architecture.md, "Live world"): its
   * reference time becomes the latest click's, with the articles issued since the snapshot and the
   * popularity advanced with the clicks. Off: the snapshot's world until the next bundle.
   */
  GPLAY_LIVE_WORLD: envFields.bool().default(true),
  /**
   * The live world is rebuilt at least this often while clicks arrive (a rebuild holds the event loop
   * ≈ 0.25 s at 364k articles: the default matches the articles' refresh, which pays more)…
   */
  GPLAY_LIVE_REBUILD_MS: envFields.int(1_000, 86_400_000).default(300_000),
  /** …and as soon as this many clicks wait (whichever comes first). */
  GPLAY_LIVE_REBUILD_READS: envFields.int(1, 10_000_000).default(100_000),
  /** Latest clicks kept (page and time only) to bring a newly loaded model version up to date. */
  GPLAY_LIVE_RECENT_READS: envFields.int(0, 5_000_000).default(200_000),
  /** Clicks of articles this task has not loaded yet, kept (the latest N to 2N) until a refresh loads them. */
  GPLAY_LIVE_WAITING_READS: envFields.int(0, 5_000_000).default(50_000),
  GPLAY_FRESHNESS_HOURS: envFields.int(1, 24 * 365).default(48),
  GPLAY_USER_CACHE_TTL_MS: envFields.int(0, 5_000).default(2_000),
  GPLAY_READY_REQUIRES_MODEL: envFields.bool().default(true),
  /** Serve the reader view page at GET /view (?key=<api key>&userId=…): for local and staging use. */
  GPLAY_READER_VIEW: envFields.bool().default(false),
  /**
   * After SIGTERM, keep serving this long before closing the listener: ECS deregisters the task and the
   * load balancer's nodes take a few seconds to stop routing to it (with 0, requests still routed here
   * were refused or reset). Infra sets it with the target group's deregistration delay (API_DRAIN).
   */
  GPLAY_DRAIN_DELAY_MS: envFields.int(0, 120_000).default(5_000),
  /** Then in-flight requests get this long before connections are cut (delay + this < ECS stopTimeout). */
  GPLAY_DRAIN_TIMEOUT_MS: envFields.int(1_000, 120_000).default(20_000),
  GPLAY_SERVICE_VERSION: z.string().min(1).default("0.1.0"),
});
export type ApiEnv = z.infer<typeof apiEnvSchema>;
