import { describe, expect, test } from "@jest/globals";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { resourcePolicies, STACK_INVARIANTS, stackOf, stackPolicy } from "../../policy/policies.js";
import { INVARIANTS } from "../../src/invariants/checks.js";
import { T } from "../../src/invariants/resources.js";
import { buildPlatform } from "../support/build.js";
import { MUTATIONS, mutateRecorded } from "../support/mutations.js";
import { runPolicyPack, runStackPolicy } from "../support/policy-harness.js";
import { buildTimeoutMs } from "../support/timeouts.js";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are untyped resource properties.
type Props = Record<string, any>;

const urn = (stack: string, type: string, name: string) => `urn:pulumi:${stack}::gplay::${type}::${name}`;

function validate(policyName: string, type: string, name: string, props: Props, stack = "dev"): string[] {
  const policy = resourcePolicies.find((p) => p.name === policyName);
  if (policy?.validateResource === undefined) throw new Error(`no resource policy ${policyName}`);
  const violations: string[] = [];
  const args = {
    type,
    name,
    props,
    urn: urn(stack, type, name),
    opts: {},
  } as unknown as ResourceValidationArgs;
  for (const v of [policy.validateResource].flat())
    void v(args, (message: string) => violations.push(message));
  return violations;
}

const policyDoc = (statements: Props[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

const TLS_DENY = {
  Effect: "Deny",
  Principal: "*",
  Action: ["s3:*"],
  Resource: ["arn:aws:s3:::b/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};

/** [policy, type, logical name, compliant props, violating props, stack]. */
const FIXTURES: [string, string, string, Props, Props, string?][] = [
  [
    "s3-sse-kms",
    T.sse,
    "lake-raw-sse",
    { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" } }] },
    { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
  ],
  [
    "s3-block-public-access",
    T.pab,
    "lake-raw-pab",
    { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true },
  ],
  [
    "s3-tls-only",
    T.bucketPolicy,
    "lake-raw-tls-only",
    {
      policy: policyDoc([TLS_DENY]),
    },
    {
      policy: policyDoc([
        { Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] },
      ]),
    },
  ],
  ["sqs-encrypted", T.queue, "dlq", { sqsManagedSseEnabled: true }, { messageRetentionSeconds: 60 }],
  [
    "dynamodb-table",
    T.table,
    "tables-users",
    {
      billingMode: "PAY_PER_REQUEST",
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      ttl: { attributeName: "expiresAt", enabled: true },
    },
    { billingMode: "PROVISIONED", ttl: { attributeName: "expiresAt", enabled: true } },
  ],
  [
    "dynamodb-table",
    T.table,
    "tables-users",
    {
      billingMode: "PAY_PER_REQUEST",
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      ttl: { attributeName: "expiresAt", enabled: true },
      deletionProtectionEnabled: true,
    },
    {
      billingMode: "PAY_PER_REQUEST",
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      ttl: { attributeName: "expiresAt", enabled: true },
      deletionProtectionEnabled: false,
    },
    "prod",
  ],
  [
    "rds-private-encrypted",
    T.db,
    "mlflow-db-postgres",
    { storageEncrypted: true, publiclyAccessible: false, manageMasterUserPassword: true },
    { storageEncrypted: true, publiclyAccessible: true, password: "hunter2" },
  ],
  [
    "ecs-no-secrets-in-environment",
    T.taskDefinition,
    "mlflow-taskdef",
    {
      containerDefinitions: JSON.stringify([
        {
          environment: [{ name: "PORT", value: "5000" }],
          secrets: [{ name: "MLFLOW_DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:x" }],
        },
      ]),
    },
    {
      containerDefinitions: JSON.stringify([
        { environment: [{ name: "MLFLOW_DB_PASSWORD", value: "hunter2" }] },
      ]),
    },
  ],
  [
    "ecs-no-secrets-in-environment",
    T.taskDefinition,
    "api-taskdef",
    {
      containerDefinitions: JSON.stringify([
        {
          environment: [{ name: "GPLAY_PREFIX", value: "gplay-dev" }],
          secrets: [{ name: "GPLAY_API_KEYS", valueFrom: "arn:aws:secretsmanager:x" }],
        },
      ]),
    },
    {
      containerDefinitions: JSON.stringify([{ environment: [{ name: "GPLAY_API_KEYS", value: "[]" }] }]),
    },
  ],
  [
    "ecs-fargate-awsvpc",
    T.taskDefinition,
    "api-taskdef",
    { requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", executionRoleArn: "a", taskRoleArn: "b" },
    { requiresCompatibilities: ["EC2"], networkMode: "bridge", executionRoleArn: "a" },
  ],
  [
    "ecs-service-private",
    T.service,
    "api-service",
    { networkConfiguration: { subnets: ["s"], assignPublicIp: false } },
    { networkConfiguration: { subnets: ["s"], assignPublicIp: true } },
  ],
  [
    "event-target-delivery",
    T.target,
    "raw-created",
    {
      retryPolicy: { maximumRetryAttempts: 10 },
      deadLetterConfig: { arn: "q" },
      ecsTarget: { launchType: "FARGATE", networkConfiguration: { assignPublicIp: false } },
    },
    { ecsTarget: { launchType: "FARGATE", networkConfiguration: { assignPublicIp: true } } },
  ],
  [
    "sg-no-public-ingress",
    T.securityGroup,
    "gplay-mlflow-lb",
    { ingress: [{ fromPort: 80, toPort: 80, cidrBlocks: ["10.40.0.0/16"] }] },
    { ingress: [{ fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }] },
  ],
  [
    "sg-no-public-ingress",
    T.securityGroup,
    "gplay-api-alb",
    { ingress: [{ fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] },
    { ingress: [{ fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] }] },
  ],
  ["lb-mlflow-internal", T.loadBalancer, "gplay-mlflow-lb", { internal: true }, { internal: false }],
  [
    "lb-mlflow-https",
    T.listener,
    "gplay-mlflow-https",
    { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
    { protocol: "HTTP", port: 80 },
  ],
  [
    "private-ca-acm-renewable",
    T.privateCa,
    "gplay-mlflow-tls-ca",
    { type: "ROOT", usageMode: "GENERAL_PURPOSE" },
    { type: "ROOT", usageMode: "SHORT_LIVED_CERTIFICATE" },
  ],
  [
    "api-health-check",
    T.targetGroup,
    "gplay-api-tg",
    { healthCheck: { path: "/healthz" } },
    { healthCheck: { path: "/" } },
  ],
  [
    "subnet-no-public-ip",
    T.subnet,
    "network-private-0",
    { mapPublicIpOnLaunch: false },
    { mapPublicIpOnLaunch: true },
  ],
  ["log-retention", T.logGroup, "api-logs", { retentionInDays: 30 }, {}],
  ["kms-rotation", T.kmsKey, "key", { enableKeyRotation: true }, { enableKeyRotation: false }],
  [
    "ecr-scan-on-push",
    T.repository,
    "images-api",
    { imageScanningConfiguration: { scanOnPush: true } },
    { imageScanningConfiguration: { scanOnPush: false } },
  ],
  [
    "iam-least-privilege",
    T.rolePolicy,
    "api-task",
    {
      policy: policyDoc([
        { Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::gplay-dev-models/models/*"] },
        { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      ]),
    },
    {
      policy: policyDoc([
        { Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::gplay-dev-models/*"] },
        { Effect: "Allow", Action: ["dynamodb:*"], Resource: ["*"] },
      ]),
    },
  ],
];

FIXTURES.push(
  [
    "s3-no-public-allow",
    T.bucketPolicy,
    "lake-raw-tls-only",
    {
      policy: policyDoc([TLS_DENY]),
    },
    {
      policy: policyDoc([
        {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::b/*"],
        },
      ]),
    },
  ],
  [
    "ecr-immutable-tags",
    T.repository,
    "images-api",
    { imageTagMutability: "IMMUTABLE" },
    { imageTagMutability: "MUTABLE" },
  ],
  [
    "lb-https-tls-policy",
    T.listener,
    "gplay-api-https",
    { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
    { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08" },
  ],
);

describe("resource policies on fixtures", () => {
  test("every resource policy has a fixture", () => {
    const covered = new Set(FIXTURES.map(([name]) => name));
    expect(resourcePolicies.map((p) => p.name).filter((n) => !covered.has(n))).toEqual([]);
  });

  test.each(
    FIXTURES.map(
      ([p, t, n, good, bad, stack = "dev"]) => [`${p} (${n}, ${stack})`, p, t, n, good, bad, stack] as const,
    ),
  )(
    "%s: passes the compliant fixture and reports the violating one",
    (_label, policy, type, name, good, bad, stack) => {
      expect(validate(policy, type, name, good, stack)).toEqual([]);
      expect(validate(policy, type, name, bad, stack).length).toBeGreaterThan(0);
    },
  );

  test("policies ignore other resource types and unknown (preview) values", () => {
    expect(validate("kms-rotation", T.bucket, "lake-raw", {})).toEqual([]);
    expect(validate("iam-least-privilege", T.rolePolicy, "api-task", { policy: undefined })).toEqual([]);
    expect(validate("ecs-no-secrets-in-environment", T.taskDefinition, "api", {})).toEqual([]);
  });

  test("reads the stack from the URN", () => {
    expect(stackOf("urn:pulumi:prod::gplay::aws:s3/bucket:Bucket::x")).toBe("prod");
  });
});

describe("the whole policy pack over the mocked program", () => {
  test.each(
    ["dev", "prod", "prod-dns"].flatMap((stack) =>
      (["preview", "update"] as const).map((view) => [stack, view] as const),
    ),
  )(
    "%s (%s view): 0 violations",
    async (stack, view) => {
      const { resources } = await buildPlatform(stack);
      expect(resources.length).toBeGreaterThan(120);
      expect(
        runPolicyPack(resources, { stack: stack.split("-")[0] as string, project: "gplay", view }),
      ).toEqual([]);
    },
    buildTimeoutMs(1),
  );

  test(
    "the stack policy reports every mutation of the invariants it runs (update view)",
    async () => {
      const base = {
        dev: (await buildPlatform("dev")).resources,
        prod: (await buildPlatform("prod")).resources,
        "dev-endpoints": (await buildPlatform("dev-endpoints")).resources,
      };
      const mutations = MUTATIONS.filter((m) => STACK_INVARIANTS.includes(m.invariant));
      expect(new Set(mutations.map((m) => m.invariant))).toEqual(new Set(STACK_INVARIANTS));
      for (const m of mutations) {
        const violations = runStackPolicy(mutateRecorded(base[m.stack], m), {
          stack: m.stack.split("-")[0] as string,
          project: "gplay",
          view: "update",
        });
        expect([m.what, violations.some((v) => v.startsWith(`${m.invariant}: `))]).toEqual([m.what, true]);
      }
    },
    buildTimeoutMs(3),
  );
});

describe("stack policy", () => {
  const run = (resources: { type: string; name: string; inputs: Props }[], stack = "dev") => {
    const violations: string[] = [];
    const args = {
      // A policy pack sees inputs only: no ids, no ARNs assigned by AWS.
      resources: resources.map(
        ({ type, name, inputs: { arn: _arn, ...props } }) =>
          ({ type, name, props, urn: urn(stack, type, name) }) as unknown as PolicyResource,
      ),
    } as unknown as StackValidationArgs;
    void stackPolicy.validateStack(args, (m: string) => violations.push(m));
    return violations;
  };

  test(
    "holds on the whole program, and reports a removed property",
    async () => {
      const { resources } = await buildPlatform("dev");
      expect(run(resources)).toEqual([]);
      const m = MUTATIONS.find((x) => x.invariant === "lake-versioning");
      if (m === undefined) throw new Error("mutation missing");
      expect(run(mutateRecorded(resources, m))).toEqual([expect.stringMatching(/^lake-versioning: /)]);
    },
    buildTimeoutMs(1),
  );

  test("runs only invariants that need no AWS-assigned values", () => {
    expect(STACK_INVARIANTS.every((id) => INVARIANTS.some((i) => i.id === id))).toBe(true);
  });

  test("reports missing pieces of an empty stack", () => {
    const violations = run([{ type: T.bucket, name: "gplay-lake-raw", inputs: { bucket: "gplay-dev-raw" } }]);
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lake-sse: /),
        expect.stringMatching(/^dynamodb-tables: /),
      ]),
    );
  });
});
