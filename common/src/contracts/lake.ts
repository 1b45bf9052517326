import { createHash } from "node:crypto";

/**
 * The S3 data lake: three buckets, one per zone. Inside each bucket, keys start with the zone's own
 * prefix (`raw/…` in the raw bucket, `processed/…` in the processed bucket), so rules and IAM can
 * always match on a prefix and a single-bucket deployment stays possible.
 */
export const LAKE_ZONES = ["raw", "processed", "models"] as const;
export type LakeZone = (typeof LAKE_ZONES)[number];

export interface LakeBuckets {
  raw: string;
  processed: string;
  models: string;
}

export function lakeBucketNames(prefix: string): LakeBuckets {
  return { raw: `${prefix}-raw`, processed: `${prefix}-processed`, models: `${prefix}-models` };
}

/** Key prefixes. Data engineers drop files under `raw/`; nothing else triggers ingestion. */
export const RAW_PREFIX = "raw/";
export const PROCESSED_PREFIX = "processed/";
/** Where the api drops its batched click events (treino-format files) for the regular ingestion. */
export const API_EVENTS_PREFIX = `${RAW_PREFIX}api-events/`;
/** MLflow's proxied artifact root lives in the models bucket under this prefix. */
export const MLFLOW_ARTIFACTS_PREFIX = "mlflow/";

/** The kinds of G1 file, detected from the header, never from the file name. */
/** `impressions` is the api's impression log (contracts/impressions.ts), not a G1 file. */
export const RAW_FILE_KINDS = ["treino", "itens", "validacao", "impressions"] as const;
export type RawFileKind = (typeof RAW_FILE_KINDS)[number];

/** Datasets in `processed/`, each a set of Parquet partitions, one per source file. */
export const PROCESSED_DATASETS = ["interactions", "items", "validation", "impressions"] as const;
export type ProcessedDataset = (typeof PROCESSED_DATASETS)[number];

export const DATASET_OF_KIND: Record<RawFileKind, ProcessedDataset> = {
  treino: "interactions",
  itens: "items",
  validacao: "validation",
  impressions: "impressions",
};

/**
 * Stable id of one version of one source object: the same bytes at the same key always map to the
 * same partition, so a re-run overwrites rather than duplicates.
 */
export function sourceId(bucket: string, key: string, etag: string): string {
  const normalisedEtag = etag.replaceAll('"', "");
  return createHash("sha256")
    .update(`${bucket}\u0000${key}\u0000${normalisedEtag}`)
    .digest("hex")
    .slice(0, 24);
}

/** Key builders for everything under `processed/`. */
export const processedKeys = {
  /** One Parquet partition of a dataset, written from one source file. */
  partition: (dataset: ProcessedDataset, source: string, part = 0) =>
    `${PROCESSED_PREFIX}${dataset}/source=${source}/part-${String(part).padStart(5, "0")}.parquet`,
  partitionPrefix: (dataset: ProcessedDataset) => `${PROCESSED_PREFIX}${dataset}/`,
  /** Quarantined rows of one source key (JSON Lines with reasons). */
  quarantine: (rawKey: string, source: string) => `${PROCESSED_PREFIX}quarantine/${rawKey}/${source}.jsonl`,
  /** The ingestion report of one source object version. */
  ingestionReport: (source: string) => `${PROCESSED_PREFIX}ingestions/${source}.json`,
  /** A dataset snapshot manifest: the partitions one training run reads. */
  snapshotManifest: (snapshotId: string) => `${PROCESSED_PREFIX}snapshots/${snapshotId}/manifest.json`,
  /** Pointer to the newest manifest (a small JSON with its key). */
  latestSnapshot: () => `${PROCESSED_PREFIX}snapshots/latest.json`,
};

/** Parquet column layout of each processed dataset (names and logical types). */
export const PROCESSED_COLUMNS = {
  interactions: {
    userId: "string",
    userType: "string",
    page: "string",
    timestamp: "int64 (epoch ms, first access)",
    clicks: "int32",
    timeOnPageMs: "int64",
    scrollPercentage: "double (raw, not clipped)",
    pageVisits: "int32",
    source: "string",
  },
  validation: {
    userId: "string",
    userType: "string",
    page: "string",
    timestamp: "int64 (epoch ms)",
    source: "string",
  },
  items: {
    page: "string",
    url: "string",
    issued: "int64 (epoch ms)",
    modified: "int64 (epoch ms)",
    title: "string",
    body: "string",
    caption: "string",
    section: "string",
    region: "string",
    contentType: "string",
    source: "string",
  },
  impressions: {
    eventType: "string (served | shadow | shown | click)",
    impressionId: "string (empty for an unattributed click)",
    userId: "string (empty for a /coldstart list)",
    timestamp: "int64 (epoch ms)",
    modelVersion: "string",
    arm: "string (champion | challenger | none)",
    strategy: "string (model | coldstart)",
    pages: "string (page ids joined by |, rank order)",
    scores: "string (scores joined by |)",
    items: "int32",
    latencyMs: "int32 (ranking time of a served list; -1 when not recorded)",
    source: "string",
  },
} as const satisfies Record<ProcessedDataset, Record<string, string>>;
