import {
  API_EVENTS_PREFIX,
  MLFLOW_ARTIFACTS_PREFIX,
  PROCESSED_PREFIX,
  RAW_PREFIX,
  SNAPSHOT_READY,
  type TableName,
} from "@gplay/common";
import { apiErasureStatements, engineErasureStatements } from "./erasure-iam.js";

/**
 * IAM policy documents as data. Each task role gets exactly the buckets, key prefixes and table ARNs
 * its service uses; `Resource: "*"` only where AWS offers nothing narrower (see WILDCARD_ACTIONS).
 * Pure: components resolve ARNs with `pulumi.all` and serialise these.
 */
export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  /** Exactly one of Action and NotAction (NotAction only in Deny statements of boundaries). */
  Action?: string[];
  NotAction?: string[];
  /** Absent only in trust policies. */
  Resource?: string[];
  Principal?: "*" | Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** Actions that only accept `Resource: "*"`; anything else must name its resources. */
export const WILDCARD_ACTIONS: readonly string[] = [
  "ecr:GetAuthorizationToken",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

export const doc = (...statements: Statement[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: statements,
});

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

const DDB_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable"];
const DDB_WRITE = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
];

/** Read objects under one prefix of one bucket, and list only that prefix. */
export function s3Read(sid: string, bucket: string, prefix: string): Statement[] {
  return [
    {
      Sid: `${sid}Get`,
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [`${bucketArn(bucket)}/${prefix}*`],
    },
    {
      Sid: `${sid}List`,
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [bucketArn(bucket)],
      Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
    },
  ];
}

/** Write (and multipart-upload) objects under one prefix of one bucket. */
export function s3Write(sid: string, bucket: string, prefix: string, withDelete = false): Statement {
  return {
    Sid: `${sid}Put`,
    Effect: "Allow",
    Action: ["s3:PutObject", "s3:AbortMultipartUpload", ...(withDelete ? ["s3:DeleteObject"] : [])],
    Resource: [`${bucketArn(bucket)}/${prefix}*`],
  };
}

export interface TaskPolicyContext {
  buckets: { raw: string; processed: string; models: string };
  tableArns: Record<TableName, string>;
  keyArn: string;
  eventBusArn: string;
  /** The log group ECS Exec sessions are recorded in (the cluster's executeCommandConfiguration). */
  execLogGroupArn: string;
}

const kms = (keyArn: string): Statement => ({
  Sid: "LakeKey",
  Effect: "Allow",
  Action: ["kms:Decrypt", "kms:GenerateDataKey"],
  Resource: [keyArn],
});

const tables = (ctx: TaskPolicyContext, names: readonly TableName[]) => names.map((n) => ctx.tableArns[n]);

/** ECS Exec: the SSM agent in the task opens its channels (these actions have no resource ARNs). */
export const ECS_EXEC_STATEMENT: Statement = {
  Sid: "EcsExec",
  Effect: "Allow",
  Action: [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
  ],
  Resource: ["*"],
};

/** featstore-engine: reads raw/, writes processed/, owns the four tables, announces snapshots. */
export function featstoreEnginePolicy(ctx: TaskPolicyContext): PolicyDocument {
  const all = tables(ctx, ["users", "items", "coldstart", "ingestions"]);
  return doc(
    ...s3Read("Raw", ctx.buckets.raw, RAW_PREFIX),
    ...s3Read("Processed", ctx.buckets.processed, PROCESSED_PREFIX),
    s3Write("Processed", ctx.buckets.processed, PROCESSED_PREFIX, true),
    { Sid: "TablesRead", Effect: "Allow", Action: DDB_READ, Resource: all },
    { Sid: "TablesWrite", Effect: "Allow", Action: DDB_WRITE, Resource: all },
    // `recover` lists the ingestions still started (FeatureStore.listIngestions).
    {
      Sid: "IngestionsScan",
      Effect: "Allow",
      Action: ["dynamodb:Scan"],
      Resource: tables(ctx, ["ingestions"]),
    },
    {
      Sid: "SnapshotReady",
      Effect: "Allow",
      Action: ["events:PutEvents"],
      Resource: [ctx.eventBusArn],
      Condition: { StringEquals: { "events:source": SNAPSHOT_READY.source } },
    },
    ...engineErasureStatements(ctx),
    kms(ctx.keyArn),
  );
}

/**
 * training: reads processed/ snapshots and the item table. Its model goes to MLflow over HTTP
 * (proxied artifacts, stored by MLflow under `mlflow/`), so it has no access to the models bucket.
 */
export function trainingPolicy(ctx: TaskPolicyContext): PolicyDocument {
  return doc(
    ...s3Read("Processed", ctx.buckets.processed, PROCESSED_PREFIX),
    { Sid: "TablesRead", Effect: "Allow", Action: DDB_READ, Resource: tables(ctx, ["items", "coldstart"]) },
    kms(ctx.keyArn),
  );
}

