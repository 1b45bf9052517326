import { ENGINE_MIN_TASK_MEMORY_MIB, resourcePrefixSchema } from "@gplay/common";
import { WORKLOADS, type Workload } from "./names.js";
import { fargateSizeProblem } from "./sizes.js";

/**
 * The stack configuration, validated. `index.ts` reads the raw values with `pulumi.Config` and hands
 * them here; everything downstream receives this typed, checked object (never raw config).
 */
export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** How tasks in private subnets reach AWS APIs: NAT gateway(s), or VPC interface endpoints only. */
export const EGRESS_MODES = ["nat-single", "nat-per-az", "endpoints"] as const;
export type EgressMode = (typeof EGRESS_MODES)[number];

export interface TaskSize {
  cpu: number;
  memory: number;
}

export interface ApiConfig extends TaskSize {
  minCount: number;
  maxCount: number;
  cpuTargetPercent: number;
  requestsPerTarget: number;
  port: number;
}

export interface MlflowConfig extends TaskSize {
  desiredCount: number;
  port: number;
}

export interface DatabaseConfig {
  instanceClass: string;
  allocatedStorageGb: number;
  multiAz: boolean;
  backupRetentionDays: number;
}

/**
 * The online loop (docs/online.md): training's gate sets `@challenger` (GPLAY_ONLINE_LOOP), the api
 * serves it to `challengerShare` of readers (GPLAY_CHALLENGER_SHARE), and training's `decide` runs on
 * `decideSchedule` to promote or stop it. Off: none of the three.
 */
export interface OnlineConfig {
  enabled: boolean;
  challengerShare: number;
  decideSchedule: string;
}

export interface PlatformConfig {
  environment: Environment;
  /** Prefix of every resource name (common's `resourcePrefix`), e.g. `gplay-dev`. */
  prefix: string;
  region: string;
  vpcCidr: string;
  azCount: number;
  egress: EgressMode;
  api: ApiConfig;
  mlflow: MlflowConfig;
  featstoreEngine: TaskSize;
  training: TaskSize & { schedule: string };
  online: OnlineConfig;
  database: DatabaseConfig;
  logRetentionDays: number;
  /**
   * Build and push the images from the sibling workspaces (needs Docker; dev only, e.g. the first
   * deploy); otherwise deploy `imageDigests` (CI's build-once path) or, in dev, `<repo>:<imageTag>`.
   */
  buildImages: boolean;
  imageTag: string;
  /** The image of each workload by digest (`sha256:…`): CI builds once and deploys these everywhere. */
  imageDigests?: Record<Workload, string>;
  /**
   * Public name of the API. HTTPS with `certificateArn`, or with a certificate created and
   * DNS-validated in `hostedZoneId`; prod refuses to build without one of the two.
   */
  domain?: string;
  hostedZoneId?: string;
  certificateArn?: string;
  /** AWS WAF rate-based rule: requests per client IP per five minutes before it is blocked. */
  wafRatePerFiveMinutes: number;
  alarmEmail?: string;
  /** Always true in prod; tables, the database and the ALB refuse deletion. */
  deletionProtection: boolean;
}

/** Raw values as `pulumi.Config` returns them (strings, numbers, objects, or undefined). */
export type RawConfig = Record<string, unknown>;

