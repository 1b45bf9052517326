import {
  API_EVENTS_PREFIX,
  lakeBucketNames,
  PROCESSED_PREFIX,
  RAW_PREFIX,
  TABLES,
  tableNames,
} from "@gplay/common";
import { ERASURE_BACKUP_MAX_AGE_DAYS } from "../plan/retention.js";
import type { Invariant } from "./core.js";
import { asArray, belongsTo, ofType, type RecordedResource, T } from "./resources.js";

type R = readonly RecordedResource[];

/** The enabled lifecycle rules of one lake bucket. */
function rulesOf(rs: R, bucketName: string) {
  const bucket = ofType(rs, T.bucket).find((b) => b.inputs.bucket === bucketName);
  if (bucket === undefined) return undefined;
  return ofType(rs, T.lifecycle)
    .filter((c) => belongsTo(c, bucket, "bucket"))
    .flatMap((c) => asArray(c.inputs.rules))
    .filter((r) => r.status === "Enabled");
}

/**
 * Retention (docs/privacy.md): every store that holds readers' rows expires them, and the copies an
 * erasure cannot rewrite (old object versions, DynamoDB point-in-time backups) live no longer than
 * ERASURE_BACKUP_MAX_AGE_DAYS.
 */
export const RETENTION_INVARIANTS: Invariant[] = [
  {
    id: "lake-retention",
    description:
      "raw files, click files, partitions and quarantine expire; old raw versions expire within erasure's backup bound",
    check: (rs, ctx) => {
      const names = lakeBucketNames(ctx.prefix);
      const raw = rulesOf(rs, names.raw);
      const processed = rulesOf(rs, names.processed);
      if (raw === undefined || processed === undefined) return ["a lake bucket is missing"];
      const expires = (rules: typeof raw, prefix: string) =>
        rules.some((r) => r.filter?.prefix === prefix && Number(r.expiration?.days) > 0);
      const out: string[] = [];
      for (const prefix of [RAW_PREFIX, API_EVENTS_PREFIX])
        if (!expires(raw, prefix)) out.push(`nothing expires ${prefix} in ${names.raw}`);
      for (const prefix of [
        `${PROCESSED_PREFIX}interactions/`,
        `${PROCESSED_PREFIX}validation/`,
        `${PROCESSED_PREFIX}quarantine/`,
      ])
        if (!expires(processed, prefix)) out.push(`nothing expires ${prefix} in ${names.processed}`);
      const versionDays = raw
        .filter((r) => r.filter?.prefix === RAW_PREFIX)
        .map((r) => Number(r.noncurrentVersionExpiration?.noncurrentDays))
        .filter((d) => d > 0);
      if (versionDays.length === 0 || Math.min(...versionDays) > ERASURE_BACKUP_MAX_AGE_DAYS)
        out.push(`old versions under ${RAW_PREFIX} outlive ${ERASURE_BACKUP_MAX_AGE_DAYS} days`);
      return out;
    },
  },
  {
    id: "tables-retention",
    description:
      "point-in-time recovery of every table is bounded by erasure's backup bound; the users table expires items by TTL",
    check: (rs, ctx) => {
      const names = tableNames(ctx.prefix);
      const out: string[] = [];
      for (const table of ofType(rs, T.table)) {
        const pitr = table.inputs.pointInTimeRecovery;
        const days = Number(pitr?.recoveryPeriodInDays);
        if (pitr?.enabled === true && !(days > 0 && days <= ERASURE_BACKUP_MAX_AGE_DAYS))
          out.push(
            `${table.inputs.name}: point-in-time recovery not bounded to ${ERASURE_BACKUP_MAX_AGE_DAYS} days`,
          );
      }
      const users = ofType(rs, T.table).find((t) => t.inputs.name === names.users);
      if (users === undefined) out.push("users table missing");
      else if (
        users.inputs.ttl?.enabled !== true ||
        users.inputs.ttl?.attributeName !== TABLES.users.ttlAttribute
      )
        out.push("users table has no TTL on its expiry attribute");
      return out;
    },
  },
];
