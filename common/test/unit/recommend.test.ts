import { describe, expect, it } from "@jest/globals";
import {
  type ArticleFeatureSource,
  buildRecommendationWorld,
  candidatePool,
  mapCatalogue,
  orderByScore,
  type ReaderProfile,
  rankScore,
  readerProfile,
  recommend,
  type Scorer,
  scopeQuotas,
} from "../../src/index.js";

const HOUR = 3_600_000;
const AS_OF = Date.UTC(2022, 7, 15);
const P = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

/** 1–10 fresh (1 h … 10 h old), 11 stale (10 days), 12 issued after asOf. */
function world(
  candidates = {
    popular: 4,
    covisited: 2,
    contentSimilar: 2,
    scoped: 0,
    freshHours: 24,
    popularityHalfLifeHours: 6,
  },
) {
  const articles = new Map<string, ArticleFeatureSource>();
  for (let n = 1; n <= 10; n++)
    articles.set(P(n), {
      page: P(n),
      section: n % 2 === 0 ? "a" : "b",
      region: "r",
      issued: AS_OF - n * HOUR,
      vector: { dimension: 8, indices: Uint32Array.from([n % 3, 7]), values: Float32Array.from([1, n / 10]) },
    });
  articles.set(P(11), { page: P(11), section: "a", region: "r", issued: AS_OF - 240 * HOUR });
  articles.set(P(12), { page: P(12), section: "a", region: "r", issued: AS_OF + HOUR });
  return buildRecommendationWorld({
    asOf: AS_OF,
    catalogue: mapCatalogue(articles),
    popularity: new Map([
      [P(11), 50],
      [P(12), 40],
      [P(5), 9],
      [P(4), 8],
      [P(3), 7],
      [P(2), 6],
      [P(1), 5],
    ]),
    popularityScales: new Map(),
    covisitation: new Map([
      [
        P(1),
        new Map([
          [P(9), 3],
          [P(8), 2],
          [P(12), 9],
        ]),
      ],
    ]),
    candidates,
  });
}

const profileOf = (w: ReturnType<typeof world>, pages: number[]): ReaderProfile =>
  readerProfile(
    pages.map((n, i) => ({
      page: P(n),
      timestamp: AS_OF - 100_000 + i,
      clicks: 1,
      timeOnPageMs: 10_000,
      scrollPercentage: 50,
      pageVisits: 1,
    })),
    "Non-Logged",
    w.features,
  );

const byTable = (scores: Record<string, number>): Scorer & { seen: string[][] } => {
  const seen: string[][] = [];
  return {
    seen,
    score: (_p, pages) => {
      seen.push([...pages]);
      return pages.map((p) => scores[p] ?? 0);
    },
  };
};

describe("candidatePool", () => {
  it("takes each tier within its budget, fresh popular first, never a read, excluded or future page", () => {
    const w = world();
    const pool = candidatePool(w, profileOf(w, [1]), { has: (p) => p === P(4) });
    expect(pool.filter((e) => e.tier === "popular").map((e) => e.page)).toEqual([P(5), P(3), P(2), P(6)]);
    expect(pool.filter((e) => e.tier === "co-visited")).toEqual([
      { page: P(9), tier: "co-visited", relatedTo: P(1) },
      { page: P(8), tier: "co-visited", relatedTo: P(1) },
    ]);
    expect(pool.filter((e) => e.tier === "content-similar")).toHaveLength(2);
    const pages = pool.map((e) => e.page);
    for (const never of [P(1), P(4), P(11), P(12)]) expect(pages).not.toContain(never);
    expect(new Set(pages).size).toBe(pages.length);
  });
});

