/**
 * A window evaluated as the api serves it (docs/quality.md, "What a static list can reach"): each case
 * (a reader with targets in the window) is served at its first access in the window, from the world of
 * the window's start advanced with every portal read in the window before that access — the api's live
 * world: the strategy's bundle tables at the window's start, advanced by common's `bundleLivePopularity`
 * with the reads fed as `/events` clicks, rebuilt by common's `bundleWorlds` at the latest read's time
 * with the articles issued before it. Worlds are rebuilt once per hour bucket (the api every 5 minutes by
 * default), so a visit does not see the reads and articles of its own hour before it: pessimistic by up
 * to the rebuild interval. The profile is the reader's history before the window. Every scorer of a
 * strategy's popularity (the model's shrinkage trials, the baselines sharing it, the champion) is served
 * from the same hour worlds, built once per window and popularity.
 */
import {
  type ArticleCatalogue,
  type BundleManifest,
  bundleLivePopularity,
  bundleWorlds,
  type LoadedBundle,
  mapCatalogue,
  type RecommendationWorld,
  type TimedRead,
} from "@gplay/common";
import { type BaselineStrategy, bundleTables, recentPopularity } from "./baselines.js";
import { HOUR_MS, type TrainingData } from "./data.js";
import type { WindowServing } from "./served-lists.js";
import type { EvalCase } from "./split.js";
import { type ServingPopularity, servingPopularityName, type World } from "./world.js";

/**
 * Where a window's readers are served, for a setting that builds on a window (training examples,
 * baseline tuning): "visits", each reader at the first access in the window, in the world the api
 * serves then (the hour worlds below, as the evaluation); "window-start", every reader in the world of
 * the window's start.
 */
export const SERVED_AT = ["visits", "window-start"] as const;
export type ServedAt = (typeof SERVED_AT)[number];

/** The hour buckets' width: a visit is served the world rebuilt at its bucket's start. */
export const REBUILD_EVERY_MS = HOUR_MS;

/** What the api loads of a bundle to serve and advance it. */
export type ServedTables = Pick<LoadedBundle, "popularity" | "covisitation"> & {
  manifest: Pick<BundleManifest, "asOf" | "candidates" | "strategy" | "params">;
};

/** When a window's readers visit, and what the portal read meanwhile. */
export interface WindowVisits {
  /** Each case's first access in the window (ms), in case order. */
  first: readonly number[];
  /** Every reader's reads in the window (sampled or not), by time: the `/events` clicks. */
  reads: readonly TimedRead[];
}

/**
 * A split window's visits: first accesses in `[from, to]` from the readers' logs; the portal's reads
 * there. (A read at exactly `from` is counted by neither the window start's tables, which hold the
 * reads before it, nor the live tables, which take reads after their reference time.)
 */
export function windowVisits(
  data: Pick<TrainingData, "readers" | "events">,
  cases: readonly EvalCase[],
  from: number,
  to: number,
): WindowVisits {
  const first = cases.map((c) => {
    let at = Number.POSITIVE_INFINITY;
    for (const i of data.readers.get(c.userId)?.log ?? [])
      if (i.timestamp >= from && i.timestamp <= to && i.timestamp < at) at = i.timestamp;
    return at;
  });
  const reads = data.events
    .filter((e) => e.timestamp >= from && e.timestamp <= to)
    .map((e) => ({ page: e.page, timestamp: e.timestamp }));
  return { first, reads };
}

/** The validacao accesses' visits: each reader's first access, and every validacao read by time. */
export function validacaoVisits(
  data: Pick<TrainingData, "validation">,
  cases: readonly EvalCase[],
): WindowVisits {
  const first = cases.map((c) => {
    let at = Number.POSITIVE_INFINITY;
    for (const a of data.validation.get(c.userId) ?? []) if (a.timestamp < at) at = a.timestamp;
    return at;
  });
  const reads: TimedRead[] = [];
  for (const accesses of data.validation.values())
    for (const a of accesses) reads.push({ page: a.page, timestamp: a.timestamp });
  reads.sort((a, b) => a.timestamp - b.timestamp);
  return { first, reads };
}

/** A strategy's bundle tables at `world`'s reference time (what `registerBaseline` or the model's bundle writes). */
export function servedTables(world: World, strategy?: BaselineStrategy): ServedTables {
  const { halfLifeHours, popularity, covisitation } = bundleTables(world, strategy);
  return {
    manifest: {
      asOf: world.asOf,
      candidates: { ...world.candidates, popularityHalfLifeHours: halfLifeHours },
      strategy:
        strategy === undefined
          ? { kind: "model" }
          : { kind: "baseline", name: strategy.name, params: { ...strategy.params } },
      params: {},
    },
    popularity,
    covisitation,
  };
}

/** One hour bucket: the world its cases (indices into the window's cases) are served from. */
export interface HourWorld {
  start: number;
  world: RecommendationWorld;
  cases: number[];
}

/**
 * The worlds a bundle's tables serve a window's visits from, one per hour bucket with a visit: the
 * tables advanced with every read before the bucket's start (`bundleLivePopularity`), the world rebuilt
 * at the latest read's time (`bundleWorlds`), as the api does; before any read, the tables' own world.
 */
