import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  AUDIT_PREFIXES,
  auditBucketName,
  auditBucketPolicy,
  auditRetentionDays,
  trailEventSelectors,
} from "../plan/audit.js";
import { BLOCK_ALL_PUBLIC_ACCESS } from "../plan/iam.js";

export interface AuditLogsArgs {
  prefix: string;
  prod: boolean;
  region: string;
  accountId: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  /** The lake's buckets: prod's trail records every object read and write in them. */
  lakeBuckets: string[];
  forceDestroy: boolean;
}

/**
 * What is logged where, beyond the workloads' own log groups: a CloudTrail trail (management events;
 * in prod the lake's S3 data events too), and in prod VPC flow logs and the public ALB's access logs,
 * all into one audit bucket (docs/security.md).
 */
export class AuditLogs extends pulumi.ComponentResource {
  /** Bucket the public ALB writes its access logs to (prod), under `alb/`. */
  readonly albLogs?: { bucket: pulumi.Output<string>; prefix: string };

  constructor(name: string, args: AuditLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:audit:AuditLogs", name, {}, opts);
    const parent = { parent: this };
    const bucketName = auditBucketName(args.prefix);
    const trailName = `${args.prefix}-audit`;

    // The audit bucket: private, SSE-S3 (the only encryption ALB access logs accept), owner-enforced.
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: bucketName, forceDestroy: args.forceDestroy },
      parent,
    );
    // No public access of any kind.
    const pab = new aws.s3.BucketPublicAccessBlock(
      `${name}-bucket-pab`,
      { bucket: bucket.id, ...BLOCK_ALL_PUBLIC_ACCESS },
      parent,
    );
    // Objects belong to the bucket's owner whoever delivers them.
    new aws.s3.BucketOwnershipControls(
      `${name}-bucket-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      parent,
    );
    // Default encryption SSE-S3.
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-bucket-sse`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      parent,
    );
    // Audit logs expire after the environment's retention.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-bucket-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "audit-expiry",
            status: "Enabled",
            filter: { prefix: "" },
            expiration: { days: auditRetentionDays(args.prod) },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      parent,
    );
    const trailArn = pulumi.interpolate`arn:aws:cloudtrail:${args.region}:${args.accountId}:trail/${trailName}`;
    // TLS only; each log service writes its own prefix of this account.
    const policy = new aws.s3.BucketPolicy(
      `${name}-bucket-policy`,
      {
        bucket: bucket.id,
        policy: pulumi
          .all([args.accountId, trailArn])
          .apply(([accountId, arn]) => JSON.stringify(auditBucketPolicy(bucketName, accountId, arn))),
      },
      { ...parent, dependsOn: [pab] },
    );

    // The account's API activity (and, in prod, the lake's object reads and writes).
    new aws.cloudtrail.Trail(
      `${name}-trail`,
      {
        name: trailName,
        s3BucketName: bucket.bucket,
        s3KeyPrefix: AUDIT_PREFIXES.cloudtrail,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        eventSelectors: trailEventSelectors(args.lakeBuckets, args.prod),
      },
      { ...parent, dependsOn: [policy] },
    );

    if (args.prod) {
      // Every accepted and rejected connection in the VPC.
      new aws.ec2.FlowLog(
        `${name}-flow-logs`,
        {
          vpcId: args.vpcId,
          trafficType: "ALL",
          logDestinationType: "s3",
          logDestination: pulumi.interpolate`${bucket.arn}/${AUDIT_PREFIXES.flowLogs}/`,
          maxAggregationInterval: 600,
        },
        { ...parent, dependsOn: [policy] },
      );
      // The ALB checks it may write when it is configured: hand the name over once the policy exists.
      this.albLogs = {
        bucket: pulumi.all([bucket.bucket, policy.id]).apply(([b]) => b),
        prefix: AUDIT_PREFIXES.alb,
      };
    }
    this.registerOutputs({ bucket: bucket.bucket });
  }
}
