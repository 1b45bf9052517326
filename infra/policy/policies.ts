import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { publicAllowStatements } from "../src/invariants/bucket-policies.js";
import { INVARIANTS } from "../src/invariants/checks.js";
import { BOOTSTRAP_INVARIANTS } from "../src/invariants/identity.js";
import { asArray, json, type RecordedResource, T } from "../src/invariants/resources.js";
import { AUDIT_SSE_RESOURCE_SUFFIX } from "../src/plan/audit.js";
import { ACCEPTED_TLS_POLICIES } from "../src/plan/edge.js";
import { type PolicyDocument, WILDCARD_ACTIONS } from "../src/plan/iam.js";
import { MLFLOW_HTTPS_PORT } from "../src/plan/internal-tls.js";
import { SECRET_NAME_PATTERN } from "../src/plan/tasks.js";

/**
 * The platform's invariants as Pulumi policies. Resource policies check one resource's own
 * properties and are mandatory; the stack policy runs the cross-resource invariants of
 * src/invariants/checks.ts that need no AWS-assigned values (STACK_INVARIANTS) on the platform's
 * stacks, and src/invariants/identity.ts's BOOTSTRAP_INVARIANTS on the bootstrap stack; it is advisory.
 */
// biome-ignore lint/suspicious/noExplicitAny: resource properties are untyped here.
type Props = Record<string, any>;
type Check = (props: Props, args: ResourceValidationArgs) => string[];

/** The stack name, from the URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOf(urn: string): string {
  return urn.split("::")[0]?.split(":")[2] ?? "";
}

/** The project name, from the URN. */
export function projectOf(urn: string): string {
  return urn.split("::")[1] ?? "";
}

/** The bootstrap program's project (infra/bootstrap/Pulumi.yaml). */
export const BOOTSTRAP_PROJECT = "gplay-bootstrap";

/** `undefined` props are unknown during a preview: they are checked on update, not reported now. */
const known = (v: unknown) => v !== undefined;

function resourcePolicy(
  name: string,
  description: string,
  type: string,
  check: Check,
): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (args.type !== type) return;
      for (const message of check(args.props, args)) report(message);
    },
  };
}

const statementsOf = (policy: unknown) => asArray((json(policy) as PolicyDocument | undefined)?.Statement);

