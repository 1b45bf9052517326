/**
 * Baselines, each with parameters tuned on the validation window: recency-decayed popularity
 * (half-life), the reader's own most-read articles (the challenge kit's baseline) and co-visitation
 * with the reader's recent reads (how many recent reads). Both personal baselines fill with the
 * tuned popularity ranking.
 */
import { engagementWeight } from "@gplay/common";
import type { TrainingData } from "./data.js";
import { evaluateLists, K, type PopulationFigures } from "./metrics.js";
import type { EvalCase } from "./split.js";
import { popularityAt, topK } from "./structures.js";
import type { World } from "./world.js";

export const BASELINES = ["popularity", "most-read", "covisitation"] as const;
export type BaselineName = (typeof BASELINES)[number];

export const HALF_LIFE_GRID_HOURS = [1, 3, 6, 12, 24, 72, 168] as const;
export const RECENT_GRID = [1, 3, 10] as const;

/** Popularity ranking of the catalogue at the world's cut with a given half-life. */
export function popularityRanking(world: World, halfLifeHours: number, n = 500): string[] {
  const pop = popularityAt(world.data.events, world.cut, halfLifeHours);
  const inCatalogue = new Map<string, number>();
  for (const a of world.catalogue) inCatalogue.set(a.page, pop.get(a.page) ?? 0);
  return topK(inCatalogue, n);
}

function fill(list: string[], ranking: readonly string[], exclude: ReadonlySet<string>, k = K): string[] {
  const seen = new Set(list);
  for (const p of ranking) {
    if (list.length >= k) break;
    if (!seen.has(p) && !exclude.has(p)) {
      seen.add(p);
      list.push(p);
    }
  }
  return list;
}

export function popularityLists(
  world: World,
  cases: readonly EvalCase[],
  ranking: readonly string[],
): string[][] {
  return cases.map((c) => fill([], ranking, world.profile(c.userId).read));
}

/** The reader's own articles by total engagement (re-reads allowed), then popular ones. */
export function mostReadLists(
  world: World,
  data: Pick<TrainingData, "readers">,
  cases: readonly EvalCase[],
  ranking: readonly string[],
): string[][] {
  return cases.map((c) => {
    const scores = new Map<string, number>();
    for (const i of data.readers.get(c.userId)?.log ?? []) {
      if (i.timestamp >= world.cut) break;
      scores.set(i.page, (scores.get(i.page) ?? 0) + engagementWeight(i));
    }
    return fill(topK(scores, K), ranking, world.profile(c.userId).read);
  });
}

export function covisitationLists(
  world: World,
  cases: readonly EvalCase[],
  ranking: readonly string[],
  recent: number,
): string[][] {
  return cases.map((c) => {
    const profile = world.profile(c.userId);
    const scores = new Map<string, number>();
    for (const r of profile.recent.slice(0, recent))
      for (const [p, s] of world.covisitation.get(r) ?? []) scores.set(p, (scores.get(p) ?? 0) + s);
    return fill(topK(scores, K, profile.read), ranking, profile.read);
  });
}

export interface TunedBaselines {
  halfLifeHours: number;
  recentReads: number;
  /** Validation NDCG@10 of each grid point, for the record. */
  grid: Record<string, number>;
}

/** Tunes the baselines' parameters on the validation window (world at validCut). */
export function tuneBaselines(world: World, cases: readonly EvalCase[]): TunedBaselines {
  const basis = noveltyBasis(world);
  const grid: Record<string, number> = {};
  let best = { h: HALF_LIFE_GRID_HOURS[0] as number, ndcg: -1 };
  const rankings = new Map<number, string[]>();
  for (const h of HALF_LIFE_GRID_HOURS) {
    const ranking = popularityRanking(world, h);
    rankings.set(h, ranking);
    const ndcg = evaluateLists(cases, popularityLists(world, cases, ranking), basis).all.ndcg10;
    grid[`popularity.halfLife=${h}h`] = ndcg;
    if (ndcg > best.ndcg) best = { h, ndcg };
  }
  const ranking = rankings.get(best.h) ?? [];
  let bestRecent = { n: RECENT_GRID[0] as number, ndcg: -1 };
  for (const n of RECENT_GRID) {
    const ndcg = evaluateLists(cases, covisitationLists(world, cases, ranking, n), basis).all.ndcg10;
    grid[`covisitation.recent=${n}`] = ndcg;
    if (ndcg > bestRecent.ndcg) bestRecent = { n, ndcg };
  }
  return { halfLifeHours: best.h, recentReads: bestRecent.n, grid };
}

/** Runs every baseline with tuned parameters on a window. */
export function evaluateBaselines(
  world: World,
  cases: readonly EvalCase[],
  tuned: TunedBaselines,
): Record<BaselineName, PopulationFigures> {
  const basis = noveltyBasis(world);
  const ranking = popularityRanking(world, tuned.halfLifeHours);
  return {
    popularity: evaluateLists(cases, popularityLists(world, cases, ranking), basis),
    "most-read": evaluateLists(cases, mostReadLists(world, world.data, cases, ranking), basis),
    covisitation: evaluateLists(cases, covisitationLists(world, cases, ranking, tuned.recentReads), basis),
  };
}

export function noveltyBasis(world: World) {
  return {
    readCounts: world.readCounts,
    totalReads: world.totalReads,
    catalogueSize: world.catalogue.length,
  };
}
