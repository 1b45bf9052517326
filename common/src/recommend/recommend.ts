/**
 * The one recommendation path. Training's example sampling and offline evaluation and the api's
 * `/predict` all call `candidatePool` and `recommend`: candidate tiers with their budgets and
 * freshness, exclusion of what the reader read (and what the request excludes), scoring, ordering
 * and the fill-up to `k` are defined here and nowhere else.
 */
import type { ReaderProfile } from "../features/feature-builder.js";
import { selectTopByValue } from "./content-index.js";
import type { RecommendationWorld, ScopeKind } from "./world.js";

/** How many of the reader's scopes (sections and regions together, by share) the scoped tier draws from. */
export const SCOPED_TIER_SCOPES = 3;

const SCOPE_TIERS = { section: "popular-section", region: "popular-region" } as const satisfies Record<
  ScopeKind,
  CandidateTier
>;

/** Where a candidate came from (the first tier that proposed it). */
export const CANDIDATE_TIERS = [
  "popular",
  "co-visited",
  "content-similar",
  "popular-section",
  "popular-region",
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
 * The reader's top `SCOPED_TIER_SCOPES` sections and regions by engagement share (one list, so the
 * kind the reader is more concentrated in gets more of them), ties by kind then key, with the share
 * of `budget` each gets: proportional to its share, rounded, the rest of the budget to the last.
 */
export function scopeQuotas(
  profile: Pick<ReaderProfile, "sectionShare" | "regionShare">,
  budget: number,
): { kind: ScopeKind; key: string; quota: number }[] {
  if (!(budget > 0)) return [];
  const all: { kind: ScopeKind; key: string; share: number }[] = [];
  for (const [key, share] of profile.sectionShare) if (share > 0) all.push({ kind: "section", key, share });
  for (const [key, share] of profile.regionShare) if (share > 0) all.push({ kind: "region", key, share });
  all.sort(
    (a, b) =>
      b.share - a.share || (a.kind === b.kind ? (a.key < b.key ? -1 : 1) : a.kind === "section" ? -1 : 1),
  );
  const top = all.slice(0, SCOPED_TIER_SCOPES);
  const total = top.reduce((sum, s) => sum + s.share, 0);
  let left = budget;
  return top.map((s, i) => {
    const quota = i === top.length - 1 ? left : Math.min(left, Math.round((budget * s.share) / total));
    left -= quota;
    return { kind: s.kind, key: s.key, quota };
  });
}

/**
 * The candidate pool of a reader: fresh popular articles, articles co-visited with the recent reads,
 * fresh articles close in content to the recent reads, fresh articles popular in the reader's own
 * sections and regions — each within its budget, in that order, no page twice, nothing read or
 * excluded. A scope that runs out of unread fresh articles passes the rest of its quota to the next.
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
  let carried = 0;
  for (const { kind, key, quota } of scopeQuotas(profile, opts.scoped)) {
    const want = quota + carried;
    let got = 0;
    for (const page of world.scopeRanking(kind, key)) {
      if (got >= want) break;
      if (add({ page, tier: SCOPE_TIERS[kind] })) got++;
    }
    carried = want - got;
  }
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
