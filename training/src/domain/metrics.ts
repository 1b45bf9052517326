/**
 * Offline ranking metrics over top-k lists with binary relevance: NDCG@k, HR@k, Recall@k, MRR,
 * catalogue coverage and novelty (mean self-information of recommended items).
 */
import type { EvaluationFigures } from "@gplay/common";
import type { EvalCase } from "./split.js";

export const K = 10;

export interface PopulationFigures {
  all: EvaluationFigures;
  history: EvaluationFigures;
  cold: EvaluationFigures;
}

/** Per-list scores of one ranked list against its targets. */
export function listScores(list: readonly string[], targets: ReadonlySet<string>, k = K) {
  let dcg = 0;
  let hits = 0;
  let rr = 0;
  list.slice(0, k).forEach((p, i) => {
    if (targets.has(p)) {
      dcg += 1 / Math.log2(i + 2);
      hits++;
      if (rr === 0) rr = 1 / (i + 1);
    }
  });
  let idcg = 0;
  for (let i = 0; i < Math.min(k, targets.size); i++) idcg += 1 / Math.log2(i + 2);
  return {
    ndcg: idcg === 0 ? 0 : dcg / idcg,
    hr: hits > 0 ? 1 : 0,
    recall: targets.size === 0 ? 0 : hits / Math.min(k, targets.size),
    rr,
  };
}

export interface NoveltyBasis {
  /** Reads per page before the cut. */
  readCounts: ReadonlyMap<string, number>;
  totalReads: number;
  /** Size of the catalogue one could recommend (coverage denominator). */
  catalogueSize: number;
}

function figures(cases: readonly EvalCase[], lists: readonly string[][], idx: number[], basis: NoveltyBasis) {
  const out: EvaluationFigures = {
    ndcg10: 0,
    hr10: 0,
    recall10: 0,
    mrr: 0,
    coverage: 0,
    novelty: 0,
    readers: idx.length,
  };
  if (idx.length === 0) return out;
  const distinct = new Set<string>();
  let noveltySum = 0;
  let noveltyN = 0;
  const denom = basis.totalReads + basis.catalogueSize;
  for (const i of idx) {
    const list = (lists[i] ?? []).slice(0, K);
    const s = listScores(list, (cases[i] as EvalCase).targets);
    out.ndcg10 += s.ndcg;
    out.hr10 += s.hr;
    out.recall10 += s.recall;
    out.mrr += s.rr;
    for (const p of list) {
      distinct.add(p);
      noveltySum += -Math.log2(((basis.readCounts.get(p) ?? 0) + 1) / denom);
      noveltyN++;
    }
  }
  const n = idx.length;
  return {
    ndcg10: out.ndcg10 / n,
    hr10: out.hr10 / n,
    recall10: out.recall10 / n,
    mrr: out.mrr / n,
    coverage: basis.catalogueSize === 0 ? 0 : distinct.size / basis.catalogueSize,
    novelty: noveltyN === 0 ? 0 : noveltySum / noveltyN,
    readers: n,
  };
}

/** Figures for all readers, readers with history and cold-start readers. */
export function evaluateLists(
  cases: readonly EvalCase[],
  lists: readonly string[][],
  basis: NoveltyBasis,
): PopulationFigures {
  const all = cases.map((_, i) => i);
  return {
    all: figures(cases, lists, all, basis),
    history: figures(
      cases,
      lists,
      all.filter((i) => !(cases[i] as EvalCase).cold),
      basis,
    ),
    cold: figures(
      cases,
      lists,
      all.filter((i) => (cases[i] as EvalCase).cold),
      basis,
    ),
  };
}
