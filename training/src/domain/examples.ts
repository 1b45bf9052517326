/**
 * Training examples for the ranker, in groups: for each reader of the label window, every target page
 * in the reader's candidate pool is a positive, followed by `negatives` pages sampled (seeded, with
 * replacement) from the rest of that reader's pool. A group is `1 + negatives` consecutive rows, the
 * positive first: a listwise loss ranks the positive against its own negatives, as the served list
 * ranks a reader's pool. Features come from the world at the window's start only. Each group carries
 * its positive's weight (`POSITIVE_WEIGHTINGS`).
 */
import { buildModelInputs, concatModelInputs, type ModelInputArrays, mulberry32 } from "@gplay/common";
import type { EvalCase } from "./split.js";
import { candidatePool, type World } from "./world.js";

/**
 * How the ranker learns. "listwise": a softmax over each group (a positive and its negatives from the
 * same reader's pool), on the score's logit: it learns the order of a reader's pool, which is what the
 * served list is. "pointwise": binary cross-entropy per row (a click probability).
 */
export const RANKING_LOSSES = ["listwise", "pointwise"] as const;
export type RankingLoss = (typeof RANKING_LOSSES)[number];

/**
 * How much each positive counts in the listwise loss. The evaluation averages NDCG over readers, and
 * most readers of a served window read a few articles, while a heavy reader brings dozens of
 * positives to a label window. "reader-sqrt": a reader's P positives in a window weigh 1/√P each, so
 * the reader counts √P times a one-positive reader instead of P times; "uniform": every positive
 * weighs 1. (1/P, every reader equal, was tried too: docs/quality.md.)
 */
export const POSITIVE_WEIGHTINGS = ["reader-sqrt", "uniform"] as const;
export type PositiveWeighting = (typeof POSITIVE_WEIGHTINGS)[number];

export interface Examples {
  inputs: ModelInputArrays;
  labels: Float32Array;
  positives: number;
  /** Rows per group (`1 + negatives`): row `g × groupSize` is group g's positive. */
  groupSize: number;
  /** Per group, its positive's relative weight (absent: every group weighs 1). */
  weights?: Float32Array;
}

/** The weight of each positive of a reader with `positives` positives in one label window. */
export function positiveWeight(weighting: PositiveWeighting, positives: number): number {
  return weighting === "reader-sqrt" ? 1 / Math.sqrt(positives) : 1;
}

export function buildExamples(
  world: World,
  cases: readonly EvalCase[],
  negatives: number,
  seed: number,
  weighting: PositiveWeighting = "reader-sqrt",
): Examples {
  if (!Number.isInteger(negatives) || negatives < 1)
    throw new RangeError(`negatives must be a positive integer, got ${negatives}`);
  const rng = mulberry32(seed);
  const parts: ModelInputArrays[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  let positives = 0;
  for (const c of cases) {
    const profile = world.profile(c.userId);
    // The ranker serves readers with history; cold-start readers get the popularity lists.
    if (profile.interactions === 0) continue;
    // Only what the served path can rank is a positive: a target outside the reader's candidate pool
    // (too old, not yet issued, from no tier) would teach the ranker to prefer what it never sees.
    const candidates = candidatePool(world, profile);
    const pos = candidates.filter((p) => c.targets.has(p));
    const pool = candidates.filter((p) => !c.targets.has(p));
    if (pos.length === 0 || pool.length === 0) continue;
    const pages: string[] = [];
    const weight = positiveWeight(weighting, pos.length);
    for (const p of pos) {
      pages.push(p);
      labels.push(1);
      weights.push(weight);
      for (let k = 0; k < negatives; k++) {
        pages.push(pool[Math.floor(rng() * pool.length)] as string);
        labels.push(0);
      }
    }
    parts.push(buildModelInputs(profile, pages, world.context));
    positives += pos.length;
  }
  return {
    inputs: concatModelInputs(parts),
    labels: Float32Array.from(labels),
    positives,
    groupSize: 1 + negatives,
    weights: Float32Array.from(weights),
  };
}

/** Examples of several label windows as one set (the same group size in each). */
export function mergeExamples(parts: readonly Examples[]): Examples {
  const groupSize = parts[0]?.groupSize ?? 1;
  if (parts.some((p) => p.groupSize !== groupSize))
    throw new RangeError("examples with different group sizes cannot be merged");
  const labels = new Float32Array(parts.reduce((n, p) => n + p.labels.length, 0));
  const weights = new Float32Array(labels.length / groupSize);
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    if (p.weights === undefined) weights.fill(1, at / groupSize, (at + p.labels.length) / groupSize);
    else weights.set(p.weights, at / groupSize);
    at += p.labels.length;
  }
  return {
    inputs: concatModelInputs(parts.map((p) => p.inputs)),
    labels,
    positives: parts.reduce((n, p) => n + p.positives, 0),
    groupSize,
    weights,
  };
}

/**
 * What the listwise loss fits: each group's labels times its positive's weight, the weights scaled to
 * a mean of 1 over the set (so the loss and the learning rate keep their scale). The softmax
 * cross-entropy of a group with target mass w is w times that of its one-hot labels.
 */
export function weightedTargets(examples: Examples): Float32Array {
  const { labels, groupSize, weights } = examples;
  if (weights === undefined) return labels;
  const groups = labels.length / groupSize;
  if (weights.length !== groups)
    throw new RangeError(`${weights.length} weights for ${groups} groups of ${groupSize} rows`);
  let sum = 0;
  for (const w of weights) sum += w;
  if (!(sum > 0)) return labels;
  const scale = groups / sum;
  const targets = new Float32Array(labels.length);
  for (let g = 0; g < groups; g++) {
    const w = (weights[g] as number) * scale;
    for (let r = g * groupSize; r < (g + 1) * groupSize; r++) targets[r] = (labels[r] as number) * w;
  }
  return targets;
}
