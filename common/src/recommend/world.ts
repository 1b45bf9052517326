/**
 * What the recommender knows at a reference time: the catalogue one may recommend, the candidate
 * structures (recency-decayed popularity, co-visitation, a content index over fresh articles) and the
 * candidate budgets. Training builds one per split cut from the snapshot's interactions; the api builds
 * one from the served bundle's tables and the items it has loaded. Both go through
 * `buildRecommendationWorld`, so the candidates, features and fill-ups are defined once.
 */
import type { LoadedBundle } from "../bundle/read-bundle.js";
import {
  type BundleManifest,
  type CovisitationTable,
  POPULARITY_SCALES_HOURS,
  type PopularityTable,
} from "../contracts/model-bundle.js";
import type { ArticleFeatureSource, FeatureContext, PortalReads } from "../features/feature-builder.js";
import { ContentIndex, topK } from "./content-index.js";
import { EXPOSURE_HALF_LIFE_HOURS, type PopularityTables, portalExposure } from "./popularity.js";

const HOUR_MS = 3_600_000;
/** The index of the exposure's half-life among `POPULARITY_SCALES_HOURS` (the 24 h scale). */
const POPULARITY_SCALES_HOURS_INDEX = POPULARITY_SCALES_HOURS.indexOf(EXPOSURE_HALF_LIFE_HOURS);

/** Candidate generation: how many articles each tier proposes, and what counts as fresh. */
export interface CandidateOptions {
  /** Fresh articles by recency-decayed popularity. */
  popular: number;
  /** Co-visited with the reader's recent reads. */
  covisited: number;
  /** Closest in content to the reader's recent reads (fresh articles only). */
  contentSimilar: number;
  /**
   * Fresh articles popular within the reader's own top sections and regions, split by their shares
   * (`scopeRanking`); 0 turns the tier off, as in bundles written before it.
   */
  scoped: number;
  /** Articles issued at most this many hours before the reference time are fresh. */
  freshHours: number;
  /** Half-life of the popularity that orders the popular tier and feeds the popularity feature. */
  popularityHalfLifeHours: number;
}

export const DEFAULT_CANDIDATES: CandidateOptions = {
  popular: 100,
  covisited: 50,
  contentSimilar: 50,
  scoped: 50,
  freshHours: 72,
  popularityHalfLifeHours: 6,
};

/** The catalogue as the world reads it: a lookup, and every article's page and issue time. */
export interface ArticleCatalogue {
  get(page: string): ArticleFeatureSource | undefined;
  /** Every known article (page and issue time suffice; `get` gives the rest). */
  entries(): Iterable<{ page: string; issued: number }>;
}

export interface WorldInputs {
  /** Reference time ("now"): article ages and the freshness window count from it. */
  asOf: number;
  /** A reader's interactions before this time feed the features (default `asOf`). */
  readsBefore?: number;
  catalogue: ArticleCatalogue;
  /** Recency-decayed reads per page as of `asOf` (absent = 0). */
  popularity: ReadonlyMap<string, number>;
  /** Reads per page decayed with each of `POPULARITY_SCALES_HOURS` (absent = never read). */
  popularityScales: ReadonlyMap<string, readonly number[]>;
  /** Co-visited neighbours per page, best first. */
  covisitation: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** The portal's reads per bucket before `asOf` (`portalReads`); absent → every exposure 0. */
  portal?: ReadonlyMap<number, number> | undefined;
  candidates: CandidateOptions;
}

export interface RecommendationWorld {
  readonly asOf: number;
  readonly candidates: CandidateOptions;
  /** The feature context without the model's vocabularies and normalisation. */
  readonly features: Omit<FeatureContext, "vocab" | "normalisation">;
  /** Fresh articles by popularity, best first (the popular tier and the cold-start list). */
  readonly popularRanking: readonly string[];
  readonly content: ContentIndex;
  /** Every article issued before `asOf` by popularity, then the unread newest: the fill-up when the pool runs short. */
  fillRanking(): readonly string[];
  /** Fresh articles (issued within `freshHours` before `asOf`). */
  isFresh(page: string): boolean;
  /**
   * Fresh articles of one section or region by popularity, best first (the scoped tier): each scope's
   * ranking is sorted once per world, on first use, and shared by every reader.
   */
  scopeRanking(kind: ScopeKind, key: string): readonly string[];
  /**
   * `page`'s co-visited neighbours that are articles of this world, in the table's order, as parallel
   * arrays: computed once per page (the same for every reader who read it).
   */
  covisitedArticles(page: string): CovisitedArticles;
}