export const resourcePolicies: ResourceValidationPolicy[] = [
  resourcePolicy(
    "s3-sse-kms",
    "Buckets encrypt by default with KMS; only the audit bucket uses SSE-S3 (ALB access logs accept nothing else).",
    T.sse,
    (p, args) =>
      asArray(p.rules).some((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms") ||
      (args.name.endsWith(AUDIT_SSE_RESOURCE_SUFFIX) &&
        asArray(p.rules).some((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm === "AES256"))
        ? []
        : ["default encryption must be aws:kms"],
  ),
  resourcePolicy("s3-block-public-access", "Buckets block every kind of public access.", T.pab, (p) =>
    ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
      .filter((k) => p[k] !== true)
      .map((k) => `${k} must be true`),
  ),
  resourcePolicy("s3-tls-only", "Bucket policies deny requests without TLS.", T.bucketPolicy, (p) =>
    !known(p.policy) ||
    statementsOf(p.policy).some(
      (s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
    )
      ? []
      : ["the bucket policy must deny aws:SecureTransport=false"],
  ),
  resourcePolicy(
    "s3-no-public-allow",
    "Bucket policies allow nothing to everyone (Principal or NotPrincipal '*').",
    T.bucketPolicy,
    (p) =>
      !known(p.policy)
        ? []
        : publicAllowStatements(p.policy).map(
            (s) => `statement ${s.Sid ?? "(no Sid)"} allows ${asArray(s.Action).join(",")} to everyone`,
          ),
  ),
  resourcePolicy("ecr-immutable-tags", "Image tags cannot be moved to another image.", T.repository, (p) =>
    p.imageTagMutability === "IMMUTABLE" ? [] : ["imageTagMutability must be IMMUTABLE"],
  ),
  resourcePolicy("lb-https-tls-policy", "HTTPS listeners use a TLS 1.2+ policy.", T.listener, (p) =>
    p.protocol !== "HTTPS" || ACCEPTED_TLS_POLICIES.includes(p.sslPolicy)
      ? []
      : [`sslPolicy must be one of ${ACCEPTED_TLS_POLICIES.join(", ")}`],
  ),
  resourcePolicy("sqs-encrypted", "Queues are encrypted at rest.", T.queue, (p) =>
    p.sqsManagedSseEnabled === true || known(p.kmsMasterKeyId)
      ? []
      : ["enable SSE (sqsManagedSseEnabled or a KMS key)"],
  ),
  resourcePolicy(
    "dynamodb-table",
    "Tables are on demand, with PITR, SSE, a TTL attribute, and deletion protection in prod.",
    T.table,
    (p, args) => [
      ...(p.billingMode === "PAY_PER_REQUEST" ? [] : ["billingMode must be PAY_PER_REQUEST"]),
      ...(p.pointInTimeRecovery?.enabled === true ? [] : ["point-in-time recovery must be enabled"]),
      ...(p.serverSideEncryption?.enabled === true ? [] : ["server-side encryption must be enabled"]),
      ...(p.ttl?.enabled === true && typeof p.ttl?.attributeName === "string"
        ? []
        : ["a TTL attribute must be enabled"]),
      ...(stackOf(args.urn) !== "prod" || p.deletionProtectionEnabled === true
        ? []
        : ["prod tables need deletion protection"]),
    ],
  ),
  resourcePolicy(
    "rds-private-encrypted",
    "Databases are encrypted, private, with an RDS-managed password.",
    T.db,
    (p) => [
      ...(p.storageEncrypted === true ? [] : ["storageEncrypted must be true"]),
      ...(p.publiclyAccessible === true ? ["publiclyAccessible must be false"] : []),
      ...(p.manageMasterUserPassword === true && !known(p.password)
        ? []
        : ["let RDS manage the master password in Secrets Manager"]),
    ],
  ),
  resourcePolicy(
    "ecs-no-secrets-in-environment",
    "Secrets reach containers as ECS secrets, never plain environment.",
    T.taskDefinition,
    (p) => {
      if (!known(p.containerDefinitions)) return [];
      const defs = asArray(
        json(p.containerDefinitions) as { environment?: { name: string }[] }[] | undefined,
      );
      return defs.flatMap((c) =>
        asArray(c.environment)
          .filter((e) => SECRET_NAME_PATTERN.test(e.name))
          .map((e) => `${e.name} must be an ECS secret (valueFrom Secrets Manager), not environment`),
      );
    },
  ),
  resourcePolicy(
    "ecs-fargate-awsvpc",
    "Task definitions are Fargate with awsvpc networking and separate roles.",
    T.taskDefinition,
    (p) => [
      ...(asArray(p.requiresCompatibilities).includes("FARGATE") && p.networkMode === "awsvpc"
        ? []
        : ["must be FARGATE/awsvpc"]),
      ...(known(p.executionRoleArn) && known(p.taskRoleArn)
        ? []
        : ["needs an execution role and a task role"]),
    ],
  ),
  resourcePolicy("ecs-service-private", "Services run without public IPs.", T.service, (p) =>
    p.networkConfiguration?.assignPublicIp === false ? [] : ["assignPublicIp must be false"],
  ),
  resourcePolicy(
    "event-target-delivery",
    "ECS event targets retry, dead-letter, and run Fargate tasks without public IPs.",
    T.target,
    (p) => [
      ...(known(p.retryPolicy?.maximumRetryAttempts) ? [] : ["needs a retry policy"]),
      ...(p.deadLetterConfig !== undefined ? [] : ["needs a dead-letter queue"]),
      ...(p.ecsTarget === undefined ||
      (p.ecsTarget.launchType === "FARGATE" && p.ecsTarget.networkConfiguration?.assignPublicIp === false)
        ? []
        : ["ECS targets must be FARGATE without public IPs"]),
    ],
  ),
  resourcePolicy(
    "sg-no-public-ingress",
    "Only the API load balancer accepts internet traffic, on 80/443.",
    T.securityGroup,
    (p, args) =>
      asArray(p.ingress)
        .filter(
          (i) => asArray(i.cidrBlocks).includes("0.0.0.0/0") || asArray(i.ipv6CidrBlocks).includes("::/0"),
        )
        .filter(
          (i) =>
            !(args.name.endsWith("-api-alb") && [80, 443].includes(i.fromPort) && i.fromPort === i.toPort),
        )
        .map((i) => `internet ingress on ${i.fromPort}-${i.toPort}`),
  ),
  resourcePolicy("lb-mlflow-internal", "MLflow's load balancer is internal.", T.loadBalancer, (p, args) =>
    args.name.includes("mlflow") && p.internal !== true
      ? ["MLflow must only be reachable inside the VPC"]
      : [],
  ),
  resourcePolicy(
    "lb-mlflow-https",
    "MLflow's internal listeners serve HTTPS on 443 only (basic-auth credentials never cross the VPC in clear).",
    T.listener,
    (p, args) =>
      args.name.includes("-mlflow-") && !(p.protocol === "HTTPS" && p.port === MLFLOW_HTTPS_PORT)
        ? [`MLflow's listener must be HTTPS on ${MLFLOW_HTTPS_PORT}, not ${p.protocol} on ${p.port}`]
        : [],
  ),
  resourcePolicy(
    "private-ca-acm-renewable",
    "Private CAs are GENERAL_PURPOSE: ACM can neither issue nor renew certificates from a short-lived CA.",
    T.privateCa,
    (p) => (p.usageMode === "GENERAL_PURPOSE" ? [] : ["usageMode must be GENERAL_PURPOSE"]),
  ),
  resourcePolicy("api-health-check", "The API target group checks /healthz.", T.targetGroup, (p, args) =>
    args.name.endsWith("-api-tg") && p.healthCheck?.path !== "/healthz"
      ? ["health check path must be /healthz"]
      : [],
  ),
  resourcePolicy("subnet-no-public-ip", "Subnets never assign public IPs on launch.", T.subnet, (p) =>
    p.mapPublicIpOnLaunch === true ? ["mapPublicIpOnLaunch must be false"] : [],
  ),
  resourcePolicy("log-retention", "Log groups have a retention period.", T.logGroup, (p) =>
    p.retentionInDays > 0 ? [] : ["set retentionInDays"],
  ),
  resourcePolicy("kms-rotation", "Customer-managed keys rotate.", T.kmsKey, (p) =>
    p.enableKeyRotation === true ? [] : ["enableKeyRotation must be true"],
  ),
  resourcePolicy("ecr-scan-on-push", "Images are scanned on push.", T.repository, (p) =>
    p.imageScanningConfiguration?.scanOnPush === true ? [] : ["scanOnPush must be true"],
  ),
  resourcePolicy(
    "iam-least-privilege",
    "No wildcard actions; '*' resources only where AWS requires them.",
    T.rolePolicy,
    (p) => {
      if (!known(p.policy)) return [];
      return statementsOf(p.policy)
        .filter((s) => s.Effect === "Allow")
        .flatMap((s) => [
          ...asArray(s.Action)
            .filter((a) => a === "*" || a.endsWith(":*"))
            .map((a) => `wildcard action ${a}`),
          ...(asArray(s.Resource).includes("*") &&
          !asArray(s.Action).every((a) => WILDCARD_ACTIONS.includes(a))
            ? [`Resource "*" for ${asArray(s.Action).join(",")}`]
            : []),
          ...asArray(s.Resource)
            .filter((r) => /^arn:aws:s3:::[^/]+\/\*?$/.test(r))
            .map((r) => `S3 object access not scoped to a prefix: ${r}`),
        ]);
    },
  ),
];

/**
 * Invariants that read only input properties known at preview time. The others follow ARNs and ids
 * that AWS assigns, which a policy pack does not see (no ids, unknown outputs during a preview);
 * the mock tests run those.
 */
export const STACK_INVARIANTS = [
  "lake-buckets",
  "lake-sse",
  "lake-public-access-block",
  "lake-tls-only",
  "lake-versioning",
  "lake-lifecycle",
  "lake-eventbridge",
  "ecs-cluster",
  "dlq-encrypted",
  "dynamodb-tables",
  "no-public-ingress",
  "log-retention",
  "kms-rotation",
  "api-tls",
  "api-waf",
  "ecr-immutable-digests",
  "bucket-policy-no-public-allow",
  "roles-workload-boundary",
  "service-trust-source-account",
];

export const stackPolicy: StackValidationPolicy = {
  name: "platform-invariants",
  description: "Cross-resource invariants of the platform (the checks the mock tests run).",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    const urn = args.resources[0]?.urn ?? "";
    const stack = stackOf(urn);
    const environment = stack === "prod" ? "prod" : "dev";
    const prefixFromBucket = args.resources
      .filter((r) => r.type === T.bucket)
      .map((r) => String(r.props.bucket ?? ""))
      .find((b) => b.endsWith("-raw"));
    const prefix = prefixFromBucket?.slice(0, -"-raw".length) ?? `gplay-${environment}`;
    const resources: RecordedResource[] = args.resources.map((r) => ({
      type: r.type,
      name: r.name,
      inputs: r.props,
    }));
    const invariants =
      projectOf(urn) === BOOTSTRAP_PROJECT
        ? BOOTSTRAP_INVARIANTS
        : INVARIANTS.filter((i) => STACK_INVARIANTS.includes(i.id));
    for (const inv of invariants)
      for (const v of inv.check(resources, { prefix, environment })) report(`${inv.id}: ${v}`);
  },
};
