import { type LakeZone, PROCESSED_PREFIX, RAW_PREFIX } from "@gplay/common";

/**
 * Lifecycle rules per lake zone (the shape of `aws.s3.BucketLifecycleConfiguration` rules): storage
 * tiering and stale uploads. How long data is kept (expiry of files, old versions, quarantine) is
 * retention's: `retentionRules` in retention.ts, added beside these.
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
        },
      ];
    case "processed":
      return [
        { id: "processed-abort-uploads", status: "Enabled", filter: { prefix: PROCESSED_PREFIX }, ...abort },
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