/** The two article scopes a reader's profile has shares of. */
export type ScopeKind = "section" | "region";

/** Co-visited neighbours of one page: `pages[i]` with score `scores[i]`. */
export interface CovisitedArticles {
  readonly pages: readonly string[];
  readonly scores: readonly number[];
}

const NO_NEIGHBOURS: CovisitedArticles = { pages: [], scores: [] };

/**
 * The world of a reference time; only articles issued before `asOf` exist in it. A world is a snapshot
 * of its catalogue: it reads each article's source once (a catalogue that changes makes a new world,
 * as the api's refresh does).
 */
export function buildRecommendationWorld(inputs: WorldInputs): RecommendationWorld {
  const { asOf, catalogue, popularity, popularityScales, covisitation, candidates, portal } = inputs;
  const freshFrom = asOf - candidates.freshHours * HOUR_MS;
  const known = new Map<string, number>();
  const fresh = new Map<string, number>();
  for (const { page, issued } of catalogue.entries()) {
    if (issued >= asOf) continue;
    known.set(page, issued);
    if (issued >= freshFrom) fresh.set(page, popularity.get(page) ?? 0);
  }
  const popularRanking = topK(fresh, Math.max(candidates.popular * 3, 300));
  // The catalogue's source of an article, read once per world and kept for the articles asked for (the
  // features ask for every candidate's, the profile for every read's): one lookup per call after that.
  const sources = new Map<string, ArticleFeatureSource | null>();
  const article = (page: string): ArticleFeatureSource | undefined => {
    let source = sources.get(page);
    if (source === undefined) {
      if (!known.has(page)) return undefined;
      source = catalogue.get(page) ?? null;
      sources.set(page, source);
    }
    return source ?? undefined;
  };
  const freshArticles: ArticleFeatureSource[] = [];
  // Fresh articles' popularity per section and per region, grouped once; each scope's order is
  // sorted when first asked for and kept.
  const scopes: Record<ScopeKind, Map<string, Map<string, number>>> = {
    section: new Map(),
    region: new Map(),
  };
  const group = (kind: ScopeKind, key: string, page: string, p: number) => {
    let members = scopes[kind].get(key);
    if (members === undefined) {
      members = new Map();
      scopes[kind].set(key, members);
    }
    members.set(page, p);
  };
  for (const [page, p] of fresh) {
    const a = catalogue.get(page);
    if (a === undefined) continue;
    freshArticles.push(a);
    group("section", a.section, page, p);
    group("region", a.region, page, p);
  }
  const scopeRankings: Record<ScopeKind, Map<string, readonly string[]>> = {
    section: new Map(),
    region: new Map(),
  };
  let fill: string[] | undefined;
  const neighbours = new Map<string, CovisitedArticles>();
  // Exposure and the fresh articles' mean read share: computed on the first feature that asks.
  let exposureOf: ((issued: number) => number) | undefined;
  const exposure = (issued: number): number => {
    if (portal === undefined) return 0;
    exposureOf ??= portalExposure(portal, asOf);
    return exposureOf(issued);
  };
  let meanShare: number | undefined;
  const scaleOf = POPULARITY_SCALES_HOURS_INDEX;
  const meanReadShare = (): number => {
    if (meanShare === undefined) {
      let reads = 0;
      let exposed = 0;
      for (const a of freshArticles) {
        reads += popularityScales.get(a.page)?.[scaleOf] ?? 0;
        exposed += exposure(a.issued);
      }
      meanShare = exposed > 0 ? reads / exposed : 0;
    }
    return meanShare;
  };
  let portalReads: PortalReads | undefined;
  const sumReads = (): PortalReads => {
    if (portalReads === undefined) {
      let total = 0;
      for (const p of popularity.values()) total += p;
      const scales: number[] = [];
      for (const v of popularityScales.values())
        v.forEach((p, k) => {
          scales[k] = (scales[k] ?? 0) + p;
        });
      portalReads = { popularity: total, scales };
    }
    return portalReads;
  };
  return {
    asOf,
    candidates,
    features: {
      asOf,
      ...(inputs.readsBefore === undefined ? {} : { readsBefore: inputs.readsBefore }),
      article,
      popularity: (page) => popularity.get(page) ?? 0,
      popularityScales: (page) => popularityScales.get(page),
      covisitation: (page) => covisitation.get(page),
      exposure,
      meanReadShare,
      portalReads: sumReads,
    },
    popularRanking,
    content: new ContentIndex(freshArticles),
    fillRanking() {
      if (fill === undefined) {
        const read = new Map<string, number>();
        for (const page of known.keys()) {
          const p = popularity.get(page) ?? 0;
          if (p > 0) read.set(page, p);
        }
        const byPopularity = topK(read, read.size);
        const unread = [...known]
          .filter(([page]) => !read.has(page))
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .map(([page]) => page);
        fill = [...byPopularity, ...unread];
      }
      return fill;
    },
    isFresh: (page) => fresh.has(page),
    scopeRanking(kind, key) {
      let ranking = scopeRankings[kind].get(key);
      if (ranking === undefined) {
        const members = scopes[kind].get(key);
        ranking = members === undefined ? [] : topK(members, members.size);
        scopeRankings[kind].set(key, ranking);
      }
      return ranking;
    },
    covisitedArticles(page) {
      let known = neighbours.get(page);
      if (known === undefined) {
        const table = covisitation.get(page);
        if (table === undefined) known = NO_NEIGHBOURS;
        else {
          const pages: string[] = [];
          const scores: number[] = [];
          for (const [p, score] of table)
            if (article(p) !== undefined) {
              pages.push(p);
              scores.push(score);
            }
          known = { pages, scores };
        }
        neighbours.set(page, known);
      }
      return known;
    },
  };
}

