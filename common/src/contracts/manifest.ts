import { z } from "zod";
import { PROCESSED_DATASETS } from "./lake.js";

/**
 * A dataset snapshot: every `processed/` partition one training run reads, with checksums and row
 * counts, so a run is reproducible and its lineage can be logged to MLflow.
 */
export const snapshotPartitionSchema = z.object({
  dataset: z.enum(PROCESSED_DATASETS),
  key: z.string().min(1),
  sourceId: z.string().min(1),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SnapshotPartition = z.infer<typeof snapshotPartitionSchema>;

export const snapshotManifestSchema = z.object({
  schemaVersion: z.literal(1),
  snapshotId: z.string().min(1),
  createdAt: z.iso.datetime(),
  bucket: z.string().min(1),
  /** Newest interaction timestamp covered (epoch ms): the "now" of windows and decay. */
  asOf: z.number().int().nonnegative(),
  partitions: z.array(snapshotPartitionSchema),
  totals: z.object({
    interactions: z.number().int().nonnegative(),
    items: z.number().int().nonnegative(),
    validation: z.number().int().nonnegative(),
    users: z.number().int().nonnegative(),
  }),
  /** sha256 over the sorted partition checksums: the dataset's identity for lineage. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * Set by an erasure that rewrote partitions this manifest lists (their checksums no longer match):
   * train from the newer snapshot it built instead.
   */
  supersededBy: z.object({ erasure: z.string().min(1), at: z.iso.datetime() }).optional(),
});
export type SnapshotManifest = z.infer<typeof snapshotManifestSchema>;

export const latestSnapshotPointerSchema = z.object({
  snapshotId: z.string().min(1),
  manifestKey: z.string().min(1),
  createdAt: z.iso.datetime(),
});