export function hourWorlds(
  tables: ServedTables,
  catalogue: ArticleCatalogue,
  readsBefore: number,
  visits: WindowVisits,
  admits: (page: string) => boolean,
  rebuildEveryMs = REBUILD_EVERY_MS,
): HourWorld[] {
  const worldOf = bundleWorlds(tables);
  const live = bundleLivePopularity(tables, admits);
  const order = visits.first.map((_, i) => i);
  order.sort((a, b) => (visits.first[a] as number) - (visits.first[b] as number) || a - b);
  let still: RecommendationWorld | undefined;
  const out: HourWorld[] = [];
  let next = 0;
  for (const i of order) {
    const start = Math.floor((visits.first[i] as number) / rebuildEveryMs) * rebuildEveryMs;
    let bucket = out[out.length - 1];
    if (bucket === undefined || bucket.start !== start) {
      while (next < visits.reads.length && (visits.reads[next] as TimedRead).timestamp < start)
        live.record(visits.reads[next++] as TimedRead);
      // As the api: the tables' own world until a read after their reference time arrives.
      let world: RecommendationWorld;
      if (live.moved) world = worldOf(catalogue, readsBefore, live.tables());
      else {
        still ??= worldOf(catalogue, readsBefore);
        world = still;
      }
      bucket = { start, world, cases: [] };
      out.push(bucket);
    }
    bucket.cases.push(i);
  }
  return out;
}

/**
 * What a served popularity is (reference time, decayed reads, a recent window of how many minutes or a
 * recent-click buffer of how many reads, half-life): tables and strategies with the same key are served
 * the same hour worlds.
 */
function popularityKey(asOf: number, halfLifeHours: number, popularity: ServingPopularity): string {
  return `${asOf}:${servingPopularityName(popularity)}:${halfLifeHours}`;
}

/** The serving popularity a world or bundle's tables declare. */
function declared(tables: {
  buffer?: { reads: number } | undefined;
  window?: { minutes: number } | undefined;
}): ServingPopularity {
  if (tables.buffer !== undefined) return { kind: "buffer", reads: tables.buffer.reads };
  if (tables.window !== undefined) return { kind: "window", minutes: tables.window.minutes };
  return { kind: "decayed" };
}

/** The key of the popularity a strategy is served with in `world` (none: the world's own), as `servedPopularity` makes it. */
function strategyKey(world: World, strategy?: BaselineStrategy): string {
  const base = world.candidates.popularityHalfLifeHours;
  if (strategy === undefined)
    return popularityKey(
      world.asOf,
      base,
      declared({ buffer: world.servingBuffer, window: world.servingWindow }),
    );
  return popularityKey(
    world.asOf,
    strategy.params.halfLifeHours ?? base,
    strategy.name === "recent-buffer" ? recentPopularity(strategy.params) : { kind: "decayed" },
  );
}

/**
 * The key of a bundle's tables read back: the popularity they declare, when it is `world`'s own (the
 * model's bundle written from `world`: its tables are the strategies' of that popularity, so they share
 * their hour worlds); else a key of their own.
 */
function tablesKey(world: World, tables: ServedTables): string {
  const key = popularityKey(
    tables.manifest.asOf,
    tables.popularity.halfLifeHours,
    declared(tables.popularity),
  );
  return key === strategyKey(world) ? key : "tables";
}

/**
 * A window served as the api serves it: each case in the hour world of its first access, for the
 * model (its popularity at `world`, or `model`'s tables: the bundle as written) and each baseline
 * strategy. The hour worlds are built once per popularity and kept for every later scorer: `model`'s
 * tables, when they declare `world`'s popularity, serve the strategies of that popularity too.
 */
export function liveServing(
  world: World,
  visits: WindowVisits,
  options: { model?: ServedTables; rebuildEveryMs?: number } = {},
): WindowServing & { worlds: number } {
  const catalogue = mapCatalogue(world.data.articles);
  const admits = (page: string) => world.data.articles.has(page);
  const modelKey = options.model === undefined ? strategyKey(world) : tablesKey(world, options.model);
  const built = new Map<string, (caseIndex: number) => RecommendationWorld>();
  let worlds = 0;
  return {
    get worlds() {
      return worlds;
    },
    worldsOf(s) {
      const fromModel = s === undefined && options.model !== undefined;
      const key = fromModel ? modelKey : strategyKey(world, s);
      let of = built.get(key);
      if (of === undefined) {
        const tables = fromModel ? (options.model as ServedTables) : servedTables(world, s);
        const hours = hourWorlds(tables, catalogue, world.cut, visits, admits, options.rebuildEveryMs);
        worlds += hours.length;
        const byCase: RecommendationWorld[] = new Array(visits.first.length);
        for (const h of hours) for (const i of h.cases) byCase[i] = h.world;
        of = (i) => byCase[i] as RecommendationWorld;
        built.set(key, of);
      }
      return of;
    },
    profile: (userId) => world.profile(userId),
  };
}
