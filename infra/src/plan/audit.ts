import { bucketArn, doc, type PolicyDocument, tlsOnlyBucketPolicy } from "./iam.js";

/**
 * Where the platform's audit logs go, as data: one bucket per environment (SSE-S3: ALB access logs
 * accept nothing else), written by the load balancer, VPC flow logs and CloudTrail under their own
 * prefixes. Pure.
 */
export const auditBucketName = (prefix: string) => `${prefix}-audit-logs`;

/** Logical name suffix of the audit bucket's encryption (the one bucket on SSE-S3, by necessity). */
export const AUDIT_SSE_RESOURCE_SUFFIX = "-audit-bucket-sse";

export const AUDIT_PREFIXES = { alb: "alb", flowLogs: "flow-logs", cloudtrail: "cloudtrail" } as const;

/** How long audit logs are kept (prod: a year; dev: a month). */
export const auditRetentionDays = (prod: boolean) => (prod ? 365 : 30);

/**
 * TLS only; the ELB log delivery service, VPC flow logs' delivery service and CloudTrail (this
 * trail, this account) may write their prefix and nothing else.
 */
export function auditBucketPolicy(bucket: string, accountId: string, trailArn: string): PolicyDocument {
  const objects = (prefix: string) => [`${bucketArn(bucket)}/${prefix}/AWSLogs/${accountId}/*`];
  // A log service reads the bucket's ACL, then writes its prefix, handing the objects to the owner.
  const logDelivery = (sid: "FlowLogs" | "CloudTrail", service: string, source: Record<string, string>) => [
    {
      Sid: `${sid}Acl`,
      Effect: "Allow" as const,
      Principal: { Service: service },
      Action: ["s3:GetBucketAcl"],
      Resource: [bucketArn(bucket)],
      Condition: { StringEquals: source },
    },
    {
      Sid: `${sid}Write`,
      Effect: "Allow" as const,
      Principal: { Service: service },
      Action: ["s3:PutObject"],
      Resource: objects(sid === "FlowLogs" ? AUDIT_PREFIXES.flowLogs : AUDIT_PREFIXES.cloudtrail),
      Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", ...source } },
    },
  ];
  return doc(
    ...tlsOnlyBucketPolicy(bucket).Statement,
    {
      Sid: "AlbAccessLogs",
      Effect: "Allow",
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: ["s3:PutObject"],
      Resource: objects(AUDIT_PREFIXES.alb),
    },
    ...logDelivery("FlowLogs", "delivery.logs.amazonaws.com", { "aws:SourceAccount": accountId }),
    ...logDelivery("CloudTrail", "cloudtrail.amazonaws.com", { "aws:SourceArn": trailArn }),
  );
}

/**
 * The trail's selectors: management events everywhere (EventBridge's "AWS API Call via CloudTrail"
 * events, e.g. a new secret value, come from them); in prod also every object read and write of the
 * lake buckets.
 */
export function trailEventSelectors(lakeBuckets: readonly string[], prod: boolean) {
  return [
    {
      readWriteType: "All",
      includeManagementEvents: true,
      dataResources: prod
        ? [{ type: "AWS::S3::Object", values: lakeBuckets.map((b) => `${bucketArn(b)}/`) }]
        : [],
    },
  ];
}
