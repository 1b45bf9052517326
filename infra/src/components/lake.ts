import { LAKE_ZONES, type LakeBuckets, type LakeZone } from "@gplay/common";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BLOCK_ALL_PUBLIC_ACCESS, tlsOnlyBucketPolicy } from "../plan/iam.js";
import { lifecycleRules } from "../plan/lifecycle.js";
import { DEFAULT_RETENTION, type RetentionConfig, retentionRules } from "../plan/retention.js";

export interface DataLakeArgs {
  names: LakeBuckets;
  keyArn: pulumi.Input<string>;
  /** Let `pulumi destroy` empty the buckets (dev only). */
  forceDestroy: boolean;
  /** How long each zone keeps data (retention rules beside the tiering ones). */
  retention?: RetentionConfig;
}

/** Zones whose history must survive overwrites and deletes. */
export const VERSIONED_ZONES: readonly LakeZone[] = ["raw", "models"];
/** Zones that publish object events to EventBridge (raw triggers ingestion; processed for audits). */
export const NOTIFYING_ZONES: readonly LakeZone[] = ["raw", "processed"];

/**
 * The three lake buckets (common's `lakeBucketNames`): KMS encryption, no public access, TLS only,
 * owner-enforced objects, lifecycle rules, versioning on raw and models, EventBridge notifications.
 */
export class DataLake extends pulumi.ComponentResource {
  readonly buckets: Record<LakeZone, aws.s3.Bucket>;

  constructor(name: string, args: DataLakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:lake:DataLake", name, {}, opts);
    const parent = { parent: this };
    const entries = LAKE_ZONES.map((zone) => {
      const bucketName = args.names[zone];
      // The bucket of one zone.
      const bucket = new aws.s3.Bucket(
        `${name}-${zone}`,
        { bucket: bucketName, forceDestroy: args.forceDestroy, tags: { Zone: zone } },
        parent,
      );
      // Default encryption with the platform key (bucket keys cut KMS calls).
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-${zone}-sse`,
        {
          bucket: bucket.id,
          rules: [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.keyArn },
              bucketKeyEnabled: true,
            },
          ],
        },
        parent,
      );
      // No ACLs, no public policies, ever.
      const pab = new aws.s3.BucketPublicAccessBlock(
        `${name}-${zone}-pab`,
        { bucket: bucket.id, ...BLOCK_ALL_PUBLIC_ACCESS },
        parent,
      );
      // ACLs disabled: the bucket owner owns every object.
      new aws.s3.BucketOwnershipControls(
        `${name}-${zone}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        parent,
      );
      // Deny any request that is not over TLS.
      new aws.s3.BucketPolicy(
        `${name}-${zone}-tls-only`,
        { bucket: bucket.id, policy: JSON.stringify(tlsOnlyBucketPolicy(bucketName)) },
        { ...parent, dependsOn: [pab] },
      );
      const versioning = VERSIONED_ZONES.includes(zone)
        ? // Versioning: an overwritten raw file or model can be recovered.
          new aws.s3.BucketVersioning(
            `${name}-${zone}-versioning`,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            parent,
          )
        : undefined;
      // Lifecycle: tiering, expiry of old versions and quarantine, abort stale uploads.
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-${zone}-lifecycle`,
        {
          bucket: bucket.id,
          rules: [...lifecycleRules(zone), ...retentionRules(zone, args.retention ?? DEFAULT_RETENTION)],
        },
        { ...parent, ...(versioning !== undefined && { dependsOn: [versioning] }) },
      );
      if (NOTIFYING_ZONES.includes(zone)) {
        // Object events go to EventBridge (the ingestion rule matches raw/ in the raw bucket).
        new aws.s3.BucketNotification(
          `${name}-${zone}-events`,
          { bucket: bucket.id, eventbridge: true },
          parent,
        );
      }
      return [zone, bucket] as const;
    });
    this.buckets = Object.fromEntries(entries) as Record<LakeZone, aws.s3.Bucket>;
    this.registerOutputs({
      raw: this.buckets.raw.bucket,
      processed: this.buckets.processed.bucket,
      models: this.buckets.models.bucket,
    });
  }
}
