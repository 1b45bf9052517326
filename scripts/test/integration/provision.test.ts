import { DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { ListBucketsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { type AwsClients, rawObjectCreatedPattern, snapshotReadyPattern, TTL_ATTRIBUTE } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  destroyEnvironment,
  type LocalStackEndpoints,
  localAwsClients,
  provisionEnvironment,
  readLocalStack,
  uniquePrefix,
} from "../../src/index.js";

describe("provisionEnvironment / destroyEnvironment", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  const prefix = uniquePrefix("provision");

  beforeAll(async () => {
    endpoints = await readLocalStack();
    clients = localAwsClients(endpoints);
  });

  afterAll(async () => {
    await destroyEnvironment(endpoints, prefix);
    clients.destroy();
  });

  it("creates the local twin of an environment, and a second run changes nothing", async () => {
    const first = await provisionEnvironment(endpoints, prefix);
    const second = await provisionEnvironment(endpoints, prefix);
    expect(second).toEqual(first);

    // moto 5.2.5 stores EventBridgeConfiguration but GetBucketNotificationConfiguration never returns
    // it, so check the behaviour instead: an object put in each bucket reaches the default bus.
    const buckets = Object.values(first.buckets);
    const probe = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-probe` }));
    const probeArn = (
      await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: probe.QueueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes?.QueueArn;
    try {
      await clients.eventbridge.send(
        new PutRuleCommand({
          Name: `${prefix}-probe`,
          // moto also emits "Object Tags Added" for every PutObject (AWS does not): match creations only.
          EventPattern: JSON.stringify({
            source: ["aws.s3"],
            "detail-type": ["Object Created"],
            detail: { bucket: { name: buckets } },
          }),
        }),
      );
      await clients.eventbridge.send(
        new PutTargetsCommand({ Rule: `${prefix}-probe`, Targets: [{ Id: "probe", Arn: probeArn }] }),
      );
      for (const bucket of buckets) {
        await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "probe/x", Body: "x" }));
      }
      const { Messages } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: probe.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      const notified = (Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}").detail.bucket.name as string);
      expect(notified.sort()).toEqual([...buckets].sort());
    } finally {
      await clients.eventbridge.send(new RemoveTargetsCommand({ Rule: `${prefix}-probe`, Ids: ["probe"] }));
      await clients.eventbridge.send(new DeleteRuleCommand({ Name: `${prefix}-probe` }));
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: probe.QueueUrl }));
    }
    for (const table of Object.values(first.tables)) {
      const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
      const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }));
      expect(ttl.TimeToLiveDescription).toEqual({
        TimeToLiveStatus: "ENABLED",
        AttributeName: TTL_ATTRIBUTE,
      });
    }
    const raw = await clients.eventbridge.send(new DescribeRuleCommand({ Name: `${prefix}-raw-ingest` }));
    expect(JSON.parse(raw.EventPattern ?? "{}")).toEqual(rawObjectCreatedPattern(first.buckets.raw));
    const snapshot = await clients.eventbridge.send(
      new DescribeRuleCommand({ Name: `${prefix}-snapshot-ready` }),
    );
    expect(JSON.parse(snapshot.EventPattern ?? "{}")).toEqual(snapshotReadyPattern(first.buckets.processed));
    const targets = await clients.eventbridge.send(
      new ListTargetsByRuleCommand({ Rule: first.rules.rawIngest }),
    );
    expect(targets.Targets?.map((t) => t.Arn)).toEqual([first.queues.ingest.arn]);
    expect(first.queues.ingest.url).toContain(`${prefix}-ingest-tasks`);
    expect(first.queues.ingestDlq.name).toBe(`${prefix}-ingest-dlq`);
    expect(first.queues.training.name).toBe(`${prefix}-training-tasks`);
  });

  it("removes everything it created, non-empty buckets included, and tolerates a second run", async () => {
    const other = uniquePrefix("provision-gone");
    const env = await provisionEnvironment(endpoints, other);
    await clients.s3.send(new PutObjectCommand({ Bucket: env.buckets.raw, Key: "raw/a.csv", Body: "a" }));
    await clients.s3.send(new PutObjectCommand({ Bucket: env.buckets.models, Key: "mlflow/x", Body: "b" }));

    await destroyEnvironment(endpoints, other);
    await destroyEnvironment(endpoints, other);

    const buckets = await clients.s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.filter((b) => b.Name?.startsWith(other))).toEqual([]);
    const tables = await clients.dynamodb.send(new ListTablesCommand({}));
    expect(tables.TableNames?.filter((t) => t.startsWith(other))).toEqual([]);
    const rules = await clients.eventbridge.send(new ListRulesCommand({ NamePrefix: other }));
    expect(rules.Rules ?? []).toEqual([]);
    const queues = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: other }));
    expect(queues.QueueUrls ?? []).toEqual([]);
  });
});
