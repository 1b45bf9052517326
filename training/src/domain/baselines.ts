/**
 * The baselines, each tuned on the validation window and evaluated through the served
 * recommendation path (common's `recommend` with the baseline's scorer in the baseline's world): the
 * same candidate pool, exclusions and fill-up as the model, so the gate compares like with like and
 * the winner can be served as a bundle. Their parameters:
 *   popularity                 half-life of the decayed popularity (1 h … 3 days)
 *   recent-buffer              how many of the portal's latest reads make the buffer
 *   section-region-popularity  weight of the reader's section/region shares (popularity: the tuned half-life)
 *   covisitation, coldstart    none (popularity: the tuned half-life)
 * The challenge kit's "most-read" baseline (the reader's own most-read pages) is not among them: the
 * platform never recommends a read page again and the ground truth holds new reads only, so it would
 * only ever score through its popularity fill — the popularity baseline.
 */
import {
  BASELINE_NAMES,
  type BaselineName,
  baselineScorer,
  buildRecommendationWorld,
  mapCatalogue,
  type RecommendationWorld,
  type Scorer,
} from "@gplay/common";
import { HOUR_MS } from "./data.js";
import {
  evaluateLists,
  type NoveltyBasis,
  ndcgByCase,
  type PopulationFigures,
  pairedRatioInterval,
  type RatioInterval,
  segmentCases,
} from "./metrics.js";
import { servedLists } from "./served-lists.js";
import { type EvalCase, windowCases } from "./split.js";
import { popularityAt, recentBufferAt } from "./structures.js";
import { profileIn, type ServingPopularity, type World } from "./world.js";

export { BASELINE_NAMES, type BaselineName };

export const HALF_LIFE_GRID_HOURS = [1, 2, 3, 6, 12, 24, 72] as const;
export const BUFFER_GRID_READS = [100, 300, 1_000, 3_000, 10_000] as const;
export const AFFINITY_WEIGHT_GRID = [0.5, 2, 8] as const;

/** New readers in the validation window from which the serving popularity is chosen on them alone. */
export const MIN_COLD_READERS_TO_CHOOSE = 200;

/** A baseline with its parameters: what a baseline bundle names. */
export interface BaselineStrategy {
  name: BaselineName;
  params: Record<string, number>;
}

export interface TunedBaselines {
  strategies: Record<BaselineName, BaselineStrategy>;
  /**
   * Decayed popularity or a recent-click buffer, whichever lists better for new readers over several
   * origins (`coldListTrials`; on every reader of the validation window when new readers are fewer than
   * `MIN_COLD_READERS_TO_CHOOSE`): the model's popularity, and the list a reader without history gets.
   */
  servingPopularity: ServingPopularity;
  /** The popularity baseline's half-life (also the model's popularity tier and feature). */
  halfLifeHours: number;
  /** Validation NDCG@10 of each grid point, for the record. */
  grid: Record<string, number>;
}

/** The popularity a strategy serves with, at the world's cut and reference time. */
export function strategyPopularity(world: World, strategy: BaselineStrategy): Map<string, number> {
  if (strategy.name === "recent-buffer")
    return recentBufferAt(
      world.data.events,
      world.cut,
      strategy.params.reads ?? BUFFER_GRID_READS[2],
      world.popularity,
    );
  const h = strategy.params.halfLifeHours ?? world.candidates.popularityHalfLifeHours;
  return h === world.candidates.popularityHalfLifeHours
    ? world.decayed
    : popularityAt(world.data.events, world.cut, h, world.asOf);
}

/** The world a strategy is served in: `world` with the strategy's popularity (and its half-life). */
export function strategyWorld(
  world: World,
  strategy: BaselineStrategy,
  popularity: Map<string, number> = strategyPopularity(world, strategy),
): RecommendationWorld {
  if (popularity === world.popularity) return world.served;
  return buildRecommendationWorld({
    asOf: world.asOf,
    readsBefore: world.cut,
    catalogue: mapCatalogue(world.data.articles),
    popularity,
    popularityScales: world.popularityScales,
    covisitation: world.covisitation,
    candidates: {
      ...world.candidates,
      popularityHalfLifeHours: strategy.params.halfLifeHours ?? world.candidates.popularityHalfLifeHours,
    },
  });
}

