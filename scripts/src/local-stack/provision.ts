import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import {
  AppError,
  type AwsClients,
  type LakeBuckets,
  lakeBucketNames,
  rawObjectCreatedPattern,
  resourcePrefixSchema,
  snapshotReadyPattern,
  TABLES,
  type TableName,
  type TableNames,
  tableNames,
  translateAwsError,
} from "@gplay/common";
import { LOCAL_STACK_PREFIX, type LocalStackEndpoints } from "./stack.js";
import { localAwsClients } from "./test-support.js";

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
}

/** What `provisionEnvironment` created for one prefix: the local twin of one infra environment. */
export interface ProvisionedEnvironment {
  prefix: string;
  buckets: LakeBuckets;
  tables: TableNames;
  /** SQS stand-ins for ECS RunTask (`ingest`, `training`) and the dead-letter queues. */
  queues: { ingest: QueueRef; ingestDlq: QueueRef; training: QueueRef; trainingDlq: QueueRef };
  /** EventBridge rule names on the default bus. */
  rules: { rawIngest: string; snapshotReady: string };
}

/** Every name an environment uses, derived from its prefix (pure). */
export function environmentNames(prefix: string) {
  resourcePrefixSchema.parse(prefix);
  return {
    buckets: lakeBucketNames(prefix),
    tables: tableNames(prefix),
    queues: {
      ingest: `${prefix}-ingest-tasks`,
      ingestDlq: `${prefix}-ingest-dlq`,
      training: `${prefix}-training-tasks`,
      trainingDlq: `${prefix}-training-dlq`,
    },
    rules: { rawIngest: `${prefix}-raw-ingest`, snapshotReady: `${prefix}-snapshot-ready` },
  };
}

const errorName = (error: unknown) => (error as { name?: string }).name ?? "";

async function ensureBucket(clients: AwsClients, bucket: string): Promise<void> {
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (errorName(error) !== "BucketAlreadyOwnedByYou")
      throw translateAwsError(error, "CreateBucket", { bucket });
  }
  // S3 → EventBridge for every event of the bucket; the rules pick what they need.
  await clients.s3
    .send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { EventBridgeConfiguration: {} },
      }),
    )
    .catch((error: unknown) => {
      throw translateAwsError(error, "PutBucketNotificationConfiguration", { bucket });
    });
}

async function ensureTable(clients: AwsClients, table: TableName, name: string): Promise<void> {
  const def = TABLES[table];
  try {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: def.partitionKey.name, AttributeType: def.partitionKey.type },
        ],
        KeySchema: [{ AttributeName: def.partitionKey.name, KeyType: "HASH" }],
      }),
    );
  } catch (error) {
    if (errorName(error) !== "ResourceInUseException")
      throw translateAwsError(error, "CreateTable", { name });
  }
  await waitUntilTableExists({ client: clients.dynamodb, maxWaitTime: 30, minDelay: 1 }, { TableName: name });
  const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== "ENABLED" && status !== "ENABLING") {
    await clients.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      }),
    );
  }
}

async function ensureQueue(clients: AwsClients, name: string): Promise<QueueRef> {
  const created = await clients.sqs
    .send(
      new CreateQueueCommand({
        QueueName: name,
        // Long enough for one local task; the runner extends or shortens it per message.
        Attributes: { VisibilityTimeout: "300", MessageRetentionPeriod: "1209600" },
      }),
    )
    .catch((error: unknown) => {
      throw translateAwsError(error, "CreateQueue", { name });
    });
  const url = created.QueueUrl ?? "";
  const attrs = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = attrs.Attributes?.QueueArn ?? "";
  return { name, url, arn };
}

/** Lets EventBridge rules of this environment deliver to the queue (what infra grants the ECS target). */
function queuePolicy(queueArn: string, ruleArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowEventBridgeRule",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      },
    ],
  });
}

async function ensureRule(
  clients: AwsClients,
  name: string,
  pattern: Record<string, unknown>,
  description: string,
  target: QueueRef,
  dlq: QueueRef,
): Promise<void> {
  const rule = await clients.eventbridge.send(
    new PutRuleCommand({
      Name: name,
      EventPattern: JSON.stringify(pattern),
      State: "ENABLED",
      Description: description,
    }),
  );
  await clients.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: target.url,
      Attributes: { Policy: queuePolicy(target.arn, rule.RuleArn ?? "") },
    }),
  );
  // The whole event goes to the queue: the local task runner applies the input transformer that
  // infra attaches to the ECS target, so both paths share common's transformer.
  const result = await clients.eventbridge.send(
    new PutTargetsCommand({
      Rule: name,
      Targets: [
        {
          Id: "task",
          Arn: target.arn,
          DeadLetterConfig: { Arn: dlq.arn },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        },
      ],
    }),
  );
  if ((result.FailedEntryCount ?? 0) > 0) {
    throw translateAwsError(new Error(JSON.stringify(result.FailedEntries)), "PutTargets", { rule: name });
  }
}

