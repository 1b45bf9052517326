/**
 * The baselines, each tuned on the validation window and evaluated through the served
 * recommendation path (common's `recommend` with the baseline's scorer in the baseline's world): the
 * same candidate pool, exclusions and fill-up as the model, so the gate compares like with like and
 * the winner can be served as a bundle. Their parameters:
 *   popularity                 half-life of the decayed popularity (1 h … 3 days)
 *   recent-buffer              how many of the portal's latest reads make the buffer (or, with
 *                              `recent: "time"`, how many minutes of its latest reads make the window)
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
} from "@gplay/common";
import {
  evaluateLists,
  type NoveltyBasis,
  ndcgByCase,
  type PopulationFigures,
  pairedRatioInterval,
  type RatioInterval,
  segmentCases,
} from "./metrics.js";
import { servedLists, type WindowServing } from "./served-lists.js";
import type { EvalCase } from "./split.js";
import {
  type CovisitationOptions,
  covisitationTable,
  DEFAULT_COVISITATION,
  popularityAt,
  popularityTable,
  recentBuffer,
  recentWindow,
  type ServedPopularity,
} from "./structures.js";
import type { ServingPopularity, World } from "./world.js";

export { BASELINE_NAMES, type BaselineName };

export const HALF_LIFE_GRID_HOURS = [1, 2, 3, 6, 12, 24, 72] as const;
export const BUFFER_GRID_READS = [100, 300, 1_000, 3_000, 10_000] as const;
/** The recent window's lengths (minutes), chosen on the development worlds (docs/quality.md). */
export const WINDOW_GRID_MINUTES = [15, 30, 60, 120, 240] as const;

/**
 * How the recent-buffer baseline measures "recent": "time", the reads of the last M minutes (a window,
 * independent of the stream's rate: the validation window's whole portal, validacao's sample, the
 * api's night); "reads", the latest N reads (a buffer, as before issue #13's window).
 */
export const RECENT_MEASURES = ["time", "reads"] as const;
export type RecentMeasure = (typeof RECENT_MEASURES)[number];

/** The recent reads a recent-buffer strategy serves: a window of `minutes` if it names them, else a buffer of `reads`. */
export function recentPopularity(
  params: Readonly<Record<string, number>>,
): Exclude<ServingPopularity, { kind: "decayed" }> {
  return params.minutes !== undefined
    ? { kind: "window", minutes: params.minutes }
    : { kind: "buffer", reads: params.reads ?? BUFFER_GRID_READS[2] };
}
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
   * Decayed popularity, or the recent-buffer baseline when it is clearly better on the validation
   * window's new readers (on every reader when fewer than `MIN_COLD_READERS_TO_CHOOSE`): the model's
   * popularity, and the list a reader without history gets.
   */
  servingPopularity: ServingPopularity;
  /** The recent buffer's NDCG@10 ÷ decayed popularity's on the readers it was judged on, with its interval. */
  servingPopularityEvidence: RatioInterval;
  /** The popularity baseline's half-life (also the model's popularity tier and feature). */
  halfLifeHours: number;
  /** Validation NDCG@10 of each grid point, for the record. */
  grid: Record<string, number>;
}

/**
 * The popularity a bundle serves, at the world's cut and reference time: the model's (no strategy: the
 * world's own, decayed or a recent-click buffer) or a baseline strategy's. A recent-click buffer comes
 * with what advancing it needs, so every bundle that serves one (the model's popular tier, the
 * recent-buffer baseline, a refreshed champion) records it the same way and the api's live world
 * moves it with the clicks `/events` accepts.
 */
