/**
 * Training examples for the ranker, in groups: for each reader of the label window, every target page
 * in the reader's candidate pool is a positive, followed by `negatives` pages sampled (seeded, with
 * replacement) from the rest of that reader's pool. A group is `1 + negatives` consecutive rows, the
 * positive first: a listwise loss ranks the positive against its own negatives, as the served list
 * ranks a reader's pool. A case's pool and features are those of the world its reader is served from:
 * the window start's, or (`servedAt`) the world of the reader's visit (`served-window.ts`: the window
 * start's tables advanced with the portal's reads before the visit's hour), as the api computes them.
 * The profile is the reader's history before the window, as the evaluation's.
 */
import {
  buildModelInputs,
  candidatePool,
  concatModelInputs,
  DEFAULT_FEATURE_COLUMNS,
  type FeatureContext,
  type ModelInputArrays,
  mulberry32,
  NUMERIC_FEATURES,
  type NumericFeature,
  type RecommendationWorld,
  SHARE_FEATURES,
} from "@gplay/common";
import type { EvalCase } from "./split.js";
import type { World } from "./world.js";

/**
 * How the ranker learns. "listwise": a softmax over each group (a positive and its negatives from the
 * same reader's pool), on the score's logit: it learns the order of a reader's pool, which is what the
 * served list is. "pointwise": binary cross-entropy per row (a click probability).
 */
export const RANKING_LOSSES = ["listwise", "pointwise"] as const;
export type RankingLoss = (typeof RANKING_LOSSES)[number];

/** The article's read counts, which the "share" set measures as shares of the portal's reads instead. */
const READ_COUNTS: readonly NumericFeature[] = [
  "article_log_popularity",
  "article_log_pop_1h",
  "article_log_pop_6h",
  "article_log_pop_24h",
  "article_velocity",
];

/**
 * The network's numeric columns: "share" (training's default), the article's reads measured as shares
 * of the portal's reads, which a quieter or sampled stream does not shift; "counts", as read counts:
 * the columns of every bundle before the shares; "appeal", the counts with `article_log_appeal` (its
 * reads against the portal's since its issue). docs/quality.md, "How the ranker learns".
 */
export const FEATURE_SETS = {
  share: NUMERIC_FEATURES.filter(
    (f) => (DEFAULT_FEATURE_COLUMNS.includes(f) && !READ_COUNTS.includes(f)) || SHARE_FEATURES.includes(f),
  ),
  counts: DEFAULT_FEATURE_COLUMNS,
  appeal: [...DEFAULT_FEATURE_COLUMNS, "article_log_appeal"],
} as const satisfies Record<string, readonly NumericFeature[]>;
export type FeatureSet = keyof typeof FEATURE_SETS;
export const FEATURE_SET_NAMES = Object.keys(FEATURE_SETS) as [FeatureSet, ...FeatureSet[]];

export interface Examples {
  inputs: ModelInputArrays;
  labels: Float32Array;
  positives: number;
  /** Rows per group (`1 + negatives`): row `g × groupSize` is group g's positive. */
  groupSize: number;
}

export function buildExamples(
  world: World,
  cases: readonly EvalCase[],
  negatives: number,
  seed: number,
  servedAt?: (caseIndex: number) => RecommendationWorld,
  columns?: readonly NumericFeature[],
): Examples {
  if (!Number.isInteger(negatives) || negatives < 1)
    throw new RangeError(`negatives must be a positive integer, got ${negatives}`);
  const rng = mulberry32(seed);
  const parts: ModelInputArrays[] = [];
  const labels: number[] = [];
  let positives = 0;
  // One feature context per served world (common caches each article's columns per context).
  const contexts = new Map<RecommendationWorld, FeatureContext>([
    [world.served, { ...world.context, columns }],
  ]);
  const contextOf = (served: RecommendationWorld) => {
    let context = contexts.get(served);
    if (context === undefined) {
      context = {
        ...served.features,
        vocab: world.context.vocab,
        normalisation: world.context.normalisation,
        columns,
      };
      contexts.set(served, context);
    }
    return context;
  };
  cases.forEach((c, i) => {
    const served = servedAt?.(i) ?? world.served;
    const profile = world.profile(c.userId);
    // The ranker serves readers with history; cold-start readers get the popularity lists.
    if (profile.interactions === 0) return;
    // Only what the served path can rank is a positive: a target outside the reader's candidate pool
    // (too old, not yet issued, from no tier) would teach the ranker to prefer what it never sees.
    const candidates = candidatePool(served, profile).map((e) => e.page);
    const pos = candidates.filter((p) => c.targets.has(p));
    const pool = candidates.filter((p) => !c.targets.has(p));
    if (pos.length === 0 || pool.length === 0) return;
    const pages: string[] = [];
    for (const p of pos) {
      pages.push(p);
      labels.push(1);
      for (let k = 0; k < negatives; k++) {
        pages.push(pool[Math.floor(rng() * pool.length)] as string);
        labels.push(0);
      }
    }
    parts.push(buildModelInputs(profile, pages, contextOf(served)));
    positives += pos.length;
  });
  return {
    inputs: concatModelInputs(parts),
    labels: Float32Array.from(labels),
    positives,
    groupSize: 1 + negatives,
  };
}

/** Examples of several label windows as one set (the same group size in each). */
export function mergeExamples(parts: readonly Examples[]): Examples {
  const groupSize = parts[0]?.groupSize ?? 1;
  if (parts.some((p) => p.groupSize !== groupSize))
    throw new RangeError("examples with different group sizes cannot be merged");
  const labels = new Float32Array(parts.reduce((n, p) => n + p.labels.length, 0));
  let at = 0;
  for (const p of parts) {
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return {
    inputs: concatModelInputs(parts.map((p) => p.inputs)),
    labels,
    positives: parts.reduce((n, p) => n + p.positives, 0),
    groupSize,
  };
}