/**
 * api: reads the feature tables; its model comes from MLflow over HTTP (no models bucket access).
 * `/events` writes exactly three things: the reader's item (a conditional PutItem on `version`, so a
 * just-read article is excluded at once), the batched click files under `raw/api-events/`, and the
 * client event ids it has seen (a conditional PutItem claims one; DeleteItem releases an unrecorded one).
 */
export function apiPolicy(ctx: TaskPolicyContext): PolicyDocument {
  return doc(
    {
      Sid: "TablesRead",
      Effect: "Allow",
      Action: DDB_READ,
      Resource: tables(ctx, ["users", "items", "coldstart"]),
    },
    // The catalogue refresh scans the items table (DynamoFeatureStore.scanArticles).
    { Sid: "ItemsScan", Effect: "Allow", Action: ["dynamodb:Scan"], Resource: tables(ctx, ["items"]) },
    { Sid: "ReadersPut", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: tables(ctx, ["users"]) },
    {
      Sid: "EventIdsClaim",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
      Resource: tables(ctx, ["eventIds"]),
    },
    { ...s3Write("ClickFiles", ctx.buckets.raw, API_EVENTS_PREFIX), Action: ["s3:PutObject"] },
    ...apiErasureStatements(ctx),
    kms(ctx.keyArn),
  );
}

/**
 * ECS Exec's session log: the SSM agent in the task writes each session to the cluster's exec log
 * group (the platform key decrypts the session and encrypts the group).
 */
export function execSessionLogStatements(execLogGroupArn: string): Statement[] {
  return [
    {
      Sid: "EcsExecSessionLog",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${execLogGroupArn}:log-stream:*`],
    },
    {
      Sid: "EcsExecSessionLogGroup",
      Effect: "Allow",
      Action: ["logs:DescribeLogGroups"],
      Resource: [execLogGroupArn.replace(/:log-group:.*$/, ":log-group:*")],
    },
  ];
}

/** mlflow: its artifact root `mlflow/` in the models bucket, and ECS Exec (logged) for port forwarding. */
export function mlflowPolicy(ctx: TaskPolicyContext): PolicyDocument {
  return doc(
    ...s3Read("Artifacts", ctx.buckets.models, MLFLOW_ARTIFACTS_PREFIX),
    s3Write("Artifacts", ctx.buckets.models, MLFLOW_ARTIFACTS_PREFIX, true),
    kms(ctx.keyArn),
    ECS_EXEC_STATEMENT,
    ...execSessionLogStatements(ctx.execLogGroupArn),
  );
}

/** The execution role (the ECS agent): pull this repository, write this log group, read these secrets. */
export function executionPolicy(args: {
  repositoryArn: string;
  logGroupArn: string;
  secretArns: readonly string[];
  keyArn: string;
}): PolicyDocument {
  const statements: Statement[] = [
    { Sid: "EcrAuth", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
    {
      Sid: "EcrPull",
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
      Resource: [args.repositoryArn],
    },
    {
      Sid: "Logs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [`${args.logGroupArn}:log-stream:*`],
    },
  ];
  if (args.secretArns.length > 0)
    statements.push(
      {
        Sid: "Secrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [...args.secretArns],
      },
      { Sid: "SecretsKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [args.keyArn] },
    );
  return doc(...statements);
}

/** The EventBridge role: run only these task definitions on this cluster, pass only their roles. */
export function eventsRunTaskPolicy(args: {
  clusterArn: string;
  taskDefinitionArns: readonly string[];
  roleArns: readonly string[];
}): PolicyDocument {
  return doc(
    {
      Sid: "RunTask",
      Effect: "Allow",
      Action: ["ecs:RunTask"],
      Resource: [...args.taskDefinitionArns],
      Condition: { ArnEquals: { "ecs:cluster": args.clusterArn } },
    },
    {
      Sid: "PassTaskRoles",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [...args.roleArns],
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
  );
}

/** A bucket's public access block with every switch on (no ACLs, no public policies, ever). */
export const BLOCK_ALL_PUBLIC_ACCESS = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
} as const;

/** Denies any request to the bucket that is not over TLS. */
export function tlsOnlyBucketPolicy(bucket: string): PolicyDocument {
  return doc({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: ["s3:*"],
    Resource: [bucketArn(bucket), `${bucketArn(bucket)}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

/**
 * Lets EventBridge deliver failed events of these rules to the dead-letter queue (ARNs, or ARN
 * patterns such as `…:rule/<prefix>-*` for every rule of the platform).
 */
export function dlqPolicy(queueArn: string, ruleArns: readonly string[]): PolicyDocument {
  return doc({
    Sid: "EventBridgeDeadLetters",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: ["sqs:SendMessage"],
    Resource: [queueArn],
    Condition: { ArnLike: { "aws:SourceArn": [...ruleArns] } },
  });
}

/** Trust policy letting one AWS service assume a role, limited to this account. */
export function assumeRolePolicy(service: string, accountId?: string): PolicyDocument {
  return doc({
    Effect: "Allow",
    Principal: { Service: service },
    Action: ["sts:AssumeRole"],
    ...(accountId !== undefined && { Condition: { StringEquals: { "aws:SourceAccount": accountId } } }),
  });
}