export function servedPopularity(world: World, strategy?: BaselineStrategy): ServedPopularity {
  const base = world.candidates.popularityHalfLifeHours;
  if (strategy === undefined)
    return {
      popularity: world.popularity,
      halfLifeHours: base,
      ...(world.servingBuffer === undefined ? {} : { buffer: world.servingBuffer }),
      ...(world.servingWindow === undefined ? {} : { window: world.servingWindow }),
    };
  const halfLifeHours = strategy.params.halfLifeHours ?? base;
  const decayed =
    halfLifeHours === base
      ? world.decayed
      : popularityAt(world.data.events, world.cut, halfLifeHours, world.asOf);
  if (strategy.name !== "recent-buffer") return { popularity: decayed, halfLifeHours };
  const recent = recentPopularity(strategy.params);
  if (recent.kind === "window")
    return {
      ...recentWindow(world.data.events, world.cut, recent.minutes, decayed, world.asOf),
      halfLifeHours,
    };
  return { ...recentBuffer(world.data.events, world.cut, recent.reads, decayed), halfLifeHours };
}

/** The popularity a strategy serves with, at the world's cut and reference time. */
export function strategyPopularity(world: World, strategy: BaselineStrategy): Map<string, number> {
  return servedPopularity(world, strategy).popularity;
}

/** A bundle's candidate tables in `world`: its served popularity (see `servedPopularity`) and co-visitation. */
export function bundleTables(
  world: World,
  strategy?: BaselineStrategy,
  covisitation: Pick<CovisitationOptions, "topK"> = DEFAULT_COVISITATION,
) {
  const served = servedPopularity(world, strategy);
  return {
    halfLifeHours: served.halfLifeHours,
    popularity: popularityTable(served, world.popularityScales, world.asOf, world.portal),
    covisitation: covisitationTable(world.covisitation, covisitation.topK),
  };
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
    portal: world.portal,
    candidates: {
      ...world.candidates,
      popularityHalfLifeHours: strategy.params.halfLifeHours ?? world.candidates.popularityHalfLifeHours,
    },
  });
}

/**
 * A window served the static way: every case in `world` (a strategy in `world` with its popularity),
 * at the window's start. Baseline tuning serves the validation window so when not given its visits.
 */
export function staticServing(world: World): WindowServing {
  return {
    worldsOf(strategy) {
      const served = strategy === undefined ? world.served : strategyWorld(world, strategy);
      return () => served;
    },
    profile: (userId) => world.profile(userId),
  };
}

/** Figures of one strategy on `cases`, through the served path. */
export function evaluateStrategy(
  serving: WindowServing,
  cases: readonly EvalCase[],
  strategy: BaselineStrategy,
  basis: NoveltyBasis,
): PopulationFigures {
  return evaluateLists(cases, strategyLists(serving, cases, strategy), basis);
}

/** The lists one strategy serves `cases`' readers, through the served path. */
export function strategyLists(
  serving: WindowServing,
  cases: readonly EvalCase[],
  strategy: BaselineStrategy,
): string[][] {
  return servedLists(
    serving.worldsOf(strategy),
    serving.profile,
    cases,
    baselineScorer(strategy.name, strategy.params),
  ).lists;
}

/**
 * Decayed popularity or the recent-click buffer (each with its tuned parameter), from their NDCG@10
 * per reader on the validation window. The serving popularity is the whole list of a reader without
 * history, but only one feature and one candidate tier of a reader with history: so it is judged on
 * the new readers when there are enough of them to tell, else on every reader. Decayed popularity
 * stays unless the buffer is better beyond the noise: its paired-bootstrap interval against decayed
 * popularity lies above 1, a 90 % interval widened for the `tried` recent buffers the best was
 * chosen from (Bonferroni: 1 − 10 % ÷ tried; with five, 98 %). A window's narrow winner did not carry
 * over to the next windows, and the best of five is a narrow winner more often than one is.
 */
export function chooseServingPopularity(
  decayed: Float64Array,
  buffer: Float64Array,
  cases: readonly EvalCase[],
  recent: Exclude<ServingPopularity, { kind: "decayed" }>,
  tried = 1,
): { popularity: ServingPopularity; evidence: RatioInterval } {
  const cold = segmentCases(cases, "cold");
  const judged = cold.length >= MIN_COLD_READERS_TO_CHOOSE ? cold : cases.map((_, i) => i);
  const evidence = pairedRatioInterval(buffer, decayed, judged, { level: 1 - 0.1 / tried });
  return {
    popularity: evidence.low > 1 ? recent : { kind: "decayed" },
    evidence,
  };
}

