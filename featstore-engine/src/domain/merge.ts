import {
  BLOOM_BITS,
  BLOOM_HASHES,
  bloomAdd,
  bloomHas,
  capLog,
  createBloomFilter,
  decodeInteractionLog,
  encodeInteractionLog,
  type Interaction,
  logPages,
  MAX_LOG_INTERACTIONS,
  mergeInteractions,
  type UserItem,
} from "@gplay/common";
import type { UserType } from "./clean.js";

// --- Articles -----------------------------------------------------------------------------------

export interface Versioned {
  modified: number;
  contentHash: string;
}

/**
 * True when `incoming` should replace `current`: the later `modified` wins, ties go to the larger
 * `contentHash`. A total order on versions, so applying files in any order ends in the same item.
 */
export function isNewerArticle(incoming: Versioned, current: Versioned | undefined): boolean {
  if (current === undefined) return true;
  if (incoming.modified !== current.modified) return incoming.modified > current.modified;
  return incoming.contentHash > current.contentHash;
}

/** Upserts articles into a map by page (a pure function: returns a new map). */
export function upsertArticles<T extends Versioned & { page: string }>(
  current: ReadonlyMap<string, T>,
  incoming: Iterable<T>,
): Map<string, T> {
  const out = new Map(current);
  for (const article of incoming) {
    if (isNewerArticle(article, out.get(article.page))) out.set(article.page, article);
  }
  return out;
}

// --- Users --------------------------------------------------------------------------------------

/** Our encoders allocate fresh ArrayBuffers; the item schema types binaries as such. */
const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

/** A reader's item without the optimistic-concurrency version (the writer sets it). */
export type UserItemDraft = Omit<UserItem, "version">;

export interface UserUpdate {
  userId: string;
  userType: UserType;
  interactions: readonly Interaction[];
}

/**
 * Merges new interactions into a reader's item (or creates it): the log is the set union of old and
 * new (common's `mergeInteractions`), capped at `MAX_LOG_INTERACTIONS` newest; evicted pages go into
 * the Bloom filter so they stay excluded. Order-independent: a Logged type wins over Non-Logged,
 * first/last timestamps are min/max. An interaction older than the whole capped log whose page is
 * already in the filter counts as evicted before (re-ingesting a file changes nothing).
 */
export function mergeUserItem(
  existing:
    | Pick<UserItem, "userType" | "log" | "evicted" | "evictedCount" | "firstTimestamp" | "lastTimestamp">
    | undefined,
  update: UserUpdate,
  updatedAt: string,
  maxLog = MAX_LOG_INTERACTIONS,
): UserItemDraft {
  const previous = existing === undefined ? [] : decodeInteractionLog(existing.log);
  let incoming = update.interactions;
  const atCap = previous.length >= maxLog;
  if (atCap && existing?.evicted !== undefined) {
    const oldest = (previous[0] as Interaction).timestamp;
    const filter = existing.evicted;
    incoming = incoming.filter((i) => !(i.timestamp < oldest && bloomHas(filter, i.page)));
  }
  const merged = mergeInteractions(previous, incoming);
  const { kept, evicted } = capLog(merged, maxLog);
  let filter: Uint8Array<ArrayBuffer> | undefined = existing?.evicted;
  if (evicted.length > 0)
    filter = bytes(
      bloomAdd(
        filter ?? createBloomFilter(BLOOM_BITS, BLOOM_HASHES),
        evicted.map((e) => e.page),
      ),
    );
  const evictedCount = (existing?.evictedCount ?? 0) + evicted.length;
  const first = kept[0];
  const last = kept[kept.length - 1];
  const firstTimestamp = Math.min(
    // 0 means "no interaction yet" (an item created from a row of editorial ids only).
    existing?.firstTimestamp || Number.POSITIVE_INFINITY,
    evicted[0]?.timestamp ?? Number.POSITIVE_INFINITY,
    first?.timestamp ?? Number.POSITIVE_INFINITY,
  );
  const lastTimestamp = Math.max(existing?.lastTimestamp ?? 0, last?.timestamp ?? 0);
  return {
    userId: update.userId,
    userType: existing?.userType === "Logged" || update.userType === "Logged" ? "Logged" : "Non-Logged",
    updatedAt,
    interactionCount: kept.length + evictedCount,
    firstTimestamp: Number.isFinite(firstTimestamp) ? firstTimestamp : 0,
    lastTimestamp,
    log: bytes(encodeInteractionLog(kept)),
    evictedCount,
    ...(filter === undefined ? {} : { evicted: filter }),
  };
}

/** Builds a reader's item from scratch from all their interactions (several rows/files merged). */
export function buildUserItem(
  update: UserUpdate,
  updatedAt: string,
  maxLog = MAX_LOG_INTERACTIONS,
): UserItemDraft {
  return mergeUserItem(undefined, update, updatedAt, maxLog);
}

/** The exclusion test of a reader: pages in the log, or (probably) evicted from it. */
export function excludedPages(item: Pick<UserItem, "log" | "evicted">): (page: string) => boolean {
  const pages = logPages(item.log);
  const filter = item.evicted;
  return (page) => pages.has(page) || (filter !== undefined && bloomHas(filter, page));
}

/**
 * Size of an item as DynamoDB counts it (attribute names + values: strings in UTF-8, binaries in
 * bytes, numbers ~1 byte per 2 significant digits + 1), to check the 400 KB limit before writing.
 */
export function dynamoItemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name, "utf8");
    if (typeof value === "string") size += Buffer.byteLength(value, "utf8");
    else if (typeof value === "number")
      size += Math.ceil(String(Math.abs(value)).replace(/[.-]/g, "").length / 2) + 1;
    else if (typeof value === "boolean" || value === null) size += 1;
    else if (value instanceof Uint8Array) size += value.byteLength;
    else size += Buffer.byteLength(JSON.stringify(value), "utf8");
  }
  return size;
}