/** Figures of one strategy on `cases`, through the served path. */
export function evaluateStrategy(
  world: World,
  cases: readonly EvalCase[],
  strategy: BaselineStrategy,
  basis: NoveltyBasis = noveltyBasis(world),
): PopulationFigures {
  return evaluateLists(cases, strategyLists(world, cases, strategy), basis);
}

/** The lists one strategy serves `cases`' readers, through the served path. */
export function strategyLists(
  world: World,
  cases: readonly EvalCase[],
  strategy: BaselineStrategy,
): string[][] {
  return servedLists(
    strategyWorld(world, strategy),
    world.profile,
    cases,
    baselineScorer(strategy.name, strategy.params),
  ).lists;
}

/** A serving popularity and the NDCG@10 of its list, pooled over new readers at several origins. */
export interface ColdListTrial {
  popularity: ServingPopularity;
  ndcg: number;
}

/**
 * Decayed popularity (the tuned half-life) or a recent-click buffer. The serving popularity is the
 * whole list of a reader without history, but only one feature and one candidate tier of a reader
 * with history: so it is chosen on new readers (`coldListTrials`, pooled over several origins) when
 * there are enough of them to tell, else on every reader of the validation window; a tie keeps
 * decayed popularity (the first trial).
 */
export function chooseServingPopularity(
  cold: { readers: number; trials: readonly ColdListTrial[] },
  all: { decayed: number; buffer: number; bufferReads: number },
): ServingPopularity {
  if (cold.readers >= MIN_COLD_READERS_TO_CHOOSE && cold.trials.length > 0) {
    let best = cold.trials[0] as ColdListTrial;
    for (const t of cold.trials) if (t.ndcg > best.ndcg) best = t;
    return best.popularity;
  }
  return all.buffer > all.decayed ? { kind: "buffer", reads: all.bufferReads } : { kind: "decayed" };
}

/** Origins of the new-reader comparison: the validation window's start and every step before it. */
export const COLD_ORIGINS = 8;
export const COLD_ORIGIN_STEP_HOURS = 6;
/** An origin needs this much history before it (what a list is made of). */
const MIN_HISTORY_HOURS = 24;

/** Never asked: a reader without history gets the popularity list, whatever the scorer. */
const COLD_ONLY: Scorer = {
  score() {
    throw new Error("a new reader's list is not scored");
  },
};

/**
 * NDCG@10 of the list new readers get under each serving popularity, pooled over the new readers of
 * several origins (`COLD_ORIGINS`, `COLD_ORIGIN_STEP_HOURS` apart, from the world's cut back): at each,
 * the list is made from the reads before the origin and judged on the reads of the `horizonMs` after
 * it, through the served path. Every new reader of a window gets the same list, so one window judges
 * one list and its figure swings with the few articles at its top; several origins judge several
 * lists. Nothing at or after `world.cut + horizonMs` is read.
 */
export function coldListTrials(
  world: World,
  horizonMs: number,
  halfLifeHours: number,
  options: readonly ServingPopularity[],
): { readers: number; trials: ColdListTrial[] } {
  const { data } = world;
  const first = data.events[0]?.timestamp ?? world.cut;
  const catalogue = mapCatalogue(data.articles);
  const candidates = { ...world.candidates, popularityHalfLifeHours: halfLifeHours };
  const sums = options.map(() => 0);
  let readers = 0;
  for (let j = 0; j < COLD_ORIGINS; j++) {
    const origin = world.cut - j * COLD_ORIGIN_STEP_HOURS * HOUR_MS;
    if (origin - first < MIN_HISTORY_HOURS * HOUR_MS) break;
    const cases = windowCases(data, origin, origin + horizonMs - 1, Number.MAX_SAFE_INTEGER, 0).filter(
      (c) => c.cold,
    );
    if (cases.length === 0) continue;
    readers += cases.length;
    const decayed = popularityAt(data.events, origin, halfLifeHours);
    options.forEach((option, k) => {
      const popularity =
        option.kind === "buffer" ? recentBufferAt(data.events, origin, option.reads, decayed) : decayed;
      const served = buildRecommendationWorld({
        asOf: origin,
        readsBefore: origin,
        catalogue,
        popularity,
        popularityScales: new Map(),
        covisitation: new Map(),
        candidates,
      });
      const lists = servedLists(served, profileIn(data, served), cases, COLD_ONLY).lists;
      sums[k] = (sums[k] as number) + ndcgByCase(cases, lists).reduce((a, b) => a + b, 0);
    });
  }
  return {
    readers,
    trials: options.map((popularity, k) => ({
      popularity,
      ndcg: readers === 0 ? 0 : (sums[k] as number) / readers,
    })),
  };
}

