/**
 * Candidate structures computed from the interactions before a cut time only: recency-decayed
 * popularity, co-visitation and a content index over fresh articles.
 */
import {
  ContentIndex,
  type CovisitationTable,
  decayedReadScales,
  decayedReads,
  type PopularityTable,
  recentBufferCounts,
  recentWindowReads,
  sparseDot,
  type TimedRead,
  topK,
} from "@gplay/common";
import { HOUR_MS, type TrainingData } from "./data.js";

/**
 * Recency-decayed reads before `cut`, decayed to `reference` (default `cut`): common's `decayedReads`,
 * the definition the api advances with the reads it receives.
 */
export const popularityAt: (
  events: TrainingData["events"],
  cut: number,
  halfLifeHours: number,
  reference?: number,
) => Map<string, number> = decayedReads;

/** Reads before `cut` decayed to `reference` with each of `POPULARITY_SCALES_HOURS`: common's `decayedReadScales`. */
export const popularityScalesAt: (
  events: TrainingData["events"],
  cut: number,
  reference?: number,
) => Map<string, number[]> = decayedReadScales;

/**
 * A recent-click buffer: the pages of the `reads` latest reads before `cut`, their counts (common's
 * `recentBufferCounts`, the definition the api advances: pages outside the buffer keep a fraction of
 * `decayed`, below one read, so every read page has an order), and what advancing the buffer with
 * later reads needs (`buffer`, the bundle's `popularity.buffer`). The one way training builds a buffer.
 */
export function recentBuffer(
  events: TrainingData["events"],
  cut: number,
  reads: number,
  decayed: ReadonlyMap<string, number>,
): { popularity: Map<string, number>; buffer: ServedBuffer } {
  const pages = recentPagesAt(events, cut, reads);
  return { popularity: recentBufferCounts(pages, decayed), buffer: { reads, pages, decayed } };
}

/**
 * A recent window: the reads of the last `minutes` before `reference` among those before `cut`
 * (common's `inRecentWindow`), their counts (as common's `recentWindowCounts`, the definition the api
 * advances, counts them, with `decayed` below one read as `recentBuffer`'s), and what advancing the window with later
 * reads needs (`window`, the bundle's `popularity.window`). The one way training builds a window.
 */
export function recentWindow(
  events: TrainingData["events"],
  cut: number,
  minutes: number,
  decayed: ReadonlyMap<string, number>,
  reference: number = cut,
): { popularity: Map<string, number>; window: ServedWindow } {
  const reads = recentWindowReads(events, cut, reference, minutes);
  return {
    // The reads are the window's already: their counts, as `recentWindowCounts` gives them.
    popularity: recentBufferCounts(
      reads.map((r) => r.page),
      decayed,
    ),
    window: { minutes, reads, decayed },
  };
}

/** What advancing a serving window needs: its minutes, its reads (oldest first), the tie-break. */
export interface ServedWindow {
  minutes: number;
  reads: readonly TimedRead[];
  decayed: ReadonlyMap<string, number>;
}

/** What advancing a serving buffer needs: its size, its pages (oldest read first), the tie-break. */
export interface ServedBuffer {
  reads: number;
  pages: readonly string[];
  decayed: ReadonlyMap<string, number>;
}

/**
 * The popularity a bundle serves: decayed reads with `halfLifeHours`, or a recent-click buffer's
 * counts with what advancing it needs.
 */
export interface ServedPopularity {
  popularity: Map<string, number>;
  halfLifeHours: number;
  buffer?: ServedBuffer;
  window?: ServedWindow;
}

/** The pages of the `n` latest reads before `cut`, oldest first. */
export function recentPagesAt(events: TrainingData["events"], cut: number, n: number): string[] {
  let end = events.length;
  while (end > 0 && (events[end - 1] as { timestamp: number }).timestamp >= cut) end--;
  const pages: string[] = [];
  for (let i = Math.max(0, end - n); i < end; i++) pages.push((events[i] as { page: string }).page);
  return pages;
}

/** Plain read counts before `cut` (for novelty). */
export function readCountsAt(events: TrainingData["events"], cut: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.timestamp >= cut) break;
    counts.set(e.page, (counts.get(e.page) ?? 0) + 1);
  }
  return counts;
}

export interface CovisitationOptions {
  /** Reads of one reader this close in time count as co-visited. */
  windowHours: number;
  /** Neighbours kept per article. */
  topK: number;
  /** Look at most this many following reads per read (bounds the pair count of heavy readers). */
  maxFollowing: number;
}

export const DEFAULT_COVISITATION: CovisitationOptions = { windowHours: 3, topK: 30, maxFollowing: 8 };

/** Co-visitation neighbours from reads before `cut`: symmetric counts of reads close in time. */
export function covisitationAt(
  data: Pick<TrainingData, "readers">,
  cut: number,
  options: CovisitationOptions = DEFAULT_COVISITATION,
): Map<string, Map<string, number>> {
  const pairs = new Map<string, Map<string, number>>();
  const bump = (a: string, b: string) => {
    let m = pairs.get(a);
    if (m === undefined) {
      m = new Map();
      pairs.set(a, m);
    }
    m.set(b, (m.get(b) ?? 0) + 1);
  };
  const window = options.windowHours * HOUR_MS;
  for (const reader of data.readers.values()) {
    const log = reader.log;
    for (let i = 0; i < log.length; i++) {
      const a = log[i];
      if (a === undefined || a.timestamp >= cut) break;
      for (let j = i + 1; j < log.length && j <= i + options.maxFollowing; j++) {
        const b = log[j];
        if (b === undefined || b.timestamp >= cut || b.timestamp - a.timestamp > window) break;
        if (a.page === b.page) continue;
        bump(a.page, b.page);
        bump(b.page, a.page);
      }
    }
  }
  const out = new Map<string, Map<string, number>>();
  for (const [page, m] of pairs) {
    const top = [...m].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, options.topK);
    out.set(page, new Map(top));
  }
  return out;
}

/** A bundle's popularity table: the served popularity as of `asOf`, and a serving buffer's record. */
export function popularityTable(
  served: ServedPopularity,
  scales: ReadonlyMap<string, readonly number[]>,
  asOf: number,
  portal?: ReadonlyMap<number, number>,
): PopularityTable {
  const entries = [...served.popularity].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const { buffer, window } = served;
  return {
    asOf,
    halfLifeHours: served.halfLifeHours,
    entries,
    scales: Object.fromEntries([...scales].map(([p, v]) => [p, [...v]])),
    ...(buffer === undefined
      ? {}
      : { buffer: { reads: buffer.reads, pages: [...buffer.pages], decayed: [...buffer.decayed] } }),
    ...(window === undefined
      ? {}
      : {
          window: {
            minutes: window.minutes,
            reads: window.reads.map((r): [string, number] => [r.page, r.timestamp]),
            decayed: [...window.decayed],
          },
        }),
    ...(portal === undefined ? {} : { portal: [...portal].sort((a, b) => a[0] - b[0]) }),
  };
}

export function covisitationTable(cov: Map<string, Map<string, number>>, topK: number): CovisitationTable {
  const neighbours: CovisitationTable["neighbours"] = {};
  for (const [page, m] of [...cov].sort((a, b) => (a[0] < b[0] ? -1 : 1))) neighbours[page] = [...m];
  return { topK, neighbours };
}

export { ContentIndex, sparseDot, topK };
