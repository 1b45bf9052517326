import type {
  ColdstartItem,
  Exclusion,
  Interaction,
  Recommendation,
  TimedRead,
  UserItem,
} from "@gplay/common";
import type { ArticleMeta } from "../domain/articles.js";

/** What a ranker sees of a reader: the decoded log (oldest first) and type, from one read of its item. */
export interface RankerInput {
  interactions: readonly Interaction[];
  userType: UserItem["userType"];
}

export interface RankOptions {
  k: number;
  /** The reader's whole history (log and evicted-page filter) and the request's exclusions. */
  exclude: Exclusion;
}

/** A loaded model version: recommends through common's one recommendation path. */
export interface Ranker {
  /** Registry version of the model (e.g. "7"); named in every response it produced. */
  readonly modelVersion: string;
  recommend(reader: RankerInput, options: RankOptions): Promise<Recommendation>;
  /** Present when the version's world follows the reads `/events` accepts (`LiveReadsFeed`). */
  readonly live?: LiveWorld | undefined;
}

/** A version's world that follows the reads: counts them, and is rebuilt with them on request. */
export interface LiveWorld {
  /** Counts one read (ignored when at or before the version's snapshot). */
  observe(read: TimedRead): void;
  /** Reads counted since the last rebuild. */
  pending(): number;
  /** Rebuilds the world at the latest counted read's time and swaps it in. */
  rebuild(): void;
}

export type ModelState = { status: "ready"; ranker: Ranker } | { status: "none"; reason: string };

/** Provides the model currently being served (the MLflow `@champion` loader will implement it). */
export interface ModelProvider {
  current(): ModelState;
}

/** Readers' items (the users table). */
export interface UserStore {
  /** One GetItem; undefined for a reader never seen. */
  getUser(userId: string): Promise<UserItem | undefined>;
  /**
   * Writes a reader's item only if the stored `version` is still `expectedVersion` (undefined: the item
   * must not exist yet). Throws AppError CONFLICT when another writer got there first.
   */
  putUser(item: UserItem, expectedVersion: number | undefined): Promise<void>;
}

/** Client event ids already recorded (the event-ids table), shared by every api task. */
export interface SeenEventStore {
  /** Claims every key not seen yet (atomically per key); returns the keys this call claimed. */
  claim(keys: readonly string[]): Promise<Set<string>>;
  /** Forgets keys this task claimed but could not record, so the client's retry records them. */
  release(keys: readonly string[]): Promise<void>;
}

/** Articles' metadata (the items table), read whole at start and on refresh. */
export interface ArticleSource {
  scanArticles(): Promise<ArticleMeta[]>;
}

/** Cold-start snapshot rows (the coldstart table). */
export interface ColdstartSource {
  /** The rows that exist among `listIds` (missing ids are simply absent from the map). */
  getLists(listIds: readonly string[]): Promise<Map<string, ColdstartItem>>;
}

/** Where batched events go: objects under `raw/` in the raw bucket. */
export interface RawEventSink {
  putRawObject(key: string, body: string): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A registered model version the registry says should be served. */
export interface RegistryVersion {
  name: string;
  version: string;
  /** How it was found: the `@champion` alias, or (fallback) the newest version in stage Production. */
  via: "alias" | "stage";
}

/**
 * The model registry (MLflow): which version is promoted, and its bundle's files. Adapters throw
 * AppError UPSTREAM_UNAVAILABLE / TIMEOUT when the registry or its artifact store cannot be reached.
 */
export interface ModelRegistry {
  /** The promoted version (`@champion`, else stage Production), or undefined when there is none. */
  champion(): Promise<RegistryVersion | undefined>;
  /** The version's `bundle.json`, parsed as JSON (not yet validated), fetched alone. */
  fetchManifest(version: RegistryVersion): Promise<unknown>;
  /**
   * Downloads the version's whole bundle into a fresh directory, hands it to `open` and removes the
   * directory afterwards (whatever `open` returns must hold everything it needs in memory).
   */
  withBundle<T>(version: RegistryVersion, open: (dir: string) => Promise<T>): Promise<T>;
}
