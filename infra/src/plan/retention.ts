import { API_EVENTS_PREFIX, type LakeZone, PROCESSED_PREFIX, processedKeys, RAW_PREFIX } from "@gplay/common";
import type { LifecycleRule } from "./lifecycle.js";

/**
 * How long each store keeps a reader's data (docs/privacy.md), enforced by S3 lifecycle rules and the
 * users table's TTL. Stack config `retention` (any subset) overrides the defaults; `retentionProblems`
 * says what is out of bounds.
 */
export interface RetentionConfig {
  /** Raw source files (treino, itens, validacao) under `raw/`, from their creation. */
  rawDays: number;
  /** The api's click files under `raw/api-events/`. */
  clickFilesDays: number;
  /** Old versions of raw objects (overwritten, deleted): copies an erasure cannot reach once gone. */
  rawVersionDays: number;
  /** Parquet partitions of interactions and validation under `processed/`. */
  processedDays: number;
  /** Quarantined rows (JSON Lines with the raw fields) under `processed/quarantine/`. */
  quarantineDays: number;
  /** A reader's item expires (DynamoDB TTL) this long after its last write (ingestion or a click). */
  inactiveReaderDays: number;
  /** DynamoDB point-in-time recovery window: backups of erased readers' items live this long. */
  pitrDays: number;
}

/**
 * The documented maximum age of a copy erasure cannot rewrite (a PITR backup, an old object version
 * the lifecycle keeps): after this many days, no copy of an erased reader remains anywhere.
 */
export const ERASURE_BACKUP_MAX_AGE_DAYS = 35;

export const DEFAULT_RETENTION: RetentionConfig = {
  rawDays: 730,
  clickFilesDays: 365,
  rawVersionDays: 30,
  processedDays: 730,
  quarantineDays: 90,
  inactiveReaderDays: 730,
  pitrDays: 35,
};

/** Why a retention config is refused (empty: accepted). */
export function retentionProblems(r: RetentionConfig): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(r))
    if (!Number.isInteger(value) || value < 1)
      out.push(`retention.${key} must be a positive whole number of days`);
  if (r.rawVersionDays > ERASURE_BACKUP_MAX_AGE_DAYS)
    out.push(
      `retention.rawVersionDays must be at most ${ERASURE_BACKUP_MAX_AGE_DAYS} (erasure's backup bound)`,
    );
  if (r.pitrDays > Math.min(35, ERASURE_BACKUP_MAX_AGE_DAYS))
    out.push("retention.pitrDays must be at most 35 (DynamoDB's limit and erasure's backup bound)");
  if (r.processedDays > r.rawDays) out.push("retention.processedDays must not exceed retention.rawDays");
  return out;
}

/** Merges stack config over the defaults and validates; throws naming every problem. */
export function parseRetention(raw: unknown): RetentionConfig {
  const given = (raw ?? {}) as Partial<Record<keyof RetentionConfig, unknown>>;
  const unknownKeys = Object.keys(given).filter((k) => !(k in DEFAULT_RETENTION));
  const merged = { ...DEFAULT_RETENTION, ...given } as RetentionConfig;
  const problems = [
    ...unknownKeys.map((k) => `retention.${k} is not a retention setting`),
    ...retentionProblems(merged),
  ];
  if (problems.length > 0) throw new Error(`Invalid retention config: ${problems.join("; ")}`);
  return merged;
}

const abort = { abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } };

/** The lifecycle rules that enforce retention in one lake zone (beside `lifecycleRules`' tiering). */
export function retentionRules(zone: LakeZone, r: RetentionConfig): LifecycleRule[] {
  switch (zone) {
    case "raw":
      return [
        {
          id: "retention-raw",
          status: "Enabled",
          filter: { prefix: RAW_PREFIX },
          ...abort,
          expiration: { days: r.rawDays },
          noncurrentVersionExpiration: { noncurrentDays: r.rawVersionDays },
        },
        {
          id: "retention-click-files",
          status: "Enabled",
          filter: { prefix: API_EVENTS_PREFIX },
          ...abort,
          expiration: { days: r.clickFilesDays },
          noncurrentVersionExpiration: { noncurrentDays: r.rawVersionDays },
        },
      ];
    case "processed":
      return [
        ...(["interactions", "validation"] as const).map(
          (dataset): LifecycleRule => ({
            id: `retention-${dataset}`,
            status: "Enabled",
            filter: { prefix: processedKeys.partitionPrefix(dataset) },
            ...abort,
            expiration: { days: r.processedDays },
          }),
        ),
        {
          id: "retention-quarantine",
          status: "Enabled",
          filter: { prefix: `${PROCESSED_PREFIX}quarantine/` },
          ...abort,
          expiration: { days: r.quarantineDays },
        },
      ];
    case "models":
      return [];
  }
}