/** A catalogue over a map of article sources (training's articles). */
export function mapCatalogue(articles: ReadonlyMap<string, ArticleFeatureSource>): ArticleCatalogue {
  return { get: (page) => articles.get(page), entries: () => articles.values() };
}

/** Popularity and co-visitation lookups from a bundle's tables. */
export function tableStructures(
  popularity: PopularityTable,
  covisitation: CovisitationTable,
): Pick<WorldInputs, "popularity" | "popularityScales" | "covisitation" | "portal"> {
  const cov = new Map<string, ReadonlyMap<string, number>>();
  for (const [page, list] of Object.entries(covisitation.neighbours)) cov.set(page, new Map(list));
  return {
    popularity: new Map(popularity.entries),
    popularityScales: new Map(Object.entries(popularity.scales)),
    covisitation: cov,
    ...(popularity.portal === undefined ? {} : { portal: new Map(popularity.portal) }),
  };
}

/**
 * The worlds a bundle serves: its reference time, candidate budgets and tables (converted once) over
 * any catalogue. The api builds one over the articles it has loaded on each refresh (every read of a
 * reader counts); training over the snapshot's articles, to evaluate exactly what the api will serve.
 * With `live` (the bundle's tables advanced with the reads since its reference time: `LivePopularity`),
 * the world is that of `live.asOf`: the catalogue's articles issued before it, ages and freshness
 * counted from it, its popularity; without, the bundle's own.
 */
export function bundleWorlds(
  bundle: Pick<LoadedBundle, "popularity" | "covisitation"> & {
    manifest: Pick<BundleManifest, "asOf" | "candidates">;
  },
): (catalogue: ArticleCatalogue, readsBefore?: number, live?: PopularityTables) => RecommendationWorld {
  const structures = tableStructures(bundle.popularity, bundle.covisitation);
  return (catalogue, readsBefore = Number.POSITIVE_INFINITY, live = undefined) =>
    buildRecommendationWorld({
      asOf: live?.asOf ?? bundle.manifest.asOf,
      readsBefore,
      catalogue,
      candidates: bundle.manifest.candidates,
      ...structures,
      ...(live === undefined
        ? {}
        : { popularity: live.popularity, popularityScales: live.popularityScales, portal: live.portal }),
    });
}
