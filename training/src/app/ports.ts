/**
 * The ports the training use cases are written against; adapters implement them (S3 snapshot
 * reader, DynamoDB article vectors, MLflow tracker and registry). Unit tests use typed fakes.
 */
import type { ImpressionRecord, ProcessedDataset, ProcessedRecords, SnapshotManifest } from "@gplay/common";

export interface SnapshotReader {
  /** The manifest key the `latest` pointer names. */
  latestManifestKey(bucket: string): Promise<string>;
  readManifest(bucket: string, key: string): Promise<SnapshotManifest>;
  readPartition<D extends ProcessedDataset>(
    bucket: string,
    dataset: D,
    key: string,
  ): Promise<ProcessedRecords[D][]>;
}

/** Packed content vectors of articles (the items table's `vector`, as the API sees them). */
export interface ArticleVectorSource {
  vectors(pages: readonly string[]): Promise<Map<string, Uint8Array>>;
}

export interface MetricPoint {
  key: string;
  value: number;
  step?: number;
}

export interface ExperimentTracker {
  startRun(experiment: string, runName: string, tags: Record<string, string>): Promise<string>;
  logParams(runId: string, params: Record<string, string>): Promise<void>;
  logMetrics(runId: string, metrics: readonly MetricPoint[]): Promise<void>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  logDataset(
    runId: string,
    dataset: { name: string; digest: string; source: string; profile: string },
  ): Promise<void>;
  uploadDir(runId: string, localDir: string, artifactDir?: string): Promise<void>;
  finishRun(runId: string, status: "FINISHED" | "FAILED"): Promise<void>;
}

export interface ModelRegistry {
  /** The version `alias` points to, undefined when not set (or no such model). */
  aliasVersion(name: string, alias: string): Promise<string | undefined>;
  /** Downloads a version's files (the bundle) into `dir`. */
  downloadVersion(name: string, version: string, dir: string): Promise<void>;
  /** Registers the run's artifact root as a new version; returns its number. */
  /** Registers the run's artifacts (or those under `artifactPath`) as a new version. */
  registerVersion(
    name: string,
    runId: string,
    tags: Record<string, string>,
    artifactPath?: string,
  ): Promise<string>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  /** Stage `Production` for `version`, archiving the versions that held it. */
  moveProductionStage(name: string, version: string): Promise<void>;
}

/** The registry operations of the online decision (beyond the gate's). */
export interface OnlineRegistry extends ModelRegistry {
  deleteAlias(name: string, alias: string): Promise<void>;
  /** Tags on a model version (the registry shows them beside its offline figures). */
  setVersionTags(name: string, version: string, tags: Record<string, string>): Promise<void>;
}

/** The impression log in `processed/impressions` (every ingested partition). */
export interface ImpressionLogSource {
  records(): AsyncIterable<ImpressionRecord>;
}

export interface Progress {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
