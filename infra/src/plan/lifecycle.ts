import { type LakeZone, PROCESSED_PREFIX, RAW_PREFIX } from "@gplay/common";

/**
 * Lifecycle rules per lake zone (the shape of `aws.s3.BucketLifecycleConfiguration` rules). Raw
 * files are the source of truth: they move to infrequent access and old versions expire. In processed,
 * only quarantine reports expire (after 90 days); snapshots and feature partitions are kept by these
 * rules (the processed bucket is not versioned, so nothing is left behind as a noncurrent version).
 */
export interface LifecycleRule {
  id: string;
  status: "Enabled";
  filter: { prefix: string };
  abortIncompleteMultipartUpload: { daysAfterInitiation: number };
  transitions?: { days: number; storageClass: "STANDARD_IA" | "INTELLIGENT_TIERING" }[];
  expiration?: { days: number };
  noncurrentVersionExpiration?: { noncurrentDays: number };
}

export function lifecycleRules(zone: LakeZone): LifecycleRule[] {
  const abort = { abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } };
  switch (zone) {
    case "raw":
      return [
        {
          id: "raw-tiering",
          status: "Enabled",
          filter: { prefix: RAW_PREFIX },
          ...abort,
          transitions: [{ days: 30, storageClass: "STANDARD_IA" }],
          noncurrentVersionExpiration: { noncurrentDays: 90 },
        },
      ];
    case "processed":
      return [
        { id: "processed-abort-uploads", status: "Enabled", filter: { prefix: PROCESSED_PREFIX }, ...abort },
        {
          id: "processed-quarantine-expiry",
          status: "Enabled",
          filter: { prefix: `${PROCESSED_PREFIX}quarantine/` },
          ...abort,
          expiration: { days: 90 },
        },
      ];
    case "models":
      return [
        {
          id: "models-tiering",
          status: "Enabled",
          filter: { prefix: "" },
          ...abort,
          transitions: [{ days: 60, storageClass: "INTELLIGENT_TIERING" }],
          noncurrentVersionExpiration: { noncurrentDays: 180 },
        },
      ];
  }
}
