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
  healthCheck?: {
    command: string[];
    interval: number;
    timeout: number;
    retries: number;
    startPeriod: number;
  };
}

/** Names that must never appear in plain `environment`: they are secrets by their name. */
export const SECRET_NAME_PATTERN = /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIALS?)$/i;

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
    stopTimeout: 30,
    ...(spec.command !== undefined && { command: spec.command }),
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
 * The environment each service receives (the variables its `env.ts` parses). Every name derives
 * from the one prefix, which is also passed, so a service can rebuild them with common's helpers.
 */
export const ENV = {
  environment: "GPLAY_ENVIRONMENT",
  prefix: "GPLAY_RESOURCE_PREFIX",
  region: "AWS_REGION",
  rawBucket: "GPLAY_RAW_BUCKET",
  processedBucket: "GPLAY_PROCESSED_BUCKET",
  modelsBucket: "GPLAY_MODELS_BUCKET",
  tableUsers: "GPLAY_TABLE_USERS",
  tableItems: "GPLAY_TABLE_ITEMS",
  tableColdstart: "GPLAY_TABLE_COLDSTART",
  tableIngestions: "GPLAY_TABLE_INGESTIONS",
  mlflowTrackingUri: "MLFLOW_TRACKING_URI",
  port: "PORT",
  mlflowDbHost: "MLFLOW_DB_HOST",
  mlflowDbPort: "MLFLOW_DB_PORT",
  mlflowDbName: "MLFLOW_DB_NAME",
  mlflowDbUser: "MLFLOW_DB_USER",
  mlflowDbPassword: "MLFLOW_DB_PASSWORD",
  mlflowArtifactsDestination: "MLFLOW_ARTIFACTS_DESTINATION",
} as const;