/** CloudWatch Logs accepts only these retention values. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const DEFAULTS = {
  vpcCidr: "10.40.0.0/16",
  azCount: 2,
  egress: "nat-single",
  api: {
    cpu: 512,
    memory: 1024,
    minCount: 1,
    maxCount: 4,
    cpuTargetPercent: 60,
    requestsPerTarget: 500,
    port: 8080,
  },
  mlflow: { cpu: 512, memory: 1024, desiredCount: 1, port: 5000 },
  // ~1 GB peak RSS at full scale under common's ENGINE_HEAP (bench/README.md), so 2 GB: the least at 1 vCPU.
  featstoreEngine: { cpu: 1024, memory: ENGINE_MIN_TASK_MEMORY_MIB },
  training: { cpu: 2048, memory: 8192, schedule: "cron(0 4 * * ? *)" },
  online: { enabled: false, challengerShare: 0.1, decideSchedule: "rate(1 hour)" },
  database: { instanceClass: "db.t4g.micro", allocatedStorageGb: 20, multiAz: false, backupRetentionDays: 7 },
  logRetentionDays: 30,
  buildImages: false,
  imageTag: "latest",
  wafRatePerFiveMinutes: 2000,
} as const;

/** An image digest as ECR reports it. */
export const IMAGE_DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Thrown with every problem at once, so one `pulumi preview` shows all the keys to fix. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid stack configuration (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Obj = Record<string, unknown>;

/**
 * Validates the raw stack config against the stack name. Pure. Production rules: at least 2 AZs,
 * at least 2 API tasks and 2 MLflow tasks, a multi-AZ database, deletion protection on, HTTPS on the public listener
 * (a certificate, or a domain in a hosted zone to validate one), and images deployed by digest.
 */
export function parseConfig(raw: RawConfig, stack: string): PlatformConfig {
  const problems: string[] = [];
  const obj = (key: string): Obj => {
    const v = raw[key];
    if (v === undefined) return {};
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Obj;
    problems.push(`${key}: expected an object`);
    return {};
  };
  const int = (where: string, v: unknown, fallback: number, min: number, max: number): number => {
    if (v === undefined) return fallback;
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${where}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };
  const bool = (where: string, v: unknown, fallback: boolean): boolean => {
    if (v === undefined) return fallback;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    problems.push(`${where}: expected true or false`);
    return fallback;
  };
  const str = (where: string, v: unknown, pattern?: RegExp): string | undefined => {
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string" || (pattern !== undefined && !pattern.test(v))) {
      problems.push(`${where}: invalid value ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };

  const envRaw = raw.environment ?? stack;
  const environment = (ENVIRONMENTS as readonly unknown[]).includes(envRaw)
    ? (envRaw as Environment)
    : undefined;
  if (environment === undefined)
    problems.push(`environment: expected one of ${ENVIRONMENTS.join(", ")}, got ${JSON.stringify(envRaw)}`);
  const env = environment ?? "dev";
  const prod = env === "prod";

  const prefixRaw = str("resourcePrefix", raw.resourcePrefix) ?? `gplay-${env}`;
  const prefixCheck = resourcePrefixSchema.safeParse(prefixRaw);
  if (!prefixCheck.success)
    problems.push(`resourcePrefix: ${prefixCheck.error.issues[0]?.message ?? "invalid"}`);

  const region = str("aws:region", raw.region, /^[a-z]{2}(-gov)?-[a-z]+-\d$/);
  if (region === undefined && raw.region === undefined) problems.push("aws:region: required");

  const vpcCidr = str("vpcCidr", raw.vpcCidr, /^10\.\d{1,3}\.0\.0\/16$/) ?? DEFAULTS.vpcCidr;
  const azCount = int("azCount", raw.azCount, DEFAULTS.azCount, 1, 3);
  if (prod && azCount < 2) problems.push("azCount: prod needs at least 2 availability zones");

  const egressRaw = raw.egress ?? DEFAULTS.egress;
  const egress = (EGRESS_MODES as readonly unknown[]).includes(egressRaw)
    ? (egressRaw as EgressMode)
    : undefined;
  if (egress === undefined) problems.push(`egress: expected one of ${EGRESS_MODES.join(", ")}`);

  const size = (key: string, v: Obj, d: TaskSize): TaskSize => {
    const s = {
      cpu: int(`${key}.cpu`, v.cpu, d.cpu, 256, 16384),
      memory: int(`${key}.memory`, v.memory, d.memory, 512, 122880),
    };
    const problem = fargateSizeProblem(s.cpu, s.memory);
    if (problem !== undefined) problems.push(`${key}: ${problem}`);
    return s;
  };

  const a = obj("api");
  const minCount = int("api.minCount", a.minCount, prod ? 2 : DEFAULTS.api.minCount, 1, 50);
  const maxCount = int("api.maxCount", a.maxCount, Math.max(minCount, DEFAULTS.api.maxCount), 1, 100);
  if (maxCount < minCount) problems.push("api.maxCount: must be >= api.minCount");
  if (prod && minCount < 2) problems.push("api.minCount: prod runs at least 2 API tasks");
  const api: ApiConfig = {
    ...size("api", a, DEFAULTS.api),
    minCount,
    maxCount,
    cpuTargetPercent: int("api.cpuTargetPercent", a.cpuTargetPercent, DEFAULTS.api.cpuTargetPercent, 10, 95),
    requestsPerTarget: int(
      "api.requestsPerTarget",
      a.requestsPerTarget,
      DEFAULTS.api.requestsPerTarget,
      10,
      100000,
    ),
    port: int("api.port", a.port, DEFAULTS.api.port, 1024, 65535),
  };

  const m = obj("mlflow");
  const mlflow: MlflowConfig = {
    ...size("mlflow", m, DEFAULTS.mlflow),
    desiredCount: int("mlflow.desiredCount", m.desiredCount, prod ? 2 : DEFAULTS.mlflow.desiredCount, 1, 4),
    port: int("mlflow.port", m.port, DEFAULTS.mlflow.port, 1024, 65535),
  };

  if (prod && mlflow.desiredCount < 2)
    problems.push(
      "mlflow.desiredCount: prod runs at least 2 MLflow tasks (training and the api depend on it)",
    );

  const t = obj("training");
  const schedule = str("training.schedule", t.schedule, /^(cron|rate)\(.+\)$/) ?? DEFAULTS.training.schedule;

  const o = obj("online");
  const online: OnlineConfig = {
    enabled: bool("online.enabled", o.enabled, DEFAULTS.online.enabled),
    challengerShare: DEFAULTS.online.challengerShare,
    decideSchedule:
      str("online.decideSchedule", o.decideSchedule, /^(cron|rate)\(.+\)$/) ?? DEFAULTS.online.decideSchedule,
  };
  if (o.challengerShare !== undefined) {
    const share = typeof o.challengerShare === "string" ? Number(o.challengerShare) : o.challengerShare;
    // The decision compares clicks of both arms: a loop without challenger readers never decides.
    if (typeof share !== "number" || !(share > 0 && share <= 1))
      problems.push(
        `online.challengerShare: expected a number in (0, 1], got ${JSON.stringify(o.challengerShare)}`,
      );
    else online.challengerShare = share;
  }

  const d = obj("database");
  const database: DatabaseConfig = {
    instanceClass:
      str("database.instanceClass", d.instanceClass, /^db\.[a-z0-9]+\.[a-z0-9]+$/) ??
      DEFAULTS.database.instanceClass,
    allocatedStorageGb: int(
      "database.allocatedStorageGb",
      d.allocatedStorageGb,
      DEFAULTS.database.allocatedStorageGb,
      20,
      1000,
    ),
    multiAz: bool("database.multiAz", d.multiAz, prod),
    backupRetentionDays: int(
      "database.backupRetentionDays",
      d.backupRetentionDays,
      prod ? 14 : DEFAULTS.database.backupRetentionDays,
      1,
      35,
    ),
  };
  if (prod && !database.multiAz) problems.push("database.multiAz: prod needs a multi-AZ database");

  const logRetentionDays = int(
    "logRetentionDays",
    raw.logRetentionDays,
    prod ? 90 : DEFAULTS.logRetentionDays,
    1,
    3653,
  );
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays))
    problems.push(`logRetentionDays: CloudWatch accepts ${LOG_RETENTION_DAYS.join(", ")}`);

  const domain = str("domain", raw.domain, /^([a-z0-9-]+\.)+[a-z]{2,}$/);
  const hostedZoneId = str("hostedZoneId", raw.hostedZoneId, /^Z[A-Z0-9]+$/);
  const certificateArn = str(
    "certificateArn",
    raw.certificateArn,
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/,
  );
  if (domain !== undefined && certificateArn === undefined && hostedZoneId === undefined)
    problems.push(
      "certificateArn: required when domain is set without hostedZoneId (to validate one by DNS)",
    );
  if (hostedZoneId !== undefined && domain === undefined)
    problems.push("domain: required when hostedZoneId is set");
  if (certificateArn !== undefined && domain === undefined)
    problems.push("domain: required when certificateArn is set (the name the certificate covers)");
  if (prod && certificateArn === undefined && (domain === undefined || hostedZoneId === undefined))
    problems.push(
      "certificateArn: prod serves the API over HTTPS only: set certificateArn (with domain), or domain and hostedZoneId to create a DNS-validated certificate",
    );
  const wafRatePerFiveMinutes = int(
    "wafRatePerFiveMinutes",
    raw.wafRatePerFiveMinutes,
    DEFAULTS.wafRatePerFiveMinutes,
    10,
    2_000_000_000,
  );
  const alarmEmail = str("alarmEmail", raw.alarmEmail, /^[^@\s]+@[^@\s]+\.[^@\s]+$/);

  const deletionProtection = bool("deletionProtection", raw.deletionProtection, prod);
  if (prod && !deletionProtection) problems.push("deletionProtection: cannot be turned off in prod");

  const imageTag = str("imageTag", raw.imageTag, /^[\w][\w.-]{0,127}$/) ?? DEFAULTS.imageTag;
  const buildImages = bool("buildImages", raw.buildImages, DEFAULTS.buildImages);
  const imageDigests = digests(raw.imageDigests, problems);
  if (imageDigests !== undefined && buildImages)
    problems.push("buildImages: cannot be combined with imageDigests (deploy what CI built, or build here)");
  if (prod && buildImages)
    problems.push("buildImages: prod never builds: it deploys the digests built once and run in dev");
  if (prod && imageDigests === undefined)
    problems.push(
      `imageDigests: prod deploys images by digest ({${WORKLOADS.join(", ")}} → sha256:…), as CI's build job reports them`,
    );

  const featstoreEngine = size("featstoreEngine", obj("featstoreEngine"), DEFAULTS.featstoreEngine);
  if (featstoreEngine.memory < ENGINE_MIN_TASK_MEMORY_MIB)
    problems.push(
      `featstoreEngine.memory: at least ${ENGINE_MIN_TASK_MEMORY_MIB} MiB (the engine's heap cap plus what it holds outside the heap)`,
    );
  const training = { ...size("training", t, DEFAULTS.training), schedule };

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    environment: env,
    prefix: prefixRaw,
    region: region as string,
    vpcCidr,
    azCount,
    egress: egress as EgressMode,
    api,
    mlflow,
    featstoreEngine,
    training,
    online,
    database,
    logRetentionDays,
    buildImages,
    imageTag,
    ...(imageDigests !== undefined && { imageDigests }),
    ...(domain !== undefined && { domain }),
    ...(hostedZoneId !== undefined && { hostedZoneId }),
    ...(certificateArn !== undefined && { certificateArn }),
    ...(alarmEmail !== undefined && { alarmEmail }),
    wafRatePerFiveMinutes,
    deletionProtection,
  };
}

/** `imageDigests`: an object (or its JSON, as `--config` passes it) with one digest per workload. */
function digests(v: unknown, problems: string[]): Record<Workload, string> | undefined {
  if (v === undefined || v === "") return undefined;
  let value = v;
  if (typeof v === "string") {
    try {
      value = JSON.parse(v);
    } catch {
      problems.push("imageDigests: expected a JSON object");
      return undefined;
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push("imageDigests: expected an object");
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  const bad = WORKLOADS.filter(
    (w) => typeof obj[w] !== "string" || !IMAGE_DIGEST_PATTERN.test(obj[w] as string),
  );
  const extra = Object.keys(obj).filter((k) => !(WORKLOADS as readonly string[]).includes(k));
  if (bad.length > 0) problems.push(`imageDigests: needs a sha256:<64 hex> digest for ${bad.join(", ")}`);
  if (extra.length > 0) problems.push(`imageDigests: unknown workloads ${extra.join(", ")}`);
  if (bad.length > 0 || extra.length > 0) return undefined;
  return Object.fromEntries(WORKLOADS.map((w) => [w, obj[w] as string])) as Record<Workload, string>;
}
