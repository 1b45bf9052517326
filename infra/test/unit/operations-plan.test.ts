import { describe, expect, test } from "@jest/globals";
import { publicAllowStatements } from "../../src/invariants/bucket-policies.js";
import { auditBucketPolicy, trailEventSelectors } from "../../src/plan/audit.js";
import {
  AWS_SERVICES_CALLED,
  endpointServiceOfAction,
  interfaceEndpointServices,
} from "../../src/plan/aws-services.js";
import { platformKeyPolicy } from "../../src/plan/keys.js";
import {
  commandInput,
  DECIDE_COMMAND,
  ERASE_PENDING_COMMAND,
  finalSnapshotName,
  mlflowDbRotationRunbook,
  platformRulesArnPattern,
  RECOVER_COMMAND,
  secretChangedPattern,
  startedByRule,
  taskFailedPattern,
} from "../../src/plan/operations.js";

describe("AWS services the tasks call", () => {
  test("interface endpoints are every called service but the gateway ones, once each, EventBridge included", () => {
    const services = interfaceEndpointServices();
    expect(services).toEqual(["ecr.api", "ecr.dkr", "events", "logs", "secretsmanager", "ssmmessages"]);
    expect(services).not.toContain("s3");
    expect(interfaceEndpointServices({ a: ["s3", "sqs"], b: ["sqs", "dynamodb"] })).toEqual(["sqs"]);
    expect(AWS_SERVICES_CALLED.featstoreEngine).toContain("events");
  });

  test("an IAM action names its endpoint service (ECR's API actions go to ecr.api)", () => {
    expect(endpointServiceOfAction("events:PutEvents")).toBe("events");
    expect(endpointServiceOfAction("ecr:BatchGetImage")).toBe("ecr.api");
  });
});

describe("operations patterns", () => {
  test("the task-failed pattern matches a non-zero exit or a task that never started, of one cluster", () => {
    const p = taskFailedPattern("arn:c");
    expect(p.detail).toEqual({
      clusterArn: ["arn:c"],
      lastStatus: ["STOPPED"],
      $or: [{ containers: { exitCode: [{ "anything-but": 0 }] } }, { stopCode: ["TaskFailedToStart"] }],
    });
    expect(taskFailedPattern("arn:c", startedByRule("gplay-dev-raw-created")).detail).toMatchObject({
      startedBy: [{ prefix: "events-rule/gplay-dev-raw-created" }],
    });
    const long = taskFailedPattern("arn:c", startedByRule("a-very-long-prefix-of-resources-raw-created"));
    expect(long.detail.startedBy?.[0]?.prefix).toHaveLength(36);
  });

  test("recover, erase --pending and decide run their command in their task's container", () => {
    expect(commandInput("featstore-engine", RECOVER_COMMAND)).toEqual({
      containerOverrides: [{ name: "featstore-engine", command: ["node", "dist/main.js", "recover"] }],
    });
    expect(commandInput("featstore-engine", ERASE_PENDING_COMMAND)).toEqual({
      containerOverrides: [
        { name: "featstore-engine", command: ["node", "dist/main.js", "erase", "--pending"] },
      ],
    });
    // training's image runs its compiled CLI (training/src/cli.ts) for the decision.
    expect(commandInput("training", DECIDE_COMMAND)).toEqual({
      containerOverrides: [{ name: "training", command: ["node", "dist/cli.js", "decide"] }],
    });
  });

  test("the DLQ admits every rule named with the platform's prefix", () => {
    expect(
      platformRulesArnPattern("arn:aws:events:us-east-1:1:rule/gplay-dev-raw-created", "gplay-dev"),
    ).toBe("arn:aws:events:us-east-1:1:rule/gplay-dev-*");
  });

  test("a new value of one secret, put, rotated or restaged, matches its pattern", () => {
    const p = secretChangedPattern("arn:s");
    expect(p.detail.eventName).toEqual(["RotationSucceeded", "PutSecretValue", "UpdateSecretVersionStage"]);
    expect(p.detail.$or).toEqual([
      { requestParameters: { secretId: ["arn:s"] } },
      { additionalEventData: { SecretId: ["arn:s"] } },
    ]);
  });

  test("the rotation runbook sets the password, waits, requires exit 0, then redeploys MLflow", () => {
    const r = mlflowDbRotationRunbook({
      clusterArn: "arn:c",
      serviceName: "gplay-dev-mlflow",
      bootstrapTaskDefinitionArn: "arn:td",
      subnetIds: ["s1"],
      securityGroupIds: ["g1"],
    });
    expect(r.mainSteps.map((s) => s.name)).toEqual([
      "applyPassword",
      "waitForPassword",
      "requireSuccess",
      "restartMlflow",
    ]);
    expect(r.mainSteps[3]?.inputs).toMatchObject({ Api: "UpdateService", forceNewDeployment: true });
  });

  test("a final snapshot name carries its instance's creation time", () => {
    expect(finalSnapshotName("db-final", new Date("2026-12-06T10:11:12.345Z"))).toBe(
      "db-final-20261206101112",
    );
  });
});

describe("audit and key policies", () => {
  test("the audit bucket lets each log service write only its own prefix, and nobody else", () => {
    const p = auditBucketPolicy("b", "123456789012", "arn:trail");
    expect(publicAllowStatements(p)).toEqual([]);
    const writes = Object.fromEntries(
      p.Statement.filter((s) => s.Action?.includes("s3:PutObject") && s.Effect === "Allow").map((s) => [
        s.Sid,
        s.Resource,
      ]),
    );
    expect(writes).toEqual({
      AlbAccessLogs: ["arn:aws:s3:::b/alb/AWSLogs/123456789012/*"],
      FlowLogsWrite: ["arn:aws:s3:::b/flow-logs/AWSLogs/123456789012/*"],
      CloudTrailWrite: ["arn:aws:s3:::b/cloudtrail/AWSLogs/123456789012/*"],
    });
    expect(p.Statement.some((s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"])).toBe(
      true,
    );
  });

  test("the trail records the lake's object events in prod only", () => {
    expect(trailEventSelectors(["r", "p"], false)[0]?.dataResources).toEqual([]);
    expect(trailEventSelectors(["r", "p"], true)[0]?.dataResources).toEqual([
      { type: "AWS::S3::Object", values: ["arn:aws:s3:::r/", "arn:aws:s3:::p/"] },
    ]);
  });

  test("the platform key lets logs, alarms and rules of this account use it", () => {
    const p = platformKeyPolicy("123456789012", "eu-west-1");
    expect(p.Statement.map((s) => s.Principal)).toEqual([
      { AWS: "arn:aws:iam::123456789012:root" },
      { Service: "logs.eu-west-1.amazonaws.com" },
      { Service: ["cloudwatch.amazonaws.com", "events.amazonaws.com"] },
    ]);
    expect(p.Statement[2]?.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "123456789012" } });
  });
});
