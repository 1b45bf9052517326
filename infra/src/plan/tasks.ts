import { DEFAULT_MODEL_NAME } from "@gplay/common";

/**
 * ECS container definitions as data. Generic over the value type so the same function serves the
 * program (values are `pulumi.Output<string>`, serialised with `pulumi.jsonStringify`) and the unit
 * tests (plain strings). Secrets only ever travel as `secrets[].valueFrom` (a Secrets Manager ARN).
 */
export interface ContainerSpec<S> {
  name: string;
  image: S;
  cpu: number;
  memory: number;
  environment: Record<string, S>;
  secrets: Record<string, S>;
  logGroup: S;
  region: string;
  port?: number;
  command?: string[];
  /** Replaces the image's ENTRYPOINT (e.g. a one-shot script of a server image). */
  entryPoint?: string[];
  healthCheckPath?: string;
}

export interface ContainerDefinition<S> {
  name: string;
  image: S;
  essential: true;
  cpu: number;
  memory: number;
  environment: { name: string; value: S }[];
  secrets: { name: string; valueFrom: S }[];
  portMappings: { containerPort: number; protocol: "tcp" }[];
  logConfiguration: { logDriver: "awslogs"; options: Record<string, S | string> };
  linuxParameters: { initProcessEnabled: true };
  readonlyRootFilesystem: false;
  stopTimeout: number;
  command?: string[];
  entryPoint?: string[];
  healthCheck?: {
    command: string[];
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
  };
}

/** Names that must never appear in plain `environment`: they are secrets by their name. */
export const SECRET_NAME_PATTERN = /(PASSWORD|SECRET|SECRET_KEY|TOKEN|PRIVATE_KEY|API_KEYS?|CREDENTIALS?)$/i;

export function containerDefinition<S>(spec: ContainerSpec<S>): ContainerDefinition<S> {
  const leaked = Object.keys(spec.environment).filter((n) => SECRET_NAME_PATTERN.test(n));
  if (leaked.length > 0) throw new RangeError(`secret-like names in plain environment: ${leaked.join(", ")}`);
  const sorted = <T>(record: Record<string, T>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    name: spec.name,
    image: spec.image,
    essential: true,
    cpu: spec.cpu,
    memory: spec.memory,
    environment: sorted(spec.environment).map(([name, value]) => ({ name, value })),
    secrets: sorted(spec.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
    portMappings: spec.port === undefined ? [] : [{ containerPort: spec.port, protocol: "tcp" }],
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": spec.logGroup,
        "awslogs-region": spec.region,
        "awslogs-stream-prefix": spec.name,
      },
    },
    // ECS Exec needs the init process; it also reaps zombies and forwards SIGTERM to node.
    linuxParameters: { initProcessEnabled: true },
    readonlyRootFilesystem: false,
    stopTimeout: STOP_TIMEOUT_SECONDS,
    ...(spec.command !== undefined && { command: spec.command }),
    ...(spec.entryPoint !== undefined && { entryPoint: spec.entryPoint }),
    ...(spec.healthCheckPath !== undefined &&
      spec.port !== undefined && {
        healthCheck: {
          command: [
            "CMD-SHELL",
            `node -e "fetch('http://127.0.0.1:${spec.port}${spec.healthCheckPath}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"`,
          ],
          interval: 15,
          timeout: 5,
          retries: 3,
          startPeriod: 30,
        },
      }),
  };
}

/**
 * The variables infra sets, named as the services parse them (featstore-engine/src/env.ts,
 * training/src/env.ts with mlflow's `mlflowEnvSchema`, api/src/env.ts) and as mlflow/server/
 * entrypoint.sh documents them. Bucket and table names are not passed: every service derives them
 * from GPLAY_PREFIX with common's lakeBucketNames/tableNames. test/program/service-env.test.ts
 * parses each task's variables with the service's own schema.
 */
