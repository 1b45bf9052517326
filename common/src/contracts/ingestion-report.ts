import { z } from "zod";
import { RAW_FILE_KINDS } from "./lake.js";
import { QUARANTINE_REASONS } from "./raw-files.js";
import { ingestionCountsSchema } from "./tables.js";

/** Counts of one write operation against the feature store. */
export const writeReportSchema = z.object({
  written: z.number().int().nonnegative(),
  /** Writes skipped because the stored item already won (e.g. a later `modified`). */
  skipped: z.number().int().nonnegative(),
  /** Conditional-write conflicts that were retried. */
  conflicts: z.number().int().nonnegative(),
  /** Batches re-sent because DynamoDB returned UnprocessedItems or throttled. */
  retries: z.number().int().nonnegative(),
});
export type WriteReport = z.infer<typeof writeReportSchema>;

/**
 * The report of one ingested object version, written by the featstore-engine to
 * `processed/ingestions/<sourceId>.json` (see processedKeys.ingestionReport) and read by
 * `pnpm ingestions` and the demo. docs/data.md explains how to read it.
 */
export const ingestionReportSchema = z.object({
  sourceId: z.string().min(1),
  bucket: z.string(),
  key: z.string(),
  etag: z.string(),
  kind: z.enum(RAW_FILE_KINDS),
  counts: ingestionCountsSchema,
  quarantineByReason: z.partialRecord(z.enum(QUARANTINE_REASONS), z.number().int().nonnegative()),
  /**
   * Distinct readers and articles the file's accepted rows name (treino/validacao: readers and the
   * pages they read; itens: the articles). Absent in reports written before it was added.
   */
  touched: z
    .object({ readers: z.number().int().nonnegative(), articles: z.number().int().nonnegative() })
    .optional(),
  partitionKey: z.string(),
  quarantineKey: z.string().optional(),
  writes: z.object({ users: writeReportSchema.optional(), articles: writeReportSchema.optional() }),
  /**
   * Set when this object was ingested with the objects before and after it in one backfill (the
   * featstore-engine's `ingestFiles`): the source ids of the whole group, in key order. Each reader
   * they name was read and written once, with every file's rows merged; those feature-store writes
   * (`writes`, `counts.itemsWritten`) are reported once, on the group's last object, and are empty on
   * the others.
   */
  group: z.array(z.string().min(1)).min(2).optional(),
  /** Readers an earlier attempt had committed, skipped by this one. */
  resumedAfterUsers: z.number().int().nonnegative().optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
});
export type IngestionReport = z.infer<typeof ingestionReportSchema>;
