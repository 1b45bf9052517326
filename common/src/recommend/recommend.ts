/**
 * The one recommendation path. Training's example sampling and offline evaluation and the api's
 * `/predict` all call `candidatePool` and `recommend`: candidate tiers with their budgets and
 * freshness, exclusion of what the reader read (and what the request excludes), scoring, ordering
 * and the fill-up to `k` are defined here and nowhere else.
 */
import type { ReaderProfile } from "../features/feature-builder.js";
import { selectTopByValue } from "./content-index.js";
import type { RecommendationWorld } from "./world.js";

/** Where a candidate came from (the first tier that proposed it). */
export const CANDIDATE_TIERS = [
  "popular",
  "co-visited",
  "content-similar",
  "fill-popular",
  "fill-newest",
] as const;
export type CandidateTier = (typeof CANDIDATE_TIERS)[number];

export interface PoolEntry {
  page: string;
  tier: CandidateTier;
  /** For `co-visited`: the recent read that contributed most. */
  relatedTo?: string;
}

/** Pages never to recommend: the reader's reads and anything the caller adds. */
export interface Exclusion {
  has(page: string): boolean;
}

/** Scores candidate pages for one reader in one world (a model, or a baseline's rule). */
export interface Scorer {
  score(profile: ReaderProfile, pages: readonly string[], world: RecommendationWorld): ArrayLike<number>;
}

export interface RecommendedEntry extends PoolEntry {
  score: number;
}

export interface Recommendation {
  /** "model": the pool ranked by the scorer; "cold": a reader without history, popularity order. */
  strategy: "model" | "cold";
  items: RecommendedEntry[];
  /** The ranked pool (empty for cold readers), for candidate-recall figures. */
  pool: readonly PoolEntry[];
}

const excluded = (profile: ReaderProfile, extra: Exclusion | undefined) => ({
  has: (page: string) => profile.read.has(page) || (extra?.has(page) ?? false),
});

/**
 * The candidate pool of a reader: fresh popular articles, articles co-visited with the recent reads,
 * fresh articles close in content to the recent reads — each within its budget, in that order, no
 * page twice, nothing read or excluded.
 */
export function candidatePool(
  world: RecommendationWorld,
  profile: ReaderProfile,
  exclude?: Exclusion,
): PoolEntry[] {
  const opts = world.candidates;
  const skip = excluded(profile, exclude);
  const pool: PoolEntry[] = [];
  const taken = new Set<string>();
  const add = (entry: PoolEntry) => {
    if (taken.has(entry.page) || skip.has(entry.page)) return false;
    taken.add(entry.page);
    pool.push(entry);
    return true;
  };
  let n = 0;
  for (const page of world.popularRanking) {
    if (n >= opts.popular) break;
    if (add({ page, tier: "popular" })) n++;
  }
  // Co-visitation summed per neighbour over the recent reads, in their order (0 + the first score, as
  // a map's `(get ?? 0) + s`), with the read that gave the most: one map lookup per neighbour, the
  // sums and sources in parallel arrays.
  const covIndex = new Map<string, number>();
  const covPages: string[] = [];
  const covSums: number[] = [];
  const covFrom: string[] = [];
  const covBest: number[] = [];
  for (const r of profile.recent) {
    const { pages, scores } = world.covisitedArticles(r);
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i] as string;
      const s = scores[i] as number;
      const at = covIndex.get(p);
      if (at === undefined) {
        covIndex.set(p, covPages.length);
        covPages.push(p);
        covSums.push(0 + s);
        covFrom.push(r);
        covBest.push(s);
      } else {
        covSums[at] = (covSums[at] as number) + s;
        if (s > (covBest[at] as number)) {
          covFrom[at] = r;
          covBest[at] = s;
        }
      }
    }
  }
  const covSkip = (i: number) => {
    const p = covPages[i] as string;
    return skip.has(p) || taken.has(p);
  };
  for (const i of selectTopByValue(covPages.length, opts.covisited, covSums, covPages, covSkip))
    add({ page: covPages[i] as string, tier: "co-visited", relatedTo: covFrom[i] as string });
  const vectors = profile.recent
    .map((r) => world.features.article(r)?.vector)
    .filter((v): v is NonNullable<typeof v> => v !== undefined);
  const seen = { has: (p: string) => skip.has(p) || taken.has(p) };
  for (const page of world.content.nearest(vectors, opts.contentSimilar, seen))
    add({ page, tier: "content-similar" });
  return pool;
}

/** Appends fill-up entries (any-age popularity, then newest) until `items` holds `k`. */
function fillUp(
  world: RecommendationWorld,
  items: RecommendedEntry[],
  k: number,
  skip: Exclusion,
): RecommendedEntry[] {
  if (items.length >= k) return items;
  const taken = new Set(items.map((i) => i.page));
  let rank = items.length;
  for (const page of world.fillRanking()) {
    if (items.length >= k) break;
    if (taken.has(page) || skip.has(page)) continue;
    taken.add(page);
    const popular = world.features.popularity(page) > 0;
    items.push({ page, tier: popular ? "fill-popular" : "fill-newest", score: rankScore(rank++) });
  }
  return items;
}

/** Scores of an ordered list without model scores: 1/(1+rank), strictly falling. */
export function rankScore(rank: number): number {
  return 1 / (1 + rank);
}

/**
 * Orders pool entries by score, best first, ties by page id (so equal scores are stable), keeps `k`.
 * Throws when the scorer returned the wrong number of scores or one that cannot be ordered.
 */
export function orderByScore(
  pool: readonly PoolEntry[],
  scores: ArrayLike<number>,
  k: number,
): RecommendedEntry[] {
  if (scores.length !== pool.length)
    throw new RangeError(`scorer returned ${scores.length} scores for ${pool.length} candidates`);
  for (let i = 0; i < scores.length; i++)
    if (!Number.isFinite(scores[i] as number)) throw new RangeError("scorer returned a non-finite score");
  // The best `k` by selection (sorting the whole pool and copying every entry was most of this stage),
  // in the sort's order: score descending, ties by page id (pool pages are distinct).
  const pages = pool.map((p) => p.page);
  const top = selectTopByValue(pool.length, k, scores, pages);
  return top.map((i) => ({ ...(pool[i] as PoolEntry), score: scores[i] as number }));
}

/**
 * The `k` articles to show a reader. A reader with history gets the candidate pool ranked by
 * `scorer`; a reader without gets the fresh popularity order. Either way the list is filled up to `k`
 * from older articles when the catalogue allows, and never holds a read or excluded page.
 */
export function recommend(
  world: RecommendationWorld,
  profile: ReaderProfile,
  scorer: Scorer,
  options: { k: number; exclude?: Exclusion },
): Recommendation {
  const skip = excluded(profile, options.exclude);
  if (profile.interactions === 0) {
    const items: RecommendedEntry[] = [];
    for (const page of world.popularRanking) {
      if (items.length >= options.k) break;
      if (!skip.has(page)) items.push({ page, tier: "popular", score: rankScore(items.length) });
    }
    return { strategy: "cold", items: fillUp(world, items, options.k, skip), pool: [] };
  }
  const pool = candidatePool(world, profile, options.exclude);
  const scores =
    pool.length === 0
      ? []
      : scorer.score(
          profile,
          pool.map((p) => p.page),
          world,
        );
  const items = orderByScore(pool, scores, options.k);
  return { strategy: "model", items: fillUp(world, items, options.k, skip), pool };
}
