import * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../../src/invariants/resources.js";
import { T } from "../../src/invariants/resources.js";
import { ACCOUNT, REGION } from "./mocks.js";

/**
 * One mutation per invariant (some invariants have several): which resource to touch and how to
 * remove or weaken one property. The same mutation runs on recorded resources (fast, every entry)
 * and as a Pulumi transformation while the program is built (the program really loses it).
 */
// biome-ignore lint/suspicious/noExplicitAny: mutations edit untyped resource inputs.
type Props = Record<string, any>;

/** The mocked stacks mutations run on (test/support/build.ts STACKS). */
export const MUTATION_STACKS = ["dev", "prod", "dev-endpoints"] as const;
export type MutationStack = (typeof MUTATION_STACKS)[number];

export interface Mutation {
  invariant: string;
  what: string;
  stack: MutationStack;
  type: string;
  /** Logical name suffix of the resource to mutate. */
  name: string;
  mutate(props: Props): Props;
}

/** Edits a JSON string input, whether it is already a string or still an Output. */
// biome-ignore lint/suspicious/noExplicitAny: JSON documents are untyped here.
export function editJson(value: unknown, edit: (doc: any) => unknown): unknown {
  const apply = (s: string) => JSON.stringify(edit(JSON.parse(s)));
  if (pulumi.Output.isInstance(value)) return (value as pulumi.Output<string>).apply(apply);
  if (typeof value === "string") return apply(value);
  throw new Error("not a JSON input");
}

/** Edits the `Statement` list of a policy document input (`policy`, `assumeRolePolicy`, …). */
export const editStatements = (p: Props, key: string, edit: (statements: Props[]) => Props[]): Props => ({
  ...p,
  [key]: editJson(p[key], (d) => ({ ...d, Statement: edit(d.Statement) })),
});
/** Edits the statement with this `Sid` of a `policy` input. */
const editStatement = (p: Props, sid: string, edit: (statement: Props) => Props): Props =>
  editStatements(p, "policy", (ss) => ss.map((st) => (st.Sid === sid ? edit(st) : st)));
const appendStatement = (p: Props, statement: Props) =>
  editStatements(p, "policy", (ss) => [...ss, statement]);

export const without = (props: Props, key: string): Props => {
  const { [key]: _removed, ...rest } = props;
  return rest;
};

/** Edits the (single) container of a task definition. */
const editContainer = (p: Props, edit: (c: Props) => Props): Props => ({
  ...p,
  containerDefinitions: editJson(p.containerDefinitions, (cs) => cs.map(edit)),
});
const dropEnv = (name: string) => (c: Props) => ({
  ...c,
  environment: c.environment.filter((e: Props) => e.name !== name),
});
const dropSecret = (name: string) => (c: Props) => ({
  ...c,
  secrets: c.secrets.filter((e: Props) => e.name !== name),
});

/** A security-group rule for plain HTTP anywhere in the mocked VPC (the mocked stacks' CIDR). */
const PLAIN_HTTP_IN_VPC = { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["10.40.0.0/16"] };

