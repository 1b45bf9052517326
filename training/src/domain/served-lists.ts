/**
 * Offline evaluation through the served path: each case's list is what common's `recommend` returns
 * for the reader in the world (the api's `/predict` over the same world and scorer returns the same),
 * with per-tier figures of the candidate pool: how many held-out reads each tier brought into the
 * pool (candidate recall) and how much of what is served each tier supplied.
 */
import {
  CANDIDATE_TIERS,
  type CandidateTier,
  type ReaderProfile,
  type RecommendationWorld,
  recommend,
  type Scorer,
} from "@gplay/common";
import type { BaselineStrategy } from "./baselines.js";
import { K } from "./metrics.js";
import type { EvalCase } from "./split.js";

export interface TierFigures {
  /** Mean over readers with history of the share of their held-out reads found in the pool, per tier and in all. */
  candidateRecall: Record<CandidateTier | "all", number>;
  /** Share of served items (all readers) that came from each tier. */
  servedShare: Record<CandidateTier, number>;
  /** Mean pool size of readers with history. */
  poolSize: number;
  /** Readers ranked by the scorer (with history) and served the cold list. */
  readers: { model: number; cold: number };
}

export interface ServedLists {
  lists: string[][];
  tiers: TierFigures;
}

const zeroTiers = () =>
  Object.fromEntries(CANDIDATE_TIERS.map((t) => [t, 0])) as Record<CandidateTier, number>;

/**
 * Where a window's cases are served, per strategy (undefined: the model's own popularity; else a
 * baseline's): the world each case is served from (one world for every case, or the world of each
 * case's visit: `served-window.ts`), and the readers' profiles.
 */
export interface WindowServing {
  worldsOf(strategy?: BaselineStrategy): (caseIndex: number) => RecommendationWorld;
  profile(userId: string): ReaderProfile;
}

/**
 * The top-K list common's recommendation path serves each case's reader, and the pool's tier figures:
 * in one world, or in the world `world(i)` case `i` is served from.
 */
export function servedLists(
  world: RecommendationWorld | ((caseIndex: number) => RecommendationWorld),
  profileOf: (userId: string) => ReaderProfile,
  cases: readonly EvalCase[],
  scorer: Scorer,
  k = K,
): ServedLists {
  const worldOf = typeof world === "function" ? world : () => world;
  const lists: string[][] = new Array(cases.length);
  const recall = { ...zeroTiers(), all: 0 };
  const served = zeroTiers();
  let servedTotal = 0;
  let poolTotal = 0;
  let model = 0;
  let cold = 0;
  cases.forEach((c, i) => {
    const out = recommend(worldOf(i), profileOf(c.userId), scorer, { k });
    lists[i] = out.items.map((item) => item.page);
    for (const item of out.items) served[item.tier]++;
    servedTotal += out.items.length;
    if (out.strategy === "cold") {
      cold++;
      return;
    }
    model++;
    poolTotal += out.pool.length;
    if (c.targets.size === 0) return;
    const found = zeroTiers();
    let all = 0;
    for (const entry of out.pool)
      if (c.targets.has(entry.page)) {
        found[entry.tier]++;
        all++;
      }
    for (const t of CANDIDATE_TIERS) recall[t] += found[t] / c.targets.size;
    recall.all += all / c.targets.size;
  });
  const perReader = (v: number) => (model === 0 ? 0 : v / model);
  return {
    lists,
    tiers: {
      candidateRecall: Object.fromEntries(
        Object.entries(recall).map(([t, v]) => [t, perReader(v)]),
      ) as TierFigures["candidateRecall"],
      servedShare: Object.fromEntries(
        CANDIDATE_TIERS.map((t) => [t, servedTotal === 0 ? 0 : served[t] / servedTotal]),
      ) as TierFigures["servedShare"],
      poolSize: perReader(poolTotal),
      readers: { model, cold },
    },
  };
}