/** Tunes every baseline's parameters on the validation window (world at validCut). */
export function tuneBaselines(world: World, cases: readonly EvalCase[], horizonMs: number): TunedBaselines {
  const basis = noveltyBasis(world);
  const grid: Record<string, number> = {};
  const best = <T>(points: readonly T[], strategy: (p: T) => BaselineStrategy, label: (p: T) => string) => {
    let chosen = strategy(points[0] as T);
    let top = -1;
    for (const p of points) {
      const s = strategy(p);
      const figures = evaluateStrategy(world, cases, s, basis);
      const ndcg = figures.all.ndcg10;
      grid[label(p)] = ndcg;
      if (ndcg > top) {
        top = ndcg;
        chosen = s;
      }
    }
    return chosen;
  };
  const popularity = best(
    HALF_LIFE_GRID_HOURS,
    (h) => ({ name: "popularity", params: { halfLifeHours: h } }),
    (h) => `popularity.halfLife=${h}h`,
  );
  const halfLifeHours = popularity.params.halfLifeHours as number;
  const recent = best(
    BUFFER_GRID_READS,
    (n) => ({ name: "recent-buffer", params: { reads: n } }),
    (n) => `recent-buffer.reads=${n}`,
  );
  const sectionRegion = best(
    AFFINITY_WEIGHT_GRID,
    (w) => ({ name: "section-region-popularity", params: { halfLifeHours, affinityWeight: w } }),
    (w) => `section-region-popularity.weight=${w}`,
  );
  return {
    halfLifeHours,
    grid,
    servingPopularity: chooseServingPopularity(
      coldListTrials(world, horizonMs, halfLifeHours, [
        { kind: "decayed" },
        ...BUFFER_GRID_READS.map((reads) => ({ kind: "buffer" as const, reads })),
      ]),
      {
        decayed: grid[`popularity.halfLife=${halfLifeHours}h`] ?? 0,
        buffer: grid[`recent-buffer.reads=${recent.params.reads}`] ?? 0,
        bufferReads: recent.params.reads as number,
      },
    ),
    strategies: {
      popularity,
      "recent-buffer": recent,
      "section-region-popularity": sectionRegion,
      covisitation: { name: "covisitation", params: { halfLifeHours } },
      coldstart: { name: "coldstart", params: { halfLifeHours } },
    },
  };
}

/** Runs every baseline with its tuned parameters on a window. */
export function evaluateBaselines(
  world: World,
  cases: readonly EvalCase[],
  tuned: TunedBaselines,
): Record<BaselineName, PopulationFigures> {
  const basis = noveltyBasis(world);
  return Object.fromEntries(
    BASELINE_NAMES.map((name) => [name, evaluateStrategy(world, cases, tuned.strategies[name], basis)]),
  ) as Record<BaselineName, PopulationFigures>;
}

export function noveltyBasis(world: World): NoveltyBasis {
  return {
    readCounts: world.readCounts,
    totalReads: world.totalReads,
    catalogueSize: world.catalogue.length,
  };
}

/** The model's NDCG@10 ÷ that of the segment's best baseline, with a paired-bootstrap interval. */
export type SegmentRatios = Record<"history" | "cold", RatioInterval & { baseline: BaselineName }>;

/** Per segment: the model against the best baseline of `baselines` (figures of the same cases). */
export function ratiosToBestBaseline(
  world: World,
  cases: readonly EvalCase[],
  modelLists: readonly (readonly string[])[],
  baselines: Record<BaselineName, PopulationFigures>,
  tuned: TunedBaselines,
): SegmentRatios {
  const model = ndcgByCase(cases, modelLists);
  const scored = new Map<BaselineName, Float64Array>();
  const ratioFor = (segment: "history" | "cold") => {
    let best: BaselineName = BASELINE_NAMES[0];
    for (const name of BASELINE_NAMES)
      if (baselines[name][segment].ndcg10 > baselines[best][segment].ndcg10) best = name;
    let lists = scored.get(best);
    if (lists === undefined) {
      lists = ndcgByCase(cases, strategyLists(world, cases, tuned.strategies[best]));
      scored.set(best, lists);
    }
    return { ...pairedRatioInterval(model, lists, segmentCases(cases, segment)), baseline: best };
  };
  return { history: ratioFor("history"), cold: ratioFor("cold") };
}