export const MUTATIONS: Mutation[] = [
  {
    invariant: "lake-buckets",
    what: "raw bucket renamed",
    stack: "dev",
    type: T.bucket,
    name: "-lake-raw",
    mutate: (p) => ({ ...p, bucket: "someone-else-raw" }),
  },
  {
    invariant: "lake-sse",
    what: "processed bucket loses SSE rules",
    stack: "dev",
    type: T.sse,
    name: "-lake-processed-sse",
    mutate: (p) => ({ ...p, rules: [] }),
  },
  {
    invariant: "lake-public-access-block",
    what: "models bucket stops restricting public buckets",
    stack: "dev",
    type: T.pab,
    name: "-lake-models-pab",
    mutate: (p) => ({ ...p, restrictPublicBuckets: false }),
  },
  {
    invariant: "lake-tls-only",
    what: "raw bucket policy loses its TLS condition",
    stack: "dev",
    type: T.bucketPolicy,
    name: "-lake-raw-tls-only",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) => without(s, "Condition")),
      })),
    }),
  },
  {
    invariant: "lake-versioning",
    what: "models versioning suspended",
    stack: "dev",
    type: T.versioning,
    name: "-lake-models-versioning",
    mutate: (p) => ({ ...p, versioningConfiguration: { status: "Suspended" } }),
  },
  {
    invariant: "lake-lifecycle",
    what: "raw lifecycle loses multipart abort",
    stack: "dev",
    type: T.lifecycle,
    name: "-lake-raw-lifecycle",
    mutate: (p) => ({ ...p, rules: p.rules.map((r: Props) => without(r, "abortIncompleteMultipartUpload")) }),
  },
  {
    invariant: "lake-retention",
    what: "old raw versions are kept forever",
    stack: "dev",
    type: T.lifecycle,
    name: "-lake-raw-lifecycle",
    mutate: (p) => ({
      ...p,
      rules: p.rules.map((r: Props) => without(r, "noncurrentVersionExpiration")),
    }),
  },
  {
    invariant: "lake-retention",
    what: "quarantine never expires",
    stack: "prod",
    type: T.lifecycle,
    name: "-lake-processed-lifecycle",
    mutate: (p) => ({
      ...p,
      rules: p.rules.filter((r: Props) => r.filter.prefix !== "processed/quarantine/"),
    }),
  },
  {
    invariant: "tables-retention",
    what: "users table backups keep the default window",
    stack: "prod",
    type: T.table,
    name: "-tables-users",
    mutate: (p) => ({ ...p, pointInTimeRecovery: { enabled: true } }),
  },
  {
    invariant: "tables-retention",
    what: "users table loses its TTL",
    stack: "dev",
    type: T.table,
    name: "-tables-users",
    mutate: (p) => without(p, "ttl"),
  },
  {
    invariant: "lake-eventbridge",
    what: "raw bucket stops notifying EventBridge",
    stack: "dev",
    type: T.notification,
    name: "-lake-raw-events",
    mutate: (p) => without(p, "eventbridge"),
  },
  {
    invariant: "ingest-rule-contract",
    what: "raw target loses its input transformer",
    stack: "dev",
    type: T.target,
    name: "-raw-created",
    mutate: (p) => without(p, "inputTransformer"),
  },
  {
    invariant: "ingest-rule-contract",
    what: "raw rule loses its raw/ prefix filter",
    stack: "dev",
    type: T.rule,
    name: "-raw-created",
    mutate: (p) => ({
      ...p,
      eventPattern: editJson(p.eventPattern, (d) => ({ ...d, detail: without(d.detail, "object") })),
    }),
  },
  {
    invariant: "training-rule-contract",
    what: "snapshot target loses its input transformer",
    stack: "dev",
    type: T.target,
    name: "-snapshot-ready",
    mutate: (p) => without(p, "inputTransformer"),
  },
  {
    invariant: "training-rule-contract",
    what: "snapshot rule loses its bucket filter",
    stack: "dev",
    type: T.rule,
    name: "-snapshot-ready",
    mutate: (p) => ({ ...p, eventPattern: editJson(p.eventPattern, (d) => without(d, "detail")) }),
  },
  {
    invariant: "training-schedule",
    what: "training rule loses its schedule",
    stack: "dev",
    type: T.rule,
    name: "-training-schedule",
    mutate: (p) => without(p, "scheduleExpression"),
  },
  {
    invariant: "training-schedule",
    what: "the training schedule runs training's decide instead of training (the decide schedule is not retraining)",
    stack: "dev",
    type: T.target,
    name: "-pipelines-training-schedule",
    mutate: (p) => ({
      ...p,
      input: JSON.stringify({
        containerOverrides: [{ name: "training", command: ["node", "dist/cli.js", "decide"] }],
      }),
    }),
  },
  {
    invariant: "event-targets-delivery",
    what: "raw target loses its dead-letter queue",
    stack: "dev",
    type: T.target,
    name: "-raw-created",
    mutate: (p) => without(p, "deadLetterConfig"),
  },
  {
    invariant: "event-targets-delivery",
    what: "snapshot target loses its retry policy",
    stack: "dev",
    type: T.target,
    name: "-snapshot-ready",
    mutate: (p) => without(p, "retryPolicy"),
  },
  {
    invariant: "event-targets-fargate-private",
    what: "snapshot target assigns a public IP",
    stack: "dev",
    type: T.target,
    name: "-snapshot-ready",
    mutate: (p) => ({
      ...p,
      ecsTarget: {
        ...p.ecsTarget,
        networkConfiguration: { ...p.ecsTarget.networkConfiguration, assignPublicIp: true },
      },
    }),
  },
  {
    invariant: "dlq-encrypted",
    what: "DLQ loses SSE",
    stack: "dev",
    type: T.queue,
    name: "-dlq",
    mutate: (p) => without(p, "sqsManagedSseEnabled"),
  },
  {
    invariant: "dlq-alarm",
    what: "DLQ alarm loses its queue dimension",
    stack: "dev",
    type: T.alarm,
    name: "-events-dlq-depth",
    mutate: (p) => without(p, "dimensions"),
  },
  {
    invariant: "ecr-images",
    what: "api repository stops scanning on push",
    stack: "dev",
    type: T.repository,
    name: "-images-api",
    mutate: (p) => without(p, "imageScanningConfiguration"),
  },
  {
    invariant: "ecs-cluster",
    what: "cluster loses Container Insights",
    stack: "dev",
    type: T.cluster,
    name: "-cluster",
    mutate: (p) => without(p, "settings"),
  },
  {
    invariant: "task-definitions",
    what: "training container loses its log configuration",
    stack: "dev",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) => ({
      ...p,
      containerDefinitions: editJson(p.containerDefinitions, (cs) =>
        cs.map((c: Props) => without(c, "logConfiguration")),
      ),
    }),
  },
  {
    invariant: "secrets-not-in-environment",
    what: "MLflow DB password moved into plain environment",
    stack: "dev",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) => ({
      ...p,
      containerDefinitions: editJson(p.containerDefinitions, (cs) =>
        cs.map((c: Props) => ({
          ...c,
          secrets: [],
          environment: [...c.environment, { name: "MLFLOW_DB_PASSWORD", value: "hunter2" }],
        })),
      ),
    }),
  },
  {
    invariant: "api-public-alb",
    what: "API target group health check moved off /healthz",
    stack: "dev",
    type: T.targetGroup,
    name: "-api-tg",
    mutate: (p) => ({ ...p, healthCheck: without(p.healthCheck, "path") }),
  },
  {
    invariant: "api-drain",
    what: "api loses its drain delay (the default could be anything)",
    stack: "dev",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) => editContainer(p, dropEnv("GPLAY_DRAIN_DELAY_MS")),
  },
  {
    invariant: "api-drain",
    what: "API target group's deregistration delay shorter than the api's drain",
    stack: "prod",
    type: T.targetGroup,
    name: "-api-tg",
    mutate: (p) => ({ ...p, deregistrationDelay: 10 }),
  },
  {
    invariant: "api-client-ip",
    what: "api no longer trusts the ALB's X-Forwarded-For (every client is the balancer node)",
    stack: "dev",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) => editContainer(p, dropEnv("GPLAY_TRUST_PROXY_HOPS")),
  },
  {
    invariant: "api-autoscaling",
    what: "API loses request-count scaling",
    stack: "dev",
    type: T.scalingPolicy,
    name: "-api-requests",
    mutate: (p) => without(p, "targetTrackingScalingPolicyConfiguration"),
  },
  {
    invariant: "api-prod-ha",
    what: "prod API runs one task",
    stack: "prod",
    type: T.service,
    name: "-api-service",
    mutate: (p) => ({ ...p, desiredCount: 1 }),
  },
  {
    invariant: "mlflow-internal",
    what: "MLflow load balancer made internet-facing",
    stack: "dev",
    type: T.loadBalancer,
    name: "-mlflow-lb",
    mutate: (p) => ({ ...p, internal: false }),
  },
  {
    invariant: "mlflow-internal",
    what: "MLflow loses ECS Exec",
    stack: "dev",
    type: T.service,
    name: "-mlflow-service",
    mutate: (p) => without(p, "enableExecuteCommand"),
  },
  {
    invariant: "rds-private-encrypted",
    what: "database storage unencrypted",
    stack: "dev",
    type: T.db,
    name: "-postgres",
    mutate: (p) => without(p, "storageEncrypted"),
  },
  {
    invariant: "rds-private-encrypted",
    what: "database made public",
    stack: "dev",
    type: T.db,
    name: "-postgres",
    mutate: (p) => ({ ...p, publiclyAccessible: true }),
  },
  {
    invariant: "dynamodb-tables",
    what: "users table loses point-in-time recovery",
    stack: "dev",
    type: T.table,
    name: "-tables-users",
    mutate: (p) => without(p, "pointInTimeRecovery"),
  },
  {
    invariant: "dynamodb-tables",
    what: "items table loses its TTL attribute",
    stack: "dev",
    type: T.table,
    name: "-tables-items",
    mutate: (p) => without(p, "ttl"),
  },
  {
    invariant: "dynamodb-tables",
    what: "prod coldstart table loses deletion protection",
    stack: "prod",
    type: T.table,
    name: "-tables-coldstart",
    mutate: (p) => without(p, "deletionProtectionEnabled"),
  },
  {
    invariant: "vpc-private-subnets",
    what: "a private subnet maps public IPs",
    stack: "dev",
    type: T.subnet,
    name: "-network-private-0",
    mutate: (p) => ({ ...p, mapPublicIpOnLaunch: true }),
  },
  {
    invariant: "vpc-endpoints-egress",
    what: "S3 gateway endpoint detached from route tables",
    stack: "dev",
    type: T.endpoint,
    name: "-network-s3",
    mutate: (p) => without(p, "routeTableIds"),
  },
  {
    invariant: "vpc-endpoints-egress",
    what: "a private route table loses its NAT route",
    stack: "dev",
    type: T.routeTable,
    name: "-network-private-rt-1",
    mutate: (p) => ({ ...p, routes: [] }),
  },
  {
    invariant: "no-public-ingress",
    what: "MLflow load balancer open to the internet",
    stack: "dev",
    type: T.securityGroup,
    name: "-mlflow-lb",
    mutate: (p) => ({
      ...p,
      ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }],
    }),
  },
  {
    invariant: "iam-least-privilege",
    what: "engine may read the whole raw bucket",
    stack: "dev",
    type: T.rolePolicy,
    name: "-featstore-engine-task",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) =>
          s.Sid === "RawGet" ? { ...s, Resource: [s.Resource[0].replace(/\/raw\/\*$/, "/*")] } : s,
        ),
      })),
    }),
  },
  {
    invariant: "iam-least-privilege",
    what: "api gets dynamodb:* on every resource",
    stack: "dev",
    type: T.rolePolicy,
    name: "-api-task",
    mutate: (p) => appendStatement(p, { Effect: "Allow", Action: ["dynamodb:*"], Resource: ["*"] }),
  },
  {
    invariant: "iam-least-privilege",
    what: "api's click-file grant widens from raw/api-events/ to all of raw/",
    stack: "dev",
    type: T.rolePolicy,
    name: "-api-task",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) =>
          s.Sid === "ClickFilesPut" ? { ...s, Resource: [s.Resource[0].replace(/api-events\/\*$/, "*")] } : s,
        ),
      })),
    }),
  },
  {
    invariant: "iam-least-privilege",
    what: "api may also read the raw bucket",
    stack: "dev",
    type: T.rolePolicy,
    name: "-api-task",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) =>
          s.Sid === "ClickFilesPut" ? { ...s, Action: ["s3:PutObject", "s3:GetObject"] } : s,
        ),
      })),
    }),
  },
  {
    invariant: "events-role-scoped",
    what: "events role may run any task definition",
    stack: "dev",
    type: T.rolePolicy,
    name: "-pipelines-events",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) => (s.Sid === "RunTask" ? { ...s, Resource: ["*"] } : s)),
      })),
    }),
  },
  {
    invariant: "log-retention",
    what: "api log group keeps logs forever",
    stack: "dev",
    type: T.logGroup,
    name: "-api-logs",
    mutate: (p) => without(p, "retentionInDays"),
  },
  {
    invariant: "alarms",
    what: "latency alarm loses p99",
    stack: "dev",
    type: T.alarm,
    name: "-api-latency-p99",
    mutate: (p) => without(p, "extendedStatistic"),
  },
  {
    invariant: "alarms",
    what: "mlflow memory alarm removed from its service",
    stack: "dev",
    type: T.alarm,
    name: "-mlflow-memory",
    mutate: (p) => without(p, "dimensions"),
  },
  {
    invariant: "alarms",
    what: "ingestion failure alarm has no action",
    stack: "dev",
    type: T.alarm,
    name: "-ingestion-failures",
    mutate: (p) => without(p, "alarmActions"),
  },
  {
    invariant: "task-environment",
    what: "featstore-engine gets GPLAY_RESOURCE_PREFIX instead of GPLAY_PREFIX",
    stack: "dev",
    type: T.taskDefinition,
    name: "-featstore-engine-taskdef",
    mutate: (p) =>
      editContainer(p, (c) => ({
        ...c,
        environment: c.environment.map((e: Props) =>
          e.name === "GPLAY_PREFIX" ? { ...e, name: "GPLAY_RESOURCE_PREFIX" } : e,
        ),
      })),
  },
  {
    invariant: "task-environment",
    what: "api loses its GPLAY_API_KEYS secret",
    stack: "dev",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) => editContainer(p, dropSecret("GPLAY_API_KEYS")),
  },
  {
    invariant: "task-environment",
    what: "training loses its model name",
    stack: "prod",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) => editContainer(p, dropEnv("GPLAY_MODEL_NAME")),
  },
  {
    invariant: "engine-heap",
    what: "featstore-engine runs with Node's default heap (no NODE_OPTIONS)",
    stack: "dev",
    type: T.taskDefinition,
    name: "-featstore-engine-taskdef",
    mutate: (p) => editContainer(p, dropEnv("NODE_OPTIONS")),
  },
  {
    invariant: "engine-heap",
    what: "featstore-engine's task shrinks to 1 GB",
    stack: "prod",
    type: T.taskDefinition,
    name: "-featstore-engine-taskdef",
    mutate: (p) => ({ ...p, memory: "1024" }),
  },
  {
    invariant: "mlflow-auth",
    what: "MLflow loses MLFLOW_AUTH_ENABLED",
    stack: "dev",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) => editContainer(p, dropEnv("MLFLOW_AUTH_ENABLED")),
  },
  {
    invariant: "mlflow-auth",
    what: "MLflow loses its admin password secret",
    stack: "dev",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) => editContainer(p, dropSecret("MLFLOW_AUTH_ADMIN_PASSWORD")),
  },
  {
    invariant: "mlflow-auth",
    what: "MLflow loses its Flask secret key",
    stack: "prod",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) => editContainer(p, dropSecret("MLFLOW_FLASK_SERVER_SECRET_KEY")),
  },
  {
    invariant: "mlflow-auth",
    what: "MLflow loses its allowed hosts",
    stack: "dev",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) => editContainer(p, dropEnv("MLFLOW_SERVER_ALLOWED_HOSTS")),
  },
  {
    invariant: "mlflow-auth",
    what: "training loses its MLflow password",
    stack: "dev",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) => editContainer(p, dropSecret("MLFLOW_TRACKING_PASSWORD")),
  },
  {
    invariant: "mlflow-auth",
    what: "api loses its MLflow username",
    stack: "dev",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) => editContainer(p, dropEnv("MLFLOW_TRACKING_USERNAME")),
  },
  {
    invariant: "task-secrets-scoped",
    what: "the api's execution role may also read MLflow's admin password",
    stack: "dev",
    type: T.rolePolicy,
    name: "-api-execution",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.map((s: Props) =>
          s.Sid === "Secrets"
            ? {
                ...s,
                Resource: [
                  ...s.Resource,
                  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:gplay-dev/mlflow/admin-password-AbCdEf`,
                ],
              }
            : s,
        ),
      })),
    }),
  },
  {
    invariant: "task-secrets-scoped",
    what: "training's execution role loses its Secrets statement",
    stack: "dev",
    type: T.rolePolicy,
    name: "-training-execution",
    mutate: (p) => ({
      ...p,
      policy: editJson(p.policy, (d) => ({
        ...d,
        Statement: d.Statement.filter((s: Props) => s.Sid !== "Secrets"),
      })),
    }),
  },
  {
    invariant: "task-secrets-scoped",
    what: "the api keys secret is not encrypted with the platform key",
    stack: "dev",
    type: T.secret,
    name: "-apiKeys",
    mutate: (p) => without(p, "kmsKeyId"),
  },
  {
    invariant: "iam-least-privilege",
    what: "training regains a models/ grant in the models bucket",
    stack: "dev",
    type: T.rolePolicy,
    name: "-training-task",
    mutate: (p) =>
      appendStatement(p, {
        Sid: "ModelsPut",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: ["arn:aws:s3:::gplay-dev-models/models/*"],
      }),
  },
  {
    invariant: "dashboard",
    what: "dashboard emptied",
    stack: "dev",
    type: T.dashboard,
    name: "-dashboard",
    mutate: (p) => ({ ...p, dashboardBody: JSON.stringify({ widgets: [] }) }),
  },
  {
    invariant: "api-tls",
    what: "prod's HTTP listener forwards to the API instead of redirecting to HTTPS",
    stack: "prod",
    type: T.listener,
    name: "-api-http",
    mutate: (p) => ({
      ...p,
      defaultActions: [{ type: "forward", targetGroupArn: "arn:aws:elasticloadbalancing:tg/api" }],
    }),
  },
  {
    invariant: "api-tls",
    what: "prod's HTTPS listener falls back to a TLS 1.0 policy",
    stack: "prod",
    type: T.listener,
    name: "-api-https",
    mutate: (p) => ({ ...p, sslPolicy: "ELBSecurityPolicy-2016-08" }),
  },
  {
    invariant: "api-tls",
    what: "prod's HTTPS listener loses its certificate",
    stack: "prod",
    type: T.listener,
    name: "-api-https",
    mutate: (p) => without(p, "certificateArn"),
  },
  {
    invariant: "mlflow-tls",
    what: "MLflow's internal listener goes back to plain HTTP on 80",
    stack: "dev",
    type: T.listener,
    name: "-mlflow-https",
    mutate: (p) => ({ ...without(without(p, "sslPolicy"), "certificateArn"), protocol: "HTTP", port: 80 }),
  },
  {
    invariant: "mlflow-tls",
    what: "MLflow's HTTPS listener falls back to a TLS 1.0 policy",
    stack: "prod",
    type: T.listener,
    name: "-mlflow-https",
    mutate: (p) => ({ ...p, sslPolicy: "ELBSecurityPolicy-2016-08" }),
  },
  {
    invariant: "mlflow-tls",
    what: "the private CA is made SHORT_LIVED (ACM can neither issue nor renew from it)",
    stack: "dev",
    type: T.privateCa,
    name: "-mlflow-tls-ca",
    mutate: (p) => ({ ...p, usageMode: "SHORT_LIVED_CERTIFICATE" }),
  },
  {
    invariant: "mlflow-tls",
    what: "ACM may no longer issue from the CA (managed renewal fails, the certificate expires)",
    stack: "prod",
    type: T.privateCaPermission,
    name: "-mlflow-tls-ca-acm",
    mutate: (p) => ({ ...p, actions: p.actions.filter((a: string) => a !== "IssueCertificate") }),
  },
  {
    invariant: "mlflow-tls",
    what: "training is no longer given the private CA to trust",
    stack: "dev",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) => editContainer(p, dropEnv("MLFLOW_TRACKING_SERVER_CA_PEM")),
  },
  {
    invariant: "mlflow-tls",
    what: "the api calls MLflow's load balancer over http again",
    stack: "prod",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) =>
      editContainer(p, (c) => ({
        ...c,
        environment: c.environment.map((e: Props) =>
          e.name === "MLFLOW_TRACKING_URI"
            ? { ...e, value: String(e.value).replace("https://", "http://") }
            : e,
        ),
      })),
  },
  {
    invariant: "mlflow-tls",
    what: "MLflow's load balancer accepts port 80 from the whole VPC",
    stack: "dev",
    type: T.securityGroup,
    name: "-mlflow-lb",
    mutate: (p) => ({
      ...p,
      ingress: [...p.ingress, PLAIN_HTTP_IN_VPC],
    }),
  },
  {
    invariant: "mlflow-tls",
    what: "the private name of MLflow is dropped from its zone",
    stack: "dev",
    type: T.record,
    name: "-mlflow-dns",
    mutate: (p) => ({ ...p, name: "elsewhere.internal" }),
  },
  {
    invariant: "mlflow-tls",
    what: "MLflow stops accepting its private name as Host",
    stack: "prod",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) =>
      editContainer(p, (c) => ({
        ...c,
        environment: c.environment.map((e: Props) =>
          e.name === "MLFLOW_SERVER_ALLOWED_HOSTS"
            ? {
                ...e,
                value: String(e.value)
                  .split(",")
                  .filter((h) => !h.startsWith("mlflow."))
                  .join(","),
              }
            : e,
        ),
      })),
  },
  {
    invariant: "api-waf",
    what: "the web ACL loses its rate-based rule",
    stack: "dev",
    type: T.webAcl,
    name: "-api-waf-acl",
    mutate: (p) => ({
      ...p,
      rules: p.rules.filter((r: Props) => r.statement.rateBasedStatement === undefined),
    }),
  },
  {
    invariant: "api-waf",
    what: "prod's core rule set only counts",
    stack: "prod",
    type: T.webAcl,
    name: "-api-waf-acl",
    mutate: (p) => ({
      ...p,
      rules: p.rules.map((r: Props) =>
        r.name === "AWSManagedRulesCommonRuleSet" ? { ...r, overrideAction: { count: {} } } : r,
      ),
    }),
  },
  {
    invariant: "api-waf",
    what: "the web ACL is attached to another load balancer",
    stack: "prod",
    type: T.webAclAssociation,
    name: "-api-waf-association",
    mutate: (p) => ({
      ...p,
      resourceArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/other/1`,
    }),
  },
  {
    invariant: "ecr-immutable-digests",
    what: "the api repository accepts moved tags",
    stack: "dev",
    type: T.repository,
    name: "-images-api",
    mutate: (p) => ({ ...p, imageTagMutability: "MUTABLE" }),
  },
  {
    invariant: "ecr-immutable-digests",
    what: "prod training runs an image by tag",
    stack: "prod",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) => editContainer(p, (c) => ({ ...c, image: `${c.image.split("@")[0]}:latest` })),
  },
  {
    invariant: "bucket-policy-no-public-allow",
    what: "the raw bucket lets everyone read its objects",
    stack: "dev",
    type: T.bucketPolicy,
    name: "-lake-raw-tls-only",
    mutate: (p) =>
      appendStatement(p, {
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: ["s3:GetObject"],
        Resource: ["arn:aws:s3:::gplay-dev-raw/*"],
      }),
  },
  {
    invariant: "bucket-policy-no-public-allow",
    what: "prod's models bucket allows listing to AWS principal '*'",
    stack: "prod",
    type: T.bucketPolicy,
    name: "-lake-models-tls-only",
    mutate: (p) =>
      appendStatement(p, {
        Effect: "Allow",
        Principal: { AWS: ["*"] },
        Action: ["s3:ListBucket"],
        Resource: ["arn:aws:s3:::gplay-prod-models"],
      }),
  },
  {
    invariant: "roles-workload-boundary",
    what: "the api's task role loses the workload boundary",
    stack: "prod",
    type: T.role,
    name: "-api-task",
    mutate: (p) => without(p, "permissionsBoundary"),
  },
  {
    invariant: "vpc-endpoints-egress",
    what: "endpoint-only egress loses its EventBridge endpoint (the engine's Snapshot Ready could not leave)",
    stack: "dev-endpoints",
    type: T.endpoint,
    name: "-network-events",
    mutate: (p) => ({ ...p, serviceName: "com.amazonaws.us-east-1.sqs" }),
  },
  {
    invariant: "task-aws-services",
    what: "the engine's task role may send to SQS, a service no list declares",
    stack: "dev",
    type: T.rolePolicy,
    name: "-featstore-engine-task",
    mutate: (p) =>
      appendStatement(p, {
        Sid: "Queue",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:q`],
      }),
  },
  {
    invariant: "task-aws-services",
    what: "training's execution role may read SSM parameters, which the agent list lacks",
    stack: "prod",
    type: T.rolePolicy,
    name: "-training-execution",
    mutate: (p) =>
      appendStatement(p, {
        Sid: "Params",
        Effect: "Allow",
        Action: ["ssm:GetParameters"],
        Resource: [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/x`],
      }),
  },
  {
    invariant: "task-failure-alert",
    what: "the task-failed rule loses its failure filter (every stop alerts, so alerts stop meaning anything)",
    stack: "dev",
    type: T.rule,
    name: "-monitoring-task-failed",
    mutate: (p) => ({
      ...p,
      eventPattern: editJson(p.eventPattern, (d) => ({ ...d, detail: without(d.detail, "$or") })),
    }),
  },
  {
    invariant: "task-failure-alert",
    what: "the task-failed alert goes to a topic no alarm uses",
    stack: "prod",
    type: T.target,
    name: "-monitoring-task-failed",
    mutate: (p) => ({ ...p, arn: `arn:aws:sns:${REGION}:${ACCOUNT}:elsewhere` }),
  },
  {
    invariant: "ingest-recovery",
    what: "the scheduled recover target runs the engine without its recover command",
    stack: "dev",
    type: T.target,
    name: "-pipelines-recover-schedule",
    mutate: (p) => without(p, "input"),
  },
  {
    invariant: "ingest-recovery",
    what: "the recover-on-failure rule matches any engine stop, recover runs included (recoveries would loop)",
    stack: "prod",
    type: T.rule,
    name: "-pipelines-recover-on-failure",
    mutate: (p) => ({
      ...p,
      eventPattern: editJson(p.eventPattern, (d) => ({ ...d, detail: without(d.detail, "startedBy") })),
    }),
  },
  {
    invariant: "erasure-schedule",
    what: "the scheduled erase target runs the engine without its erase command",
    stack: "prod",
    type: T.target,
    name: "-pipelines-erase-schedule",
    mutate: (p) => without(p, "input"),
  },
  {
    invariant: "erasure-schedule",
    what: "the engine's task role loses its erasure ledger statement",
    stack: "dev",
    type: T.rolePolicy,
    name: "-featstore-engine-task",
    mutate: (p) => editStatements(p, "policy", (ss) => ss.filter((st) => st.Sid !== "ErasureLedger")),
  },
  {
    invariant: "online-decision",
    what: "the scheduled decide target runs training without its decide command",
    stack: "dev",
    type: T.target,
    name: "-pipelines-online-decide",
    mutate: (p) => without(p, "input"),
  },
  {
    invariant: "online-decision",
    what: "prod's training gate sets @challenger (GPLAY_ONLINE_LOOP) with nothing to decide",
    stack: "prod",
    type: T.taskDefinition,
    name: "-training-taskdef",
    mutate: (p) =>
      editContainer(p, (c) => ({
        ...c,
        environment: [...c.environment, { name: "GPLAY_ONLINE_LOOP", value: "true" }],
      })),
  },
  {
    invariant: "online-decision",
    what: "the api serves no reader the challenger while the loop is on",
    stack: "dev",
    type: T.taskDefinition,
    name: "-api-taskdef",
    mutate: (p) => editContainer(p, dropEnv("GPLAY_CHALLENGER_SHARE")),
  },
  {
    invariant: "decision-reads-impressions",
    what: "training may read only processed/snapshots/, not the impression log",
    stack: "dev",
    type: T.rolePolicy,
    name: "-training-task",
    mutate: (p) =>
      editStatement(p, "ProcessedGet", (st) => ({
        ...st,
        Resource: ["arn:aws:s3:::gplay-dev-processed/processed/snapshots/*"],
      })),
  },
  {
    invariant: "decision-reads-impressions",
    what: "training may list only processed/snapshots/",
    stack: "prod",
    type: T.rolePolicy,
    name: "-training-task",
    mutate: (p) =>
      editStatement(p, "ProcessedList", (st) => ({
        ...st,
        Condition: { StringLike: { "s3:prefix": ["processed/snapshots/*"] } },
      })),
  },
  {
    invariant: "platform-key-encryption",
    what: "the api repository falls back to AES256",
    stack: "dev",
    type: T.repository,
    name: "-images-api",
    mutate: (p) => ({ ...p, encryptionConfigurations: [{ encryptionType: "AES256" }] }),
  },
  {
    invariant: "platform-key-encryption",
    what: "training's log group loses its key",
    stack: "prod",
    type: T.logGroup,
    name: "-training-logs",
    mutate: (p) => without(p, "kmsKeyId"),
  },
  {
    invariant: "platform-key-encryption",
    what: "the alarm topic loses its key",
    stack: "dev",
    type: T.topic,
    name: "-monitoring-alarms",
    mutate: (p) => without(p, "kmsMasterKeyId"),
  },
  {
    invariant: "rds-operations",
    what: "the database loses Performance Insights",
    stack: "dev",
    type: T.db,
    name: "-postgres",
    mutate: (p) => ({ ...p, performanceInsightsEnabled: false }),
  },
  {
    invariant: "rds-operations",
    what: "the database loses storage autoscaling",
    stack: "prod",
    type: T.db,
    name: "-postgres",
    mutate: (p) => without(p, "maxAllocatedStorage"),
  },
  {
    invariant: "rds-operations",
    what: "prod's final snapshot gets a fixed name (collides when the instance is re-created)",
    stack: "prod",
    type: T.db,
    name: "-postgres",
    mutate: (p) => ({ ...p, finalSnapshotIdentifier: "gplay-mlflow-db-final" }),
  },
  {
    invariant: "service-trust-source-account",
    what: "the api's task role trusts ECS acting for any account",
    stack: "dev",
    type: T.role,
    name: "-api-task",
    mutate: (p) => editStatements(p, "assumeRolePolicy", (ss) => ss.map((s) => without(s, "Condition"))),
  },
  {
    invariant: "service-trust-source-account",
    what: "the events role trusts EventBridge acting for any account",
    stack: "prod",
    type: T.role,
    name: "-pipelines-events",
    mutate: (p) => editStatements(p, "assumeRolePolicy", (ss) => ss.map((s) => without(s, "Condition"))),
  },
  {
    invariant: "batch-egress",
    what: "the engine's security group may reach MLflow again",
    stack: "dev",
    type: T.securityGroup,
    name: "-pipelines-tasks",
    mutate: (p) => ({
      ...p,
      egress: [...p.egress, PLAIN_HTTP_IN_VPC],
    }),
  },
  {
    invariant: "batch-egress",
    what: "MLflow's load balancer no longer accepts training's client group",
    stack: "dev",
    type: T.securityGroup,
    name: "-mlflow-lb",
    mutate: (p) => ({
      ...p,
      ingress: p.ingress.map((i: Props) => ({ ...i, securityGroups: ["sg-someone-else"] })),
    }),
  },
  {
    invariant: "ecs-exec-logging",
    what: "the cluster stops logging ECS Exec sessions",
    stack: "dev",
    type: T.cluster,
    name: "-cluster",
    mutate: (p) => without(p, "configuration"),
  },
  {
    invariant: "ecs-exec-logging",
    what: "MLflow's task role can no longer write the session log",
    stack: "prod",
    type: T.rolePolicy,
    name: "-mlflow-task",
    mutate: (p) => editStatements(p, "policy", (ss) => ss.filter((s) => s.Sid !== "EcsExecSessionLog")),
  },
  {
    invariant: "mlflow-prod-ha",
    what: "prod MLflow runs one task",
    stack: "prod",
    type: T.service,
    name: "-mlflow-service",
    mutate: (p) => ({ ...p, desiredCount: 1 }),
  },
  {
    invariant: "mlflow-db-rotation",
    what: "MLflow signs in as the RDS master user again",
    stack: "dev",
    type: T.taskDefinition,
    name: "-mlflow-taskdef",
    mutate: (p) =>
      editContainer(p, (c) => ({
        ...c,
        environment: c.environment.map((e: Props) =>
          e.name === "MLFLOW_DB_USER" ? { ...e, value: "mlflow" } : e,
        ),
      })),
  },
  {
    invariant: "mlflow-db-rotation",
    what: "the secret-changed rule watches another secret",
    stack: "prod",
    type: T.rule,
    name: "-mlflow-db-user-secret-changed",
    mutate: (p) => ({
      ...p,
      eventPattern: editJson(p.eventPattern, (d) => ({
        ...d,
        detail: { ...d.detail, $or: [{ requestParameters: { secretId: ["arn:other"] } }] },
      })),
    }),
  },
  {
    invariant: "mlflow-db-rotation",
    what: "the runbook sets the password but no longer redeploys MLflow (its tasks keep the old one)",
    stack: "dev",
    type: T.ssmDocument,
    name: "-mlflow-db-user-runbook",
    mutate: (p) => ({
      ...p,
      content: editJson(p.content, (d) => ({
        ...d,
        mainSteps: d.mainSteps.filter((s: Props) => s.name !== "restartMlflow"),
      })),
    }),
  },
  {
    invariant: "audit-logs",
    what: "prod's trail stops recording the lake's S3 data events",
    stack: "prod",
    type: T.trail,
    name: "-audit-trail",
    mutate: (p) => ({
      ...p,
      eventSelectors: p.eventSelectors.map((e: Props) => ({ ...e, dataResources: [] })),
    }),
  },
  {
    invariant: "audit-logs",
    what: "the dev trail drops management events (a new secret value would go unseen)",
    stack: "dev",
    type: T.trail,
    name: "-audit-trail",
    mutate: (p) => ({
      ...p,
      eventSelectors: p.eventSelectors.map((e: Props) => ({ ...e, includeManagementEvents: false })),
    }),
  },
  {
    invariant: "audit-logs",
    what: "prod's flow log records only rejected traffic",
    stack: "prod",
    type: T.flowLog,
    name: "-audit-flow-logs",
    mutate: (p) => ({ ...p, trafficType: "REJECT" }),
  },
  {
    invariant: "audit-logs",
    what: "prod's public ALB stops writing access logs",
    stack: "prod",
    type: T.loadBalancer,
    name: "-api-alb",
    mutate: (p) => without(p, "accessLogs"),
  },
  {
    invariant: "audit-logs",
    what: "the audit bucket policy loses its TLS condition",
    stack: "dev",
    type: T.bucketPolicy,
    name: "-audit-bucket-policy",
    mutate: (p) => editStatements(p, "policy", (ss) => ss.filter((s) => s.Effect !== "Deny")),
  },
  {
    invariant: "kms-rotation",
    what: "platform key stops rotating",
    stack: "dev",
    type: T.kmsKey,
    name: "-key",
    mutate: (p) => without(p, "enableKeyRotation"),
  },
];

type Target = Pick<Mutation, "type" | "name" | "what" | "mutate">;
const matches = (m: Target, type: string, name: string) => type === m.type && name.endsWith(m.name);

/** Applies a mutation to recorded resources (a copy; exactly one resource must match). */
export function mutateRecorded(resources: readonly RecordedResource[], m: Target): RecordedResource[] {
  const hits = resources.filter((r) => matches(m, r.type, r.name));
  if (hits.length !== 1) throw new Error(`mutation "${m.what}" matched ${hits.length} resources`);
  return resources.map((r) =>
    matches(m, r.type, r.name) ? { ...r, inputs: m.mutate(structuredClone(r.inputs)) } : r,
  );
}

/** The same mutation as a Pulumi transformation, applied while the program is built. */
export function asTransformation(m: Mutation, hits: { count: number }): pulumi.ResourceTransformation {
  return (args) => {
    if (!matches(m, args.type, args.name)) return undefined;
    hits.count += 1;
    return { props: m.mutate(args.props as Props), opts: args.opts };
  };
}
