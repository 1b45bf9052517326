import type { RankedEntry, RecommendationReason } from "@gplay/common";

/** An article proposed by a candidate source, with the source that proposed it first. */
export interface Candidate {
  page: string;
  reason: RecommendationReason;
  relatedTo?: string;
  /** The source's own score (popularity, co-visitation strength), for ordering inside a tier. */
  sourceScore: number;
}

/** One candidate source, already ordered best first. */
export interface CandidateTier {
  reason: RecommendationReason;
  entries: readonly { page: string; score: number; relatedTo?: string }[];
}

/**
 * Co-visitation neighbours of the pages a reader clicked, best first. Each neighbour list is
 * normalised by its best score and weighted by recency (the last clicked page weighs 1, the one
 * before 1/2, …); a neighbour's `relatedTo` is the clicked page that contributed most.
 */
export function coVisitNeighbours(
  clicked: readonly string[],
  neighbours: ReadonlyMap<string, readonly RankedEntry[]>,
): { page: string; score: number; relatedTo: string }[] {
  const acc = new Map<string, { score: number; relatedTo: string; best: number }>();
  clicked.forEach((source, index) => {
    const entries = neighbours.get(source) ?? [];
    const max = Math.max(0, ...entries.map((e) => e.score));
    if (max <= 0) return;
    const weight = 1 / (clicked.length - index);
    for (const entry of entries) {
      const contribution = (entry.score / max) * weight;
      const seen = acc.get(entry.page);
      if (seen === undefined)
        acc.set(entry.page, { score: contribution, relatedTo: source, best: contribution });
      else {
        seen.score += contribution;
        if (contribution > seen.best) Object.assign(seen, { relatedTo: source, best: contribution });
      }
    }
  });
  return [...acc.entries()]
    .map(([page, v]) => ({ page, score: v.score, relatedTo: v.relatedTo }))
    .sort((a, b) => b.score - a.score || (a.page < b.page ? -1 : 1));
}

/**
 * Walks candidate tiers in order and keeps the first `limit` distinct pages that `accept` admits:
 * an earlier tier always wins, and a page keeps the reason of the first tier that proposed it.
 */
export function selectFromTiers(
  tiers: readonly CandidateTier[],
  limit: number,
  accept: (page: string) => boolean,
): Candidate[] {
  const out: Candidate[] = [];
  const taken = new Set<string>();
  for (const tier of tiers) {
    for (const entry of tier.entries) {
      if (out.length >= limit) return out;
      if (taken.has(entry.page) || !accept(entry.page)) continue;
      taken.add(entry.page);
      out.push({
        page: entry.page,
        reason: tier.reason,
        sourceScore: entry.score,
        ...(entry.relatedTo === undefined ? {} : { relatedTo: entry.relatedTo }),
      });
    }
  }
  return out;
}