export const ENV = {
  environment: "GPLAY_ENVIRONMENT",
  prefix: "GPLAY_PREFIX",
  region: "AWS_REGION",
  modelName: "GPLAY_MODEL_NAME",
  apiKeys: "GPLAY_API_KEYS",
  port: "PORT",
  mlflowTrackingUri: "MLFLOW_TRACKING_URI",
  mlflowTrackingUsername: "MLFLOW_TRACKING_USERNAME",
  mlflowTrackingPassword: "MLFLOW_TRACKING_PASSWORD",
  /** The private CA's certificate (PEM) the MLflow client trusts for the https tracking URI. */
  mlflowTrackingCaPem: "MLFLOW_TRACKING_SERVER_CA_PEM",
  mlflowPort: "MLFLOW_PORT",
  mlflowDbHost: "MLFLOW_DB_HOST",
  mlflowDbPort: "MLFLOW_DB_PORT",
  mlflowDbName: "MLFLOW_DB_NAME",
  mlflowDbUser: "MLFLOW_DB_USER",
  mlflowDbPassword: "MLFLOW_DB_PASSWORD",
  mlflowDbSslMode: "MLFLOW_DB_SSLMODE",
  mlflowArtifactsDestination: "MLFLOW_ARTIFACTS_DESTINATION",
  mlflowAuthEnabled: "MLFLOW_AUTH_ENABLED",
  mlflowAuthAdminUsername: "MLFLOW_AUTH_ADMIN_USERNAME",
  mlflowAuthAdminPassword: "MLFLOW_AUTH_ADMIN_PASSWORD",
  mlflowFlaskSecretKey: "MLFLOW_FLASK_SERVER_SECRET_KEY",
  mlflowAllowedHosts: "MLFLOW_SERVER_ALLOWED_HOSTS",
  drainDelayMs: "GPLAY_DRAIN_DELAY_MS",
  drainTimeoutMs: "GPLAY_DRAIN_TIMEOUT_MS",
  trustProxyHops: "GPLAY_TRUST_PROXY_HOPS",
  /** Node's own options: the engine's heap settings (common's ENGINE_NODE_OPTIONS). */
  nodeOptions: "NODE_OPTIONS",
  /** Users-table TTL of inactive readers (plan/retention.ts). */
  readerRetentionDays: "GPLAY_READER_RETENTION_DAYS",
  /** The online loop (plan/config.ts OnlineConfig): training's gate sets `@challenger`. */
  onlineLoop: "GPLAY_ONLINE_LOOP",
  /** The api's share of readers served by `@challenger`. */
  challengerShare: "GPLAY_CHALLENGER_SHARE",
} as const;

/**
 * Proxies between a client and the api that append to X-Forwarded-For: the ALB alone. The api's
 * per-IP limit uses the address the ALB saw (a client-written X-Forwarded-For prefix is ignored).
 */
export const API_PROXY_HOPS = 1;

/** ECS sends SIGKILL this long after SIGTERM (the containers' `stopTimeout`). */
export const STOP_TIMEOUT_SECONDS = 30;

/**
 * The api's graceful stop against the load balancer's timings. After SIGTERM the task keeps serving
 * `delayMs` (the ALB's nodes take a few seconds to stop routing to a deregistered target), then
 * requests in flight get `timeoutMs`. Both together fit in the target group's deregistration delay
 * (the ALB keeps a draining target's connections that long) and in the containers' stopTimeout.
 * The invariant `api-drain` checks these relations on the recorded resources.
 */
export const API_DRAIN = { delayMs: 5_000, timeoutMs: 20_000, deregistrationDelaySeconds: 30 } as const;

/** The shortest drain delay after which the ALB no longer routes to a deregistered target. */
export const MIN_DRAIN_DELAY_MS = 3_000;

/** The registered model training publishes and the api serves: common's default, set explicitly on both. */
export const MODEL_NAME = DEFAULT_MODEL_NAME;

/** MLflow's admin (created by MLflow at first start) and the user training and the api sign in as. */
export const MLFLOW_ADMIN_USERNAME = "admin";
export const MLFLOW_SERVICE_USERNAME = "gplay-service";

/**
 * Host headers MLflow accepts (its DNS-rebinding guard): its private name inside the VPC (what
 * clients call, plan/internal-tls.ts), the internal load balancer's own name, and localhost for an
 * operator's ECS Exec port forward. The listener is HTTPS on 443 only.
 */
export function mlflowAllowedHosts(hostname: string, loadBalancerDns: string, port: number): string {
  return [
    hostname,
    `${hostname}:443`,
    loadBalancerDns,
    `${loadBalancerDns}:443`,
    "localhost",
    `localhost:${port}`,
    "127.0.0.1",
    `127.0.0.1:${port}`,
  ].join(",");
}
