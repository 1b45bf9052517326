import { bloomHas, logPages, type UserItem } from "@gplay/common";

/** Every page a reader must never be recommended again: its full history plus the request's exclusions. */
export interface ReadSet {
  has(page: string): boolean;
}

/**
 * Builds a reader's exclusion set from its user item: the pages of the packed log, the Bloom filter
 * of pages evicted from the log (no false negatives, so the whole history is covered) and `extra`.
 */
export function readSetOf(
  user: Pick<UserItem, "log" | "evicted"> | undefined,
  extra: Iterable<string> = [],
): ReadSet {
  const pages = user === undefined ? new Set<string>() : logPages(user.log);
  for (const page of extra) pages.add(page);
  const evicted = user?.evicted;
  return {
    has: (page) => pages.has(page) || (evicted !== undefined && bloomHas(evicted, page)),
  };
}
