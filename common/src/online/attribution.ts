import {
  ATTRIBUTION_WINDOW_MS,
  IMPRESSION_LIST_SEPARATOR,
  type ImpressionRecord,
} from "../contracts/impressions.js";

/**
 * The one attribution rule of the online loop, used by the api as events arrive (near-real-time
 * metrics) and by the jobs over the joined impression files (exact figures):
 * - an event naming an `impressionId` is credited to that served list when the list was served to the
 *   same reader and holds the page; an id that is unknown, another reader's, or whose list lacks the
 *   page leaves the event unattributed (never an error);
 * - an event without one is credited to the reader's latest served list holding the page, served at
 *   most `ATTRIBUTION_WINDOW_MS` before the event (and not after it).
 */
export interface ServedList {
  impressionId: string;
  userId: string | undefined;
  timestamp: number;
  pages: readonly string[];
}

export interface ActedEvent {
  userId: string;
  page: string;
  timestamp: number;
  impressionId?: string | undefined;
}

/** Whether `event` may be credited to `list` by the rule above (the id itself is checked by the caller). */
export function creditable(
  list: ServedList,
  event: ActedEvent,
  named: boolean,
  windowMs = ATTRIBUTION_WINDOW_MS,
): boolean {
  if (list.userId !== event.userId || !list.pages.includes(event.page)) return false;
  if (named) return true;
  return event.timestamp >= list.timestamp && event.timestamp - list.timestamp <= windowMs;
}

/** Picks the list `event` is credited to among a reader's lists (any order), or undefined. */
export function attribute<L extends ServedList>(
  lists: Iterable<L>,
  event: ActedEvent,
  byId: (id: string) => L | undefined,
  windowMs = ATTRIBUTION_WINDOW_MS,
): L | undefined {
  if (event.impressionId !== undefined) {
    const named = byId(event.impressionId);
    return named !== undefined && creditable(named, event, true, windowMs) ? named : undefined;
  }
  let best: L | undefined;
  for (const list of lists)
    if (creditable(list, event, false, windowMs) && (best === undefined || list.timestamp > best.timestamp))
      best = list;
  return best;
}

/** Online figures of one arm (a model version served under one alias with one strategy). */
export interface ArmFigures {
  modelVersion: string;
  arm: string;
  strategy: string;
  /** Served lists. */
  impressions: number;
  /** Served lists with at least one attributed click (CTR@k's numerator). */
  clickedImpressions: number;
  /** Attributed clicks. */
  clicks: number;
  /** Distinct pages served. */
  pagesServed: number;
  /** clickedImpressions / impressions (0 without impressions). */
  ctr: number;
  /** clicks / impressions (0 without impressions). */
  clicksPerImpression: number;
}

export interface JoinedLog {
  arms: ArmFigures[];
  /** Clicks credited to no served list (unknown or foreign ids, outside the window, page not listed). */
  unattributedClicks: number;
  /** Shadow lists (scored by the challenger, never shown): counted, never credited. */
  shadowLists: number;
}

/**
 * Joins the impression log exactly: every click row is re-attributed against every served list in
 * the files (whichever api task served it), by the rule above; each click counts once per list
 * (a repeated click on the same list adds to `clicks`, not to `clickedImpressions`).
 */
export function joinImpressionLog(
  records: Iterable<ImpressionRecord>,
  windowMs = ATTRIBUTION_WINDOW_MS,
): JoinedLog {
  type List = ServedList & { record: ImpressionRecord; clicks: number };
  const byId = new Map<string, List>();
  const byReader = new Map<string, List[]>();
  const clicks: ActedEvent[] = [];
  let shadowLists = 0;
  for (const r of records) {
    if (r.eventType === "shadow") shadowLists += 1;
    else if (r.eventType === "served") {
      const list: List = {
        impressionId: r.impressionId,
        userId: r.userId === "" ? undefined : r.userId,
        timestamp: r.timestamp,
        pages: r.pages === "" ? [] : r.pages.split(IMPRESSION_LIST_SEPARATOR),
        record: r,
        clicks: 0,
      };
      byId.set(list.impressionId, list);
      if (list.userId !== undefined) byReader.set(list.userId, [...(byReader.get(list.userId) ?? []), list]);
    } else if (r.eventType === "click")
      clicks.push({
        userId: r.userId,
        page: r.pages,
        timestamp: r.timestamp,
        ...(r.impressionId === "" ? {} : { impressionId: r.impressionId }),
      });
  }
  let unattributedClicks = 0;
  for (const click of clicks) {
    const list = attribute(byReader.get(click.userId) ?? [], click, (id) => byId.get(id), windowMs);
    if (list === undefined) unattributedClicks += 1;
    else list.clicks += 1;
  }
  const arms = new Map<string, ArmFigures & { pages: Set<string> }>();
  for (const list of byId.values()) {
    const { modelVersion, arm, strategy } = list.record;
    const key = `${modelVersion}\u0000${arm}\u0000${strategy}`;
    const figures = arms.get(key) ?? {
      modelVersion,
      arm,
      strategy,
      impressions: 0,
      clickedImpressions: 0,
      clicks: 0,
      pagesServed: 0,
      ctr: 0,
      clicksPerImpression: 0,
      pages: new Set<string>(),
    };
    figures.impressions += 1;
    figures.clicks += list.clicks;
    if (list.clicks > 0) figures.clickedImpressions += 1;
    for (const page of list.pages) figures.pages.add(page);
    arms.set(key, figures);
  }
  return {
    arms: [...arms.values()]
      .map(({ pages, ...f }) => ({
        ...f,
        pagesServed: pages.size,
        ctr: f.impressions === 0 ? 0 : f.clickedImpressions / f.impressions,
        clicksPerImpression: f.impressions === 0 ? 0 : f.clicks / f.impressions,
      }))
      .sort((a, b) => (a.modelVersion + a.arm + a.strategy < b.modelVersion + b.arm + b.strategy ? -1 : 1)),
    unattributedClicks,
    shadowLists,
  };
}
