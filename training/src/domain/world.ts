/**
 * Everything known at a cut time: candidate structures, feature context, reader profiles. The
 * same object serves training examples (cut = validCut), evaluation (cut = testCut) and the
 * bundle (reference time = the snapshot's asOf, every interaction included). Candidate generation,
 * features and ranking are common's recommendation path over `served`, the world the api builds
 * from the bundle's tables.
 */
import {
  buildRecommendationWorld,
  type CandidateOptions,
  candidatePool as commonCandidatePool,
  DEFAULT_CANDIDATES,
  type FeatureContext,
  mapCatalogue,
  type Normalisation,
  portalReads,
  type ReaderProfile,
  type RecommendationWorld,
  readerProfile,
  type VocabularyIndex,
} from "@gplay/common";
import type { Article, TrainingData } from "./data.js";
import {
  type CovisitationOptions,
  covisitationAt,
  DEFAULT_COVISITATION,
  popularityAt,
  popularityScalesAt,
  readCountsAt,
  recentBuffer,
  recentWindow,
  type ServedBuffer,
  type ServedWindow,
} from "./structures.js";

export type { CandidateOptions };
export { DEFAULT_CANDIDATES };

export interface World {
  /** Interactions before this time feed the world (the split's cut; asOf + 1 for the bundle). */
  cut: number;
  /** Reference time: article ages and freshness count from it (the cut, or the snapshot's asOf). */
  asOf: number;
  data: TrainingData;
  popularity: Map<string, number>;
  /** Decayed reads with the candidates' half-life (the same map as `popularity` unless a buffer serves). */
  decayed: Map<string, number>;
  /** When a recent-click buffer serves: what advancing it needs, for the bundle. */
  servingBuffer: ServedBuffer | undefined;
  /** When a recent window serves: what advancing it needs, for the bundle. */
  servingWindow: ServedWindow | undefined;
  popularityScales: Map<string, number[]>;
  /** The portal's reads per bucket before the cut (`portalReads`): articles' exposure. */
  portal: Map<number, number>;
  readCounts: Map<string, number>;
  totalReads: number;
  covisitation: Map<string, Map<string, number>>;
  /** Articles issued before the reference time (the catalogue one can recommend). */
  catalogue: Article[];
  /** The world as the recommendation path reads it. */
  served: RecommendationWorld;
  /** Raw feature context (no normalisation) with the training vocabularies. */
  context: FeatureContext;
  candidates: CandidateOptions;
  profile(userId: string): ReaderProfile;
}

/**
 * What orders the popular tier and feeds the popularity feature: decayed reads, or the recent reads'
 * counts — those of the last `minutes` (a window), or, as bundles before it, the latest `reads` (a buffer).
 */
export type ServingPopularity =
  | { kind: "decayed" }
  | { kind: "buffer"; reads: number }
  | { kind: "window"; minutes: number };

/** How a serving popularity reads in a bundle's params and the logs: "decayed", "buffer:N", "window:M". */
export function servingPopularityName(p: ServingPopularity): string {
  if (p.kind === "buffer") return `buffer:${p.reads}`;
  if (p.kind === "window") return `window:${p.minutes}`;
  return "decayed";
}

export interface WorldTimes {
  /** Reference time (default: the cut). */
  asOf?: number;
  /** Default: decayed with the candidates' half-life. */
  popularity?: ServingPopularity;
}

export function buildWorld(
  data: TrainingData,
  cut: number,
  vocab: VocabularyIndex,
  candidates: CandidateOptions = DEFAULT_CANDIDATES,
  covisitation: CovisitationOptions = DEFAULT_COVISITATION,
  normalisation?: Normalisation,
  times: WorldTimes = {},
): World {
  const asOf = times.asOf ?? cut;
  const decayed = popularityAt(data.events, cut, candidates.popularityHalfLifeHours, asOf);
  const buffer =
    times.popularity?.kind === "buffer"
      ? recentBuffer(data.events, cut, times.popularity.reads, decayed)
      : undefined;
  const window =
    times.popularity?.kind === "window"
      ? recentWindow(data.events, cut, times.popularity.minutes, decayed, asOf)
      : undefined;
  const servingBuffer = buffer?.buffer;
  const servingWindow = window?.window;
  const popularity = buffer?.popularity ?? window?.popularity ?? decayed;
  const popularityScales = popularityScalesAt(data.events, cut, asOf);
  const portal = portalReads(data.events, cut);
  const readCounts = readCountsAt(data.events, cut);
  let totalReads = 0;
  for (const n of readCounts.values()) totalReads += n;
  const cov = covisitationAt(data, cut, covisitation);
  const served = buildRecommendationWorld({
    asOf,
    readsBefore: cut,
    catalogue: mapCatalogue(data.articles),
    popularity,
    popularityScales,
    covisitation: cov,
    portal,
    candidates,
  });
  const catalogue = [...data.articles.values()].filter((a) => a.issued < asOf);
  const context: FeatureContext = { ...served.features, vocab, normalisation };
  const profiles = new Map<string, ReaderProfile>();
  const profileOf = profileIn(data, served);
  return {
    cut,
    asOf,
    data,
    popularity,
    decayed,
    servingBuffer,
    servingWindow,
    popularityScales,
    portal,
    readCounts,
    totalReads,
    covisitation: cov,
    catalogue,
    served,
    context,
    candidates,
    profile(userId) {
      let p = profiles.get(userId);
      if (p === undefined) {
        p = profileOf(userId);
        if (profiles.size < 50_000) profiles.set(userId, p);
      }
      return p;
    },
  };
}

/** A snapshot reader's profile in `world` (its reference time, reads and articles); no history → empty. */
export function profileIn(
  data: Pick<TrainingData, "readers">,
  world: Pick<RecommendationWorld, "features">,
): (userId: string) => ReaderProfile {
  return (userId) => {
    const reader = data.readers.get(userId);
    return readerProfile(reader?.log ?? [], reader?.userType, world.features);
  };
}

/** The pages of a reader's candidate pool at the cut (common's `candidatePool`). */
export function candidatePool(world: World, profile: ReaderProfile): string[] {
  return commonCandidatePool(world.served, profile).map((e) => e.page);
}
