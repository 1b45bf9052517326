/**
 * Everything known at a cut time: candidate structures, feature context, reader profiles. The
 * same object serves training examples (cut = validCut), evaluation (cut = testCut) and the
 * bundle (cut = asOf).
 */
import {
  type FeatureContext,
  type Normalisation,
  type ReaderProfile,
  readerProfile,
  type VocabularyIndex,
} from "@gplay/common";
import { type Article, HOUR_MS, type TrainingData } from "./data.js";
import {
  ContentIndex,
  type CovisitationOptions,
  covisitationAt,
  DEFAULT_COVISITATION,
  popularityAt,
  readCountsAt,
  topK,
} from "./structures.js";

export interface CandidateOptions {
  popular: number;
  covisited: number;
  contentSimilar: number;
  freshHours: number;
  popularityHalfLifeHours: number;
}

export const DEFAULT_CANDIDATES: CandidateOptions = {
  popular: 100,
  covisited: 50,
  contentSimilar: 50,
  freshHours: 72,
  popularityHalfLifeHours: 6,
};

export interface World {
  cut: number;
  data: TrainingData;
  popularity: Map<string, number>;
  readCounts: Map<string, number>;
  totalReads: number;
  covisitation: Map<string, Map<string, number>>;
  /** Articles issued before the cut (the catalogue one can recommend at the cut). */
  catalogue: Article[];
  /** Fresh catalogue by popularity, best first. */
  popularRanking: string[];
  content: ContentIndex;
  context: FeatureContext;
  candidates: CandidateOptions;
  profile(userId: string): ReaderProfile;
}

export function buildWorld(
  data: TrainingData,
  cut: number,
  vocab: VocabularyIndex,
  candidates: CandidateOptions = DEFAULT_CANDIDATES,
  covisitation: CovisitationOptions = DEFAULT_COVISITATION,
  normalisation?: Normalisation,
): World {
  const popularity = popularityAt(data.events, cut, candidates.popularityHalfLifeHours);
  const readCounts = readCountsAt(data.events, cut);
  let totalReads = 0;
  for (const n of readCounts.values()) totalReads += n;
  const cov = covisitationAt(data, cut, covisitation);
  const catalogue = [...data.articles.values()].filter((a) => a.issued < cut);
  const fresh = catalogue.filter((a) => cut - a.issued <= candidates.freshHours * HOUR_MS);
  const freshScores = new Map(fresh.map((a) => [a.page, popularity.get(a.page) ?? 0]));
  const popularRanking = topK(freshScores, Math.max(candidates.popular * 3, 300));
  const catalogueSet = new Set(catalogue.map((a) => a.page));
  const context: FeatureContext = {
    asOf: cut,
    article: (page) => (catalogueSet.has(page) ? data.articles.get(page) : undefined),
    popularity: (page) => popularity.get(page) ?? 0,
    covisitation: (page) => cov.get(page),
    vocab,
    normalisation,
  };
  const profiles = new Map<string, ReaderProfile>();
  return {
    cut,
    data,
    popularity,
    readCounts,
    totalReads,
    covisitation: cov,
    catalogue,
    popularRanking,
    content: new ContentIndex(fresh),
    context,
    candidates,
    profile(userId) {
      let p = profiles.get(userId);
      if (p === undefined) {
        const reader = data.readers.get(userId);
        p = readerProfile(reader?.log ?? [], reader?.userType, context);
        if (profiles.size < 50_000) profiles.set(userId, p);
      }
      return p;
    },
  };
}

/**
 * The candidate pool of a reader at the cut: fresh popular + co-visited with recent reads +
 * content-similar to recent reads, without pages already read. Deterministic order.
 */
export function candidatePool(world: World, profile: ReaderProfile): string[] {
  const opts = world.candidates;
  const pool: string[] = [];
  const seen = new Set<string>(profile.read);
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      pool.push(p);
    }
  };
  let n = 0;
  for (const p of world.popularRanking) {
    if (n >= opts.popular) break;
    if (!profile.read.has(p)) {
      add(p);
      n++;
    }
  }
  const covScores = new Map<string, number>();
  for (const r of profile.recent)
    for (const [p, s] of world.covisitation.get(r) ?? []) {
      const a = world.context.article(p);
      if (a !== undefined) covScores.set(p, (covScores.get(p) ?? 0) + s);
    }
  for (const p of topK(covScores, opts.covisited, profile.read)) add(p);
  const vectors = profile.recent
    .map((r) => world.data.articles.get(r)?.vector)
    .filter((v): v is NonNullable<typeof v> => v !== undefined);
  for (const p of world.content.nearest(vectors, opts.contentSimilar, seen)) add(p);
  return pool;
}
