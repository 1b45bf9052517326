/**
 * How far the served network leans on what it learned beyond its popularity prior. Training's loss
 * (a softmax over a positive and a few sampled negatives) is not the served list's NDCG@10: where a
 * world holds little beyond popularity, a network can fit the sampled groups better and still order
 * the top of a reader's pool worse than popularity does. So the trained logit can be shrunk toward
 * the prior — (1 − w) × prior₀ + w × trained — judged on the test window's readers with history (the
 * window the gate judges on; validacao stays unseen). A window's NDCG@10 is noisy and its best weight
 * need not carry over to the next days, so the network is shrunk only on clear evidence: the best
 * smaller weight's 90 % paired-bootstrap interval against the trained network lies above 1.
 */
import { pairedRatioInterval, type RatioInterval } from "./metrics.js";

/** Weights tried, from the trained network to the popularity prior alone. */
export const SHRINKAGE_GRID = [1, 0.75, 0.5, 0.25, 0] as const;

export interface ShrinkageTrial {
  weight: number;
  /** NDCG@10 of the served list of each case. */
  scores: Float64Array;
}

export interface ShrinkageChoice {
  weight: number;
  /** Mean NDCG@10 of the readers with history per weight tried. */
  ndcg: { weight: number; ndcg: number }[];
  /** The best smaller weight against the trained network (absent when only weight 1 was tried). */
  evidence?: RatioInterval & { weight: number };
}

/** The weight to serve: 1 unless a smaller one is clearly better on the cases `history`. */
export function pickShrinkage(
  trials: readonly ShrinkageTrial[],
  history: readonly number[],
): ShrinkageChoice {
  const trained = trials.find((t) => t.weight === 1);
  if (trained === undefined) throw new RangeError("the trained network (weight 1) was not tried");
  const mean = (s: Float64Array) =>
    history.length === 0 ? 0 : history.reduce((a, i) => a + (s[i] as number), 0) / history.length;
  const ndcg = trials.map((t) => ({ weight: t.weight, ndcg: mean(t.scores) }));
  let best: ShrinkageTrial | undefined;
  for (const t of trials)
    if (t.weight < 1 && (best === undefined || mean(t.scores) > mean(best.scores))) best = t;
  if (best === undefined) return { weight: 1, ndcg };
  const evidence = { ...pairedRatioInterval(best.scores, trained.scores, history), weight: best.weight };
  return { weight: evidence.low > 1 ? best.weight : 1, ndcg, evidence };
}
