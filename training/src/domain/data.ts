/**
 * The training data set as the domain sees it: interactions and validation accesses sorted by time,
 * article metadata with content vectors. Built by the app layer from a snapshot's Parquet partitions.
 */
import type { ArticleFeatureSource, Interaction, UserItem } from "@gplay/common";

export interface Article extends ArticleFeatureSource {}

/** One reader's merged log (sorted by time) and type. */
export interface Reader {
  userId: string;
  userType: UserItem["userType"];
  log: Interaction[];
}

export interface TrainingData {
  /** Newest interaction timestamp (the snapshot's asOf). */
  asOf: number;
  readers: Map<string, Reader>;
  articles: Map<string, Article>;
  /** Validation accesses (`validacao`): userId → [{page, timestamp}], after the training period. */
  validation: Map<string, { page: string; timestamp: number }[]>;
  /** Every interaction, flattened and sorted by timestamp (structures are built from it). */
  events: { userId: string; page: string; timestamp: number; weight: number }[];
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