describe("the scoped tier", () => {
  const scopedOnly = (scoped: number) =>
    world({
      popular: 1,
      covisited: 0,
      contentSimilar: 0,
      scoped,
      freshHours: 24,
      popularityHalfLifeHours: 6,
    });
  const scoped = (pool: readonly { page: string; tier: string }[]) =>
    pool
      .filter((e) => e.tier === "popular-section" || e.tier === "popular-region")
      .map((e) => [e.page, e.tier]);

  it("proposes the popular unread fresh articles of the reader's section and region, split by share", () => {
    const w = scopedOnly(3);
    // P(2) read: section "a" (even pages) and region "r" (every page), each with share 1; the popular
    // tier took P(5). Section a: P(4) by popularity, then P(6) (unread, by id); region r: P(3).
    const pool = candidatePool(w, profileOf(w, [2]));
    expect(pool[0]).toEqual({ page: P(5), tier: "popular" });
    expect(scoped(pool)).toEqual([
      [P(4), "popular-section"],
      [P(6), "popular-section"],
      [P(3), "popular-region"],
    ]);
  });

  it("keeps to its budget, skips excluded pages and passes a drained scope's quota on", () => {
    const w = scopedOnly(3);
    expect(scoped(candidatePool(w, profileOf(w, [2]), { has: (p) => p === P(4) }))).toEqual([
      [P(6), "popular-section"],
      [P(8), "popular-section"],
      [P(3), "popular-region"],
    ]);
    // Section a has only P(10) left unread and fresh: its second slot goes to region r.
    expect(scoped(candidatePool(w, profileOf(w, [2, 4, 6, 8])))).toEqual([
      [P(10), "popular-section"],
      [P(3), "popular-region"],
      [P(1), "popular-region"],
    ]);
    expect(scoped(candidatePool(scopedOnly(0), profileOf(w, [2])))).toEqual([]);
  });

  it("proposes nothing for a reader without history", () => {
    const w = scopedOnly(3);
    expect(scoped(candidatePool(w, profileOf(w, [])))).toEqual([]);
  });

  it("splits its budget over the top scopes of both kinds by share, the rounding rest to the last", () => {
    const profile = {
      sectionShare: new Map([
        ["a", 0.6],
        ["b", 0.3],
        ["c", 0.1],
      ]),
      regionShare: new Map([["r", 1]]),
    };
    expect(scopeQuotas(profile, 10)).toEqual([
      { kind: "region", key: "r", quota: 5 },
      { kind: "section", key: "a", quota: 3 },
      { kind: "section", key: "b", quota: 2 },
    ]);
    expect(scopeQuotas(profile, 0)).toEqual([]);
  });
});

describe("recommend", () => {
  it("ranks the pool by score, ties by page id, and names each item's tier", () => {
    const w = world();
    const scorer = byTable({ [P(9)]: 0.9, [P(3)]: 0.5, [P(2)]: 0.5 });
    const out = recommend(w, profileOf(w, [1]), scorer, { k: 3 });
    expect(out.strategy).toBe("model");
    expect(out.items.map((i) => [i.page, i.score, i.tier])).toEqual([
      [P(9), 0.9, "co-visited"],
      [P(2), 0.5, "popular"],
      [P(3), 0.5, "popular"],
    ]);
    expect(scorer.seen[0]).toEqual(out.pool.map((e) => e.page));
  });

  it("gives a reader without history the fresh popularity order, without excluded pages", () => {
    const w = world();
    const scorer = byTable({});
    const out = recommend(w, profileOf(w, []), scorer, { k: 3, exclude: { has: (p) => p === P(5) } });
    expect(out).toMatchObject({ strategy: "cold", pool: [] });
    expect(out.items.map((i) => [i.page, i.tier])).toEqual([
      [P(4), "popular"],
      [P(3), "popular"],
      [P(2), "popular"],
    ]);
    expect(scorer.seen).toEqual([]);
  });

  it("fills up to k from older articles by popularity, then newest, when the pool runs short", () => {
    const w = world({
      popular: 1,
      covisited: 0,
      contentSimilar: 0,
      scoped: 0,
      freshHours: 24,
      popularityHalfLifeHours: 6,
    });
    const read = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = recommend(w, profileOf(w, read), byTable({}), { k: 4 });
    expect(out.items.map((i) => [i.page, i.tier])).toEqual([
      [P(9), "popular"],
      [P(11), "fill-popular"],
      [P(10), "fill-newest"],
    ]);
  });
});

describe("orderByScore", () => {
  it("sorts by score, ties by page id, and keeps k", () => {
    const pool = [P(2), P(1), P(3)].map((page) => ({ page, tier: "popular" as const }));
    expect(orderByScore(pool, [0.5, 0.5, 0.9], 2).map((e) => e.page)).toEqual([P(3), P(1)]);
  });

  it("refuses a score count that does not match or a score that cannot be ordered", () => {
    const pool = [
      { page: P(1), tier: "popular" as const },
      { page: P(2), tier: "popular" as const },
    ];
    expect(() => orderByScore(pool, [1], 2)).toThrow(/1 scores for 2 candidates/);
    expect(() => orderByScore(pool, [1, Number.NaN], 2)).toThrow(/non-finite/);
  });
});

describe("rankScore", () => {
  it("falls strictly with the rank", () => {
    expect(rankScore(0)).toBe(1);
    expect(rankScore(1)).toBeLessThan(rankScore(0));
  });
});