/**
 * Tunes every baseline's parameters and chooses the serving popularity on the validation window (world
 * at validCut), its lists served as `serving` serves them: as the api serves them (training passes the
 * window's `liveServing`: each reader at the first access, in the hour world of that access) or, by
 * default, at the window's start. The grids and the evidence rule are the same either way. The recent
 * reads are measured in reads (`BUFFER_GRID_READS`) unless `recent` is "time" (`WINDOW_GRID_MINUTES`).
 */
export function tuneBaselines(
  world: World,
  cases: readonly EvalCase[],
  serving: WindowServing = staticServing(world),
  recent: RecentMeasure = "reads",
): TunedBaselines {
  const basis = noveltyBasis(world);
  const grid: Record<string, number> = {};
  const perReader = new Map<BaselineStrategy, Float64Array>();
  const best = <T>(points: readonly T[], strategy: (p: T) => BaselineStrategy, label: (p: T) => string) => {
    let chosen = strategy(points[0] as T);
    let top = -1;
    for (const p of points) {
      const s = strategy(p);
      const lists = strategyLists(serving, cases, s);
      const ndcg = evaluateLists(cases, lists, basis).all.ndcg10;
      grid[label(p)] = ndcg;
      if (ndcg > top) {
        top = ndcg;
        chosen = s;
        perReader.set(s, ndcgByCase(cases, lists));
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
  const recentStrategy =
    recent === "time"
      ? best(
          WINDOW_GRID_MINUTES,
          (m) => ({ name: "recent-buffer", params: { minutes: m } }),
          (m) => `recent-buffer.minutes=${m}`,
        )
      : best(
          BUFFER_GRID_READS,
          (n) => ({ name: "recent-buffer", params: { reads: n } }),
          (n) => `recent-buffer.reads=${n}`,
        );
  const sectionRegion = best(
    AFFINITY_WEIGHT_GRID,
    (w) => ({ name: "section-region-popularity", params: { halfLifeHours, affinityWeight: w } }),
    (w) => `section-region-popularity.weight=${w}`,
  );
  const choice = chooseServingPopularity(
    perReader.get(popularity) as Float64Array,
    perReader.get(recentStrategy) as Float64Array,
    cases,
    recentPopularity(recentStrategy.params),
    recent === "time" ? WINDOW_GRID_MINUTES.length : BUFFER_GRID_READS.length,
  );
  return {
    halfLifeHours,
    grid,
    servingPopularity: choice.popularity,
    servingPopularityEvidence: choice.evidence,
    strategies: {
      popularity,
      "recent-buffer": recentStrategy,
      "section-region-popularity": sectionRegion,
      covisitation: { name: "covisitation", params: { halfLifeHours } },
      coldstart: { name: "coldstart", params: { halfLifeHours } },
    },
  };
}

/** Runs every baseline with its tuned parameters on a window, served as `serving` serves it. */
export function evaluateBaselines(
  serving: WindowServing,
  cases: readonly EvalCase[],
  tuned: TunedBaselines,
  basis: NoveltyBasis,
): Record<BaselineName, PopulationFigures> {
  return Object.fromEntries(
    BASELINE_NAMES.map((name) => [name, evaluateStrategy(serving, cases, tuned.strategies[name], basis)]),
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
  serving: WindowServing,
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
      lists = ndcgByCase(cases, strategyLists(serving, cases, tuned.strategies[best]));
      scored.set(best, lists);
    }
    return { ...pairedRatioInterval(model, lists, segmentCases(cases, segment)), baseline: best };
  };
  return { history: ratioFor("history"), cold: ratioFor("cold") };
}
