/**
 * Offline ranking metrics over top-k lists with binary relevance: NDCG@k, HR@k, Recall@k, MRR,
 * catalogue coverage and novelty (mean self-information of recommended items).
 */
import { type EvaluationFigures, mulberry32 } from "@gplay/common";
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

/** NDCG@K of each case's list (a missing list scores 0). */
export function ndcgByCase(cases: readonly EvalCase[], lists: readonly (readonly string[])[]): Float64Array {
  return Float64Array.from(cases, (c, i) => listScores((lists[i] ?? []).slice(0, K), c.targets).ndcg);
}

/** A ratio of two mean NDCG@K with its bootstrap interval. */
export interface RatioInterval {
  ratio: number;
  /** The bootstrapped ratio's percentiles around `level` of it (5th and 95th: a 90 % interval). */
  low: number;
  high: number;
  readers: number;
}

/**
 * mean(a) ÷ mean(b) over the cases `idx`, with a paired bootstrap over readers (seeded): each resample
 * draws readers with replacement and keeps both methods' scores of the same reader together, so the
 * interval reflects how many readers decide the comparison, not the two methods' own spreads.
 */
export function pairedRatioInterval(
  a: Float64Array,
  b: Float64Array,
  idx: readonly number[],
  options: { resamples?: number; seed?: number; level?: number } = {},
): RatioInterval {
  const resamples = options.resamples ?? 1_000;
  const tail = (1 - (options.level ?? 0.9)) / 2;
  const ratioOf = (sa: number, sb: number) => (sb > 0 ? sa / sb : sa > 0 ? Number.POSITIVE_INFINITY : 1);
  let sumA = 0;
  let sumB = 0;
  for (const i of idx) {
    sumA += a[i] as number;
    sumB += b[i] as number;
  }
  const ratio = ratioOf(sumA, sumB);
  if (idx.length === 0) return { ratio, low: ratio, high: ratio, readers: 0 };
  const rng = mulberry32(options.seed ?? 7);
  const draws = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let ra = 0;
    let rb = 0;
    for (let n = 0; n < idx.length; n++) {
      const i = idx[Math.floor(rng() * idx.length)] as number;
      ra += a[i] as number;
      rb += b[i] as number;
    }
    draws[r] = ratioOf(ra, rb);
  }
  draws.sort();
  const at = (q: number) => draws[Math.min(resamples - 1, Math.floor(q * resamples))] as number;
  return { ratio, low: at(tail), high: at(1 - tail), readers: idx.length };
}

/** The cases of a segment: readers with history, or new readers. */
export function segmentCases(cases: readonly EvalCase[], segment: "history" | "cold"): number[] {
  const out: number[] = [];
  cases.forEach((c, i) => {
    if (c.cold === (segment === "cold")) out.push(i);
  });
  return out;
}
