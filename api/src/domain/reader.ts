import {
  bloomAdd,
  capLog,
  createBloomFilter,
  decodeInteractionLog,
  encodeInteractionLog,
  type Interaction,
  MAX_LOG_INTERACTIONS,
  mergeInteractions,
  type UserItem,
} from "@gplay/common";

/**
 * A reader's item after new interactions: the log is the set union (so replays and the later
 * ingestion of the same clicks change nothing), capped with the overflow moved into the Bloom filter,
 * the stats extended and `version` incremented (the caller writes it conditionally on the old one).
 */
export function applyInteractions(
  existing: UserItem | undefined,
  userId: string,
  userType: UserItem["userType"],
  added: readonly Interaction[],
  now: Date,
  maxLog: number = MAX_LOG_INTERACTIONS,
): UserItem {
  const previous = existing === undefined ? [] : decodeInteractionLog(existing.log);
  const merged = mergeInteractions(previous, added);
  const { kept, evicted } = capLog(merged, maxLog);
  const grew = merged.length - previous.length;
  const timestamps = added.map((i) => i.timestamp);
  const evictedFilter =
    evicted.length > 0
      ? (bloomAdd(
          existing?.evicted ?? createBloomFilter(),
          evicted.map((i) => i.page),
        ) as UserItem["log"])
      : existing?.evicted;
  return {
    userId,
    userType: existing?.userType ?? userType,
    version: (existing?.version ?? 0) + 1,
    updatedAt: now.toISOString(),
    interactionCount: (existing?.interactionCount ?? 0) + grew,
    firstTimestamp: Math.min(existing?.firstTimestamp ?? Number.POSITIVE_INFINITY, ...timestamps),
    lastTimestamp: Math.max(existing?.lastTimestamp ?? 0, ...timestamps),
    log: encodeInteractionLog(kept) as UserItem["log"],
    evictedCount: (existing?.evictedCount ?? 0) + evicted.length,
    ...(evictedFilter === undefined ? {} : { evicted: evictedFilter }),
    ...(existing?.expiresAt === undefined ? {} : { expiresAt: existing.expiresAt }),
  };
}
