/**
 * The baselines as scorers over the served recommendation path: each ranks the same candidate pool
 * the model ranks, in the same world, so a baseline bundle is served exactly like a model bundle and
 * the gate compares like with like. Their popularity is the world's (a decayed popularity with the
 * baseline's half-life, or the counts of the most recent reads for the recent-click buffer).
 */
import { BASELINE_NAMES, type BaselineName } from "../contracts/model-bundle.js";
import type { ReaderProfile } from "../features/feature-builder.js";
import type { Scorer } from "./recommend.js";
import type { RecommendationWorld } from "./world.js";

export { BASELINE_NAMES, type BaselineName };

/** Scores that order pages by `keys` lexicographically (each key higher is better): 1/(1+rank). */
function lexicographic(pages: readonly string[], keys: (page: string) => readonly number[]): number[] {
  const rows = pages.map((page, i) => ({ i, page, k: keys(page) }));
  rows.sort((a, b) => {
    for (let j = 0; j < a.k.length; j++) {
      const d = (b.k[j] as number) - (a.k[j] as number);
      if (d !== 0) return d;
    }
    return a.page < b.page ? -1 : 1;
  });
  const scores = new Array<number>(pages.length);
  rows.forEach((r, rank) => {
    scores[r.i] = 1 / (1 + rank);
  });
  return scores;
}

function covisitationSums(profile: ReaderProfile, world: RecommendationWorld): Map<string, number> {
  const sums = new Map<string, number>();
  for (const r of profile.recent)
    for (const [p, s] of world.features.covisitation(r) ?? []) sums.set(p, (sums.get(p) ?? 0) + s);
  return sums;
}

/** The scorer of a baseline with its tuned parameters. */
export function baselineScorer(name: BaselineName, params: Readonly<Record<string, number>> = {}): Scorer {
  switch (name) {
    case "popularity":
    case "recent-buffer":
      return { score: (_profile, pages, world) => pages.map((p) => world.features.popularity(p)) };
    case "section-region-popularity": {
      const weight = params.affinityWeight ?? 1;
      return {
        score: (profile, pages, world) =>
          pages.map((p) => {
            const a = world.features.article(p);
            const share =
              a === undefined
                ? 0
                : (profile.sectionShare.get(a.section) ?? 0) + (profile.regionShare.get(a.region) ?? 0);
            return world.features.popularity(p) * (1 + weight * share);
          }),
      };
    }
    case "covisitation":
      return {
        score: (profile, pages, world) => {
          const cov = covisitationSums(profile, world);
          return lexicographic(pages, (p) => [cov.get(p) ?? 0, world.features.popularity(p)]);
        },
      };
    case "coldstart":
      return {
        score: (profile, pages, world) => {
          const cov = covisitationSums(profile, world);
          const sections = new Set<string>();
          const regions = new Set<string>();
          for (const r of profile.recent) {
            const a = world.features.article(r);
            if (a !== undefined) {
              sections.add(a.section);
              regions.add(a.region);
            }
          }
          return lexicographic(pages, (p) => {
            const a = world.features.article(p);
            return [
              (cov.get(p) ?? 0) > 0 ? 1 : 0,
              a !== undefined && sections.has(a.section) ? 1 : 0,
              a !== undefined && regions.has(a.region) ? 1 : 0,
              world.features.popularity(p),
            ];
          });
        },
      };
  }
}