/**
 * Creates (idempotently) the local twin of what infra declares for `prefix`: the three lake buckets
 * with EventBridge notifications, the four on-demand tables with TTL, and the two rules on the
 * default bus, each targeting an SQS queue that stands in for ECS RunTask, plus dead-letter queues.
 */
export async function provisionEnvironment(
  endpoints: LocalStackEndpoints,
  prefix: string,
): Promise<ProvisionedEnvironment> {
  const names = environmentNames(prefix);
  const clients = localAwsClients(endpoints);
  try {
    await Promise.all(Object.values(names.buckets).map((bucket) => ensureBucket(clients, bucket)));
    await Promise.all(
      (Object.keys(names.tables) as TableName[]).map((table) =>
        ensureTable(clients, table, names.tables[table]),
      ),
    );
    const [ingest, ingestDlq, training, trainingDlq] = await Promise.all([
      ensureQueue(clients, names.queues.ingest),
      ensureQueue(clients, names.queues.ingestDlq),
      ensureQueue(clients, names.queues.training),
      ensureQueue(clients, names.queues.trainingDlq),
    ]);
    await ensureRule(
      clients,
      names.rules.rawIngest,
      rawObjectCreatedPattern(names.buckets.raw),
      "Objects created under raw/ start a featstore-engine task",
      ingest,
      ingestDlq,
    );
    await ensureRule(
      clients,
      names.rules.snapshotReady,
      snapshotReadyPattern(names.buckets.processed),
      "A Snapshot Ready event starts a training task",
      training,
      trainingDlq,
    );
    return {
      prefix,
      buckets: names.buckets,
      tables: names.tables,
      queues: { ingest, ingestDlq, training, trainingDlq },
      rules: names.rules,
    };
  } catch (error) {
    throw translateAwsError(error, `Provisioning the local environment ${prefix}`, { prefix });
  } finally {
    clients.destroy();
  }
}

const ignoreNotFound = (names: string[]) => (error: unknown) => {
  if (!names.includes(errorName(error))) throw error;
};

async function emptyAndDeleteBucket(clients: AwsClients, bucket: string): Promise<void> {
  try {
    let token: string | undefined;
    do {
      const page = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length > 0) {
        await clients.s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
        );
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (error) {
    ignoreNotFound(["NoSuchBucket", "NotFound"])(error);
  }
}

async function deleteRule(clients: AwsClients, rule: string): Promise<void> {
  try {
    const targets = await clients.eventbridge.send(new ListTargetsByRuleCommand({ Rule: rule }));
    const ids = (targets.Targets ?? []).flatMap((t) => (t.Id === undefined ? [] : [t.Id]));
    if (ids.length > 0) await clients.eventbridge.send(new RemoveTargetsCommand({ Rule: rule, Ids: ids }));
    await clients.eventbridge.send(new DeleteRuleCommand({ Name: rule }));
  } catch (error) {
    ignoreNotFound(["ResourceNotFoundException"])(error);
  }
}

async function deleteQueue(clients: AwsClients, name: string): Promise<void> {
  try {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    await clients.sqs.send(new DeleteQueueCommand({ QueueUrl }));
  } catch (error) {
    ignoreNotFound(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"])(error);
  }
}

/**
 * Removes everything `provisionEnvironment` created for `prefix` (buckets emptied first). Idempotent.
 * Refuses the stack's own prefix: its models bucket holds MLflow's artifacts for every environment.
 */
export async function destroyEnvironment(endpoints: LocalStackEndpoints, prefix: string): Promise<void> {
  if (prefix === LOCAL_STACK_PREFIX)
    throw new AppError(
      "CONFLICT",
      `${prefix} is the local stack's own prefix: s3://${lakeBucketNames(prefix).models}/ holds MLflow's artifacts for every environment. Destroy another prefix, or stop everything with \`pnpm stack down\``,
      { details: { prefix } },
    );
  const names = environmentNames(prefix);
  const clients = localAwsClients(endpoints);
  try {
    // Rules first, so nothing more is delivered while the rest goes.
    await Promise.all(Object.values(names.rules).map((rule) => deleteRule(clients, rule)));
    await Promise.all([
      ...Object.values(names.queues).map((queue) => deleteQueue(clients, queue)),
      ...Object.values(names.tables).map((table) =>
        clients.dynamodb
          .send(new DeleteTableCommand({ TableName: table }))
          .then(() => undefined, ignoreNotFound(["ResourceNotFoundException"])),
      ),
      ...Object.values(names.buckets).map((bucket) => emptyAndDeleteBucket(clients, bucket)),
    ]);
  } catch (error) {
    throw translateAwsError(error, `Destroying the local environment ${prefix}`, { prefix });
  } finally {
    clients.destroy();
  }
}
