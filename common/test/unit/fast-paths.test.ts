/**
 * The serving path's shortcuts against the straightforward definitions they replace: the feature
 * builder's per-context article rows (column by column, standardised per value) and the top-k
 * selections of the recommendation path (a full sort).
 */
import { describe, expect, it } from "@jest/globals";
import {
  type ArticleFeatureSource,
  buildModelInputs,
  buildRecommendationWorld,
  candidatePool,
  cosineSimilarity,
  DEFAULT_CANDIDATES,
  DEFAULT_FEATURE_COLUMNS,
  type FeatureContext,
  type Interaction,
  mapCatalogue,
  mulberry32,
  type Normalisation,
  NUMERIC_FEATURE_COUNT,
  NUMERIC_FEATURES,
  orderByScore,
  type PoolEntry,
  type ReaderProfile,
  readerProfile,
  SHARE_SCALE,
  scopeQuotas,
  selectTopByValue,
  sparseVectorFromWeights,
  topK,
  vocabularyIndex,
} from "../../src/index.js";

const H = 3_600_000;
const Q = (n: number) => `20000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** The test worlds' exposure of an article (portal reads since its issue) and mean read share. */
const exposureOf = (issued: number) => (90 * H - issued) / 100_000;
const MEAN_SHARE = 0.02;

/** A seeded world: shared buckets, articles without vectors, unknown pages, co-visitation. */
function world(seed: number) {
  const random = mulberry32(seed);
  const vector = () =>
    sparseVectorFromWeights(
      new Map(Array.from({ length: 30 }, () => [Math.floor(random() * 200), random()])),
    );
  const articles = new Map<string, ArticleFeatureSource>();
  for (let n = 0; n < 80; n++)
    articles.set(Q(n), {
      page: Q(n),
      section: `s${n % 6}`,
      region: `r${n % 4}`,
      issued: (n + random()) * H,
      vector: n % 9 === 0 ? undefined : vector(),
    });
  const neighbours = new Map(
    [...articles.keys()].map((p) => [
      p,
      new Map([0, 1, 2, 3].map(() => [Q(Math.floor(random() * 90)), random()])),
    ]),
  );
  const popularity = new Map([...articles.keys()].map((p) => [p, random() < 0.3 ? 0 : 10 * random()]));
  const scales = new Map([...articles.keys()].map((p) => [p, [random(), 2 * random(), 5 * random()]]));
  // The portal's reads as the world sums them: every article's popularity, and per scale.
  const portal = {
    popularity: [...popularity.values()].reduce((s, p) => s + p, 0),
    scales: [0, 1, 2].map((k) => [...scales.values()].reduce((s, v) => s + (v[k] as number), 0)),
  };
  const normalisation: Normalisation = {
    features: [...NUMERIC_FEATURES],
    mean: NUMERIC_FEATURES.map(() => random() - 0.5),
    std: NUMERIC_FEATURES.map(() => 0.5 + random()),
  };
  const context: FeatureContext = {
    asOf: 90 * H,
    article: (p) => articles.get(p),
    popularity: (p) => popularity.get(p) ?? 0,
    popularityScales: (p) => scales.get(p),
    covisitation: (p) => neighbours.get(p),
    exposure: (issued) => exposureOf(issued),
    meanReadShare: () => MEAN_SHARE,
    portalReads: () => portal,
    vocab: vocabularyIndex({ section: ["s1", "s2", "s3"], region: ["r0", "r2"] }),
    normalisation,
    columns: NUMERIC_FEATURES,
  };
  const log: Interaction[] = Array.from({ length: 30 }, (_, i) => ({
    page: Q(Math.floor(random() * 85)),
    timestamp: i * H + Math.floor(random() * H),
    clicks: Math.floor(random() * 3),
    timeOnPageMs: Math.floor(random() * 100_000),
    scrollPercentage: Math.floor(random() * 100),
    pageVisits: 1,
  }));
  return { articles, neighbours, popularity, scales, portal, context, log, random };
}

/** An article's reads as a share of the portal's, per SHARE_SCALE reads. */
const share = (reads: number, portal: number) => Math.log1p((SHARE_SCALE * reads) / portal);

/** Every numeric column of one row by its definition (NUMERIC_FEATURES' comments), raw. */
function directRow(w: ReturnType<typeof world>, profile: ReturnType<typeof readerProfile>, page: string) {
  const { context } = w;
  const a = w.articles.get(page);
  const age = a === undefined ? 0 : Math.max(0, (context.asOf - a.issued) / H);
  const scales = w.scales.get(page);
  let maxSim = 0;
  let sumSim = 0;
  let count = 0;
  let covisit = 0;
  for (const r of profile.recent) {
    covisit += w.neighbours.get(r)?.get(page) ?? 0;
    const rv = w.articles.get(r)?.vector;
    if (a?.vector === undefined || rv === undefined) continue;
    const s = cosineSimilarity(a.vector, rv);
    maxSim = Math.max(maxSim, s);
    sumSim += s;
    count++;
  }
  const last = profile.recent[0] === undefined ? undefined : w.articles.get(profile.recent[0]);
  const since =
    profile.lastTimestamp === undefined ? 0 : Math.max(0, (context.asOf - profile.lastTimestamp) / H);
  return [
    Math.log1p(profile.interactions),
    Math.log1p(profile.engagement),
    profile.isLogged ? 1 : 0,
    profile.interactions > 0 ? 1 : 0,
    Math.log1p(since),
    Math.log1p(age),
    a === undefined ? 0 : 2 ** (-age / 24),
    Math.log1p(w.popularity.get(page) ?? 0),
    Math.log1p(scales?.[0] ?? 0),
    Math.log1p(scales?.[1] ?? 0),
    Math.log1p(scales?.[2] ?? 0),
    Math.log1p(scales?.[0] ?? 0) - Math.log1p((scales?.[2] ?? 0) / 24),
    a === undefined ? 0 : 1,
    a === undefined ? 0 : (profile.sectionShare.get(a.section) ?? 0),
    a === undefined ? 0 : (profile.regionShare.get(a.region) ?? 0),
    maxSim,
    count > 0 ? sumSim / count : 0,
    Math.log1p(covisit),
    a !== undefined && last !== undefined && last.section === a.section ? 1 : 0,
    Math.log(((scales?.[2] ?? 0) + 1) / (MEAN_SHARE * (a === undefined ? 0 : exposureOf(a.issued)) + 1)),
    share(w.popularity.get(page) ?? 0, w.portal.popularity),
    share(scales?.[0] ?? 0, w.portal.scales[0] as number),
    share(scales?.[1] ?? 0, w.portal.scales[1] as number),
    share(scales?.[2] ?? 0, w.portal.scales[2] as number),
    share(scales?.[0] ?? 0, w.portal.scales[0] as number) -
      share(scales?.[2] ?? 0, w.portal.scales[2] as number),
  ];
}

describe("the feature builder's per-context article rows", () => {
  it("give every column bit for bit as its definition, standardised per value, on first use and reused", () => {
    const w = world(3);
    const profile = readerProfile(w.log, "Logged", w.context);
    const norm = w.context.normalisation as Normalisation;
    const pages = [...w.articles.keys(), Q(500)];
    // Twice: the second call reads every article row from the context's cache.
    for (const inputs of [
      buildModelInputs(profile, pages, w.context),
      buildModelInputs(profile, pages, w.context),
    ]) {
      pages.forEach((page, r) => {
        const expected = directRow(w, profile, page).map((v, k) =>
          Math.fround((v - (norm.mean[k] as number)) / (norm.std[k] as number)),
        );
        expect(
          Array.from(inputs.numeric.subarray(r * NUMERIC_FEATURE_COUNT, (r + 1) * NUMERIC_FEATURE_COUNT)),
        ).toEqual(expected);
        const a = w.articles.get(page);
        expect(inputs.article_section[r]).toBe(
          a === undefined ? 0 : (w.context.vocab.section.get(a.section) ?? 0),
        );
        expect(inputs.article_region[r]).toBe(
          a === undefined ? 0 : (w.context.vocab.region.get(a.region) ?? 0),
        );
      });
    }
  });

  it("give a bundle's columns (a subset, as bundles before the appeal have) as the same values of the full row", () => {
    const w = world(4);
    const profile = readerProfile(w.log, "Logged", w.context);
    const norm = w.context.normalisation as Normalisation;
    const pages = [...w.articles.keys(), Q(501)];
    const full = buildModelInputs(profile, pages, w.context);
    const keep = DEFAULT_FEATURE_COLUMNS.map((f) => NUMERIC_FEATURES.indexOf(f));
    const subset: Normalisation = {
      features: [...DEFAULT_FEATURE_COLUMNS],
      mean: keep.map((k) => norm.mean[k] as number),
      std: keep.map((k) => norm.std[k] as number),
    };
    const old = buildModelInputs(profile, pages, { ...w.context, normalisation: subset, columns: undefined });
    expect(old.numeric).toHaveLength(pages.length * DEFAULT_FEATURE_COLUMNS.length);
    expect(keep).not.toContain(NUMERIC_FEATURES.indexOf("article_log_appeal"));
    pages.forEach((_, r) => {
      expect(Array.from(old.numeric.subarray(r * keep.length, (r + 1) * keep.length))).toEqual(
        keep.map((k) => full.numeric[r * NUMERIC_FEATURE_COUNT + k]),
      );
    });
  });

  it("are computed again for a context whose normalisation changed", () => {
    const w = world(5);
    const profile = readerProfile(w.log, "Non-Logged", w.context);
    const pages = [...w.articles.keys()].slice(0, 10);
    buildModelInputs(profile, pages, w.context);
    const raw = buildModelInputs(profile, pages, { ...w.context, normalisation: undefined });
    w.context.normalisation = undefined;
    const sameObject = buildModelInputs(profile, pages, w.context);
    expect(Array.from(sameObject.numeric)).toEqual(Array.from(raw.numeric));
    pages.forEach((page, r) => {
      expect(raw.numeric[r * NUMERIC_FEATURE_COUNT + 5]).toBe(
        Math.fround(directRow(w, profile, page)[5] as number),
      );
    });
  });
});

describe("the share features of a served world", () => {
  it("stay the same when the portal reads a fourteenth as much, where the read counts fall", () => {
    const w = world(6);
    const profile = readerProfile(w.log, "Logged", w.context);
    const pages = [...w.articles.keys()];
    const columns = NUMERIC_FEATURES.filter((f) => f.startsWith("article_"));
    const rowsAt = (scale: number) => {
      const served = buildRecommendationWorld({
        asOf: w.context.asOf,
        catalogue: mapCatalogue(w.articles),
        popularity: new Map([...w.popularity].map(([p, v]) => [p, v * scale])),
        popularityScales: new Map([...w.scales].map(([p, v]) => [p, v.map((x) => x * scale)])),
        covisitation: w.neighbours,
        candidates: DEFAULT_CANDIDATES,
      });
      const context = { ...served.features, vocab: w.context.vocab, columns };
      const inputs = buildModelInputs(profile, pages, context);
      return (name: (typeof columns)[number], r: number) =>
        inputs.numeric[r * columns.length + columns.indexOf(name)] as number;
    };
    const full = rowsAt(1);
    const sampled = rowsAt(1 / 14);
    const read = pages.filter((p) => (w.scales.get(p)?.[0] ?? 0) > 0.1).map((p) => pages.indexOf(p));
    expect(read.length).toBeGreaterThan(40);
    for (const r of read) {
      for (const f of [
        "article_log_share",
        "article_log_share_1h",
        "article_log_share_6h",
        "article_log_share_24h",
        "article_share_velocity",
      ] as const)
        expect(sampled(f, r)).toBeCloseTo(full(f, r), 4);
      expect(sampled("article_log_pop_1h", r)).toBeLessThan(full("article_log_pop_1h", r));
      // The share of the portal's reads, per SHARE_SCALE reads, as defined.
      const page = pages[r] as string;
      expect(full("article_log_share_24h", r)).toBeCloseTo(
        share(w.scales.get(page)?.[2] ?? 0, w.portal.scales[2] as number),
        4,
      );
    }
  });

  it("are 0 in a context that cannot tell the portal's reads", () => {
    const w = world(7);
    const profile = readerProfile(w.log, "Logged", w.context);
    const { portalReads: _, ...context } = w.context;
    const columns = NUMERIC_FEATURES.filter((f) => f.includes("share"));
    const inputs = buildModelInputs(profile, [...w.articles.keys()], {
      ...context,
      normalisation: undefined,
      columns,
    });
    expect(inputs.numeric.length).toBe(w.articles.size * columns.length);
    expect(inputs.numeric.every((v) => v === 0)).toBe(true);
  });
});

describe("the recommendation path's top-k selections", () => {
  it("orderByScore keeps what a full sort keeps, in its order, ties by page", () => {
    const random = mulberry32(11);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(random() * 300);
      const pool: PoolEntry[] = Array.from({ length: n }, (_, i) => ({
        page: Q((i * 7919) % 1000),
        tier: "popular",
      }));
      // Coarse scores: many ties, broken by page id.
      const scores = Float32Array.from({ length: n }, () => Math.floor(random() * 20) / 20);
      const k = 1 + Math.floor(random() * 40);
      const sorted = pool
        .map((e, i) => ({ ...e, score: scores[i] as number }))
        .sort((a, b) => b.score - a.score || (a.page < b.page ? -1 : 1))
        .slice(0, k);
      expect(orderByScore(pool, scores, k)).toEqual(sorted);
    }
  });

  it("topK keeps what a full sort keeps, skipping the excluded", () => {
    const random = mulberry32(13);
    for (let trial = 0; trial < 50; trial++) {
      const scores = new Map(
        Array.from({ length: Math.floor(random() * 400) }, (_, i) => [Q(i), Math.floor(random() * 30)]),
      );
      const skip = new Set([...scores.keys()].filter(() => random() < 0.2));
      const k = 1 + Math.floor(random() * 60);
      const sorted = [...scores]
        .filter(([p]) => !skip.has(p))
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, k)
        .map(([p]) => p);
      expect(topK(scores, k, skip)).toEqual(sorted);
    }
  });
});

describe("selectTopByValue", () => {
  it("keeps what a full sort keeps, in its order, with ties by a string or a number and skipped items", () => {
    const random = mulberry32(17);
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(random() * 300);
      const values = Array.from({ length: n }, () => Math.floor(random() * 25) - 5);
      const ties =
        trial % 2 === 0
          ? Array.from({ length: n }, (_, i) => Q((i * 7919) % 1000))
          : Array.from({ length: n }, (_, i) => (i * 7919) % 1000);
      const skipped = new Set(Array.from({ length: n }, (_, i) => i).filter(() => random() < 0.3));
      const k = Math.floor(random() * (trial % 3 === 0 ? n + 5 : 40));
      const asked: number[] = [];
      const top = selectTopByValue(n, k, values, ties, (i) => {
        asked.push(i);
        return skipped.has(i);
      });
      const sorted = Array.from({ length: n }, (_, i) => i)
        .filter((i) => !skipped.has(i))
        .sort(
          (i, j) =>
            (values[j] as number) - (values[i] as number) ||
            ((ties[i] as number) < (ties[j] as number) ? -1 : 1),
        )
        .slice(0, k);
      expect(top).toEqual(sorted);
      expect(new Set(asked).size).toBe(asked.length);
    }
  });

  it("asks whether to skip only the items that would enter the kept list", () => {
    // Ascending values: every item beats the worst kept, so each is asked; descending: only the first k.
    const n = 1000;
    const k = 10;
    const ties = Array.from({ length: n }, (_, i) => i);
    let asked = 0;
    const ask = () => {
      asked++;
      return false;
    };
    const descending = Array.from({ length: n }, (_, i) => n - i);
    expect(selectTopByValue(n, k, descending, ties, ask)).toEqual(ties.slice(0, k));
    expect(asked).toBe(k);
    asked = 0;
    const ascending = Array.from({ length: n }, (_, i) => i);
    selectTopByValue(n, k, ascending, ties, ask);
    expect(asked).toBe(n);
  });
});

/** A seeded world over `buildRecommendationWorld`: fresh and stale articles, co-visitation with non-articles. */
function recommendationWorld(seed: number) {
  const random = mulberry32(seed);
  const asOf = 500 * H;
  const articles = new Map<string, ArticleFeatureSource>();
  for (let n = 0; n < 400; n++)
    articles.set(Q(n), {
      page: Q(n),
      section: `s${n % 5}`,
      region: `r${n % 3}`,
      // Some issued after asOf (not in the world), about a third fresh (72 h).
      issued: asOf - Math.floor(random() * 220 * H) + 10 * H,
      vector:
        n % 11 === 0
          ? undefined
          : sparseVectorFromWeights(
              new Map(Array.from({ length: 20 }, () => [Math.floor(random() * 150), random()])),
            ),
    });
  const covisitation = new Map(
    [...articles.keys()].map((p) => [
      p,
      new Map(Array.from({ length: 12 }, () => [Q(Math.floor(random() * 450)), Math.floor(random() * 8)])),
    ]),
  );
  const popularity = new Map([...articles.keys()].map((p) => [p, Math.floor(random() * 20)]));
  const served = buildRecommendationWorld({
    asOf,
    catalogue: mapCatalogue(articles),
    popularity,
    popularityScales: new Map(),
    covisitation,
    candidates: { ...DEFAULT_CANDIDATES, popular: 30, covisited: 25, contentSimilar: 20, scoped: 25 },
  });
  return { served, articles, covisitation, random, asOf };
}

/** `candidatePool` by its definition: maps of per-page sums and full sorts for every tier. */
function directPool(
  w: ReturnType<typeof recommendationWorld>,
  profile: ReaderProfile,
  exclude: ReadonlySet<string>,
): PoolEntry[] {
  const { served } = w;
  const opts = served.candidates;
  const skip = (p: string) => profile.read.has(p) || exclude.has(p);
  const pool: PoolEntry[] = [];
  const taken = new Set<string>();
  const add = (entry: PoolEntry) => {
    if (taken.has(entry.page) || skip(entry.page)) return;
    taken.add(entry.page);
    pool.push(entry);
  };
  for (const page of served.popularRanking.filter((p) => !skip(p)).slice(0, opts.popular))
    add({ page, tier: "popular" });
  const sums = new Map<string, number>();
  const from = new Map<string, { page: string; score: number }>();
  for (const r of profile.recent)
    for (const [p, s] of w.covisitation.get(r) ?? []) {
      if (served.features.article(p) === undefined) continue;
      sums.set(p, (sums.get(p) ?? 0) + s);
      const best = from.get(p);
      if (best === undefined || s > best.score) from.set(p, { page: r, score: s });
    }
  const byScore = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
  for (const [page] of [...sums]
    .filter(([p]) => !skip(p) && !taken.has(p))
    .sort(byScore)
    .slice(0, opts.covisited))
    add({ page, tier: "co-visited", relatedTo: from.get(page)?.page as string });
  // Content: the summed query's 64 heaviest terms (ties by bucket), each fresh article's products
  // summed in that term order; articles sharing no term are not candidates.
  const query = new Map<number, number>();
  for (const r of profile.recent) {
    const v = served.features.article(r)?.vector;
    if (v !== undefined)
      v.indices.forEach((b, i) => {
        query.set(b, (query.get(b) ?? 0) + (v.values[i] as number));
      });
  }
  const terms = [...query].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 64);
  const scores = new Map<string, number>();
  for (const a of w.articles.values()) {
    if (a.vector === undefined || !served.isFresh(a.page)) continue;
    let s: number | undefined;
    for (const [bucket, qw] of terms) {
      const at = a.vector.indices.indexOf(bucket);
      if (at >= 0) s = (s ?? 0) + qw * (a.vector.values[at] as number);
    }
    if (s !== undefined) scores.set(a.page, s);
  }
  for (const [page] of [...scores]
    .filter(([p]) => !skip(p) && !taken.has(p))
    .sort(byScore)
    .slice(0, opts.contentSimilar))
    add({ page, tier: "content-similar" });
  // Scoped: each of the reader's scopes' fresh articles by popularity (ties by page id), its quota
  // plus what the scopes before it could not fill.
  let carried = 0;
  for (const { kind, key, quota } of scopeQuotas(profile, opts.scoped)) {
    const ranked = [...w.articles.values()]
      .filter((a) => a[kind] === key && served.isFresh(a.page) && !skip(a.page) && !taken.has(a.page))
      .map((a): [string, number] => [a.page, served.features.popularity(a.page)])
      .sort(byScore)
      .slice(0, quota + carried);
    for (const [page] of ranked)
      add({ page, tier: kind === "section" ? "popular-section" : "popular-region" });
    carried = quota + carried - ranked.length;
  }
  return pool;
}

describe("candidatePool against its definition", () => {
  it("proposes the same entries in the same order on random worlds, readers and exclusions", () => {
    let scoped = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const w = recommendationWorld(seed);
      for (let reader = 0; reader < 25; reader++) {
        const log: Interaction[] = Array.from({ length: 1 + Math.floor(w.random() * 40) }, (_, i) => ({
          page: Q(Math.floor(w.random() * 420)),
          timestamp: w.asOf - 200 * H + i * H,
          clicks: 0,
          timeOnPageMs: 1000,
          scrollPercentage: 50,
          pageVisits: 1,
        }));
        const profile = readerProfile(log, "Logged", w.served.features);
        const exclude = new Set(Array.from({ length: 15 }, () => Q(Math.floor(w.random() * 400))));
        const pool = candidatePool(w.served, profile, exclude);
        expect(pool.length).toBeGreaterThan(0);
        expect(pool).toEqual(directPool(w, profile, exclude));
        scoped += pool.filter((e) => e.tier === "popular-section" || e.tier === "popular-region").length;
      }
    }
    // The scoped tier took part (its budget is 25 a reader, minus what the other tiers took first).
    expect(scoped).toBeGreaterThan(8 * 25);
  });
});
