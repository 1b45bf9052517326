import {
  buildModelInputs,
  computeNormalisation,
  cosineSimilarity,
  DEFAULT_FEATURE_COLUMNS,
  emptyReaderProfile,
  encodeInteractionLog,
  type FeatureContext,
  type Interaction,
  NUMERIC_FEATURES,
  readerProfile,
  readerProfileFromItem,
  type SparseVector,
  sparseVectorFromWeights,
  vocabularyIndex,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";

const H = 3_600_000;
const P = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const articles = new Map(
  [1, 2, 3, 4].map((n) => [
    P(n),
    {
      page: P(n),
      section: n % 2 === 0 ? "economia" : "esportes",
      region: n === 4 ? "sp" : "nacional",
      issued: n * H,
      vector: sparseVectorFromWeights(
        new Map([
          [n % 2, 1],
          [10 + n, 0.5],
        ]),
      ),
    },
  ]),
);
const context = (asOf: number): FeatureContext => ({
  asOf,
  article: (p) => articles.get(p),
  popularity: (p) => (p === P(4) ? 3 : 1),
  popularityScales: (p) => (p === P(4) ? [2, 3, 5] : undefined),
  covisitation: (p) => (p === P(2) ? new Map([[P(4), 2]]) : undefined),
  vocab: vocabularyIndex({ section: ["economia"], region: ["nacional", "sp"] }),
});
const read = (n: number, t: number): Interaction => ({
  page: P(n),
  timestamp: t,
  clicks: 1,
  timeOnPageMs: 30_000,
  scrollPercentage: 50,
  pageVisits: 1,
});

describe("feature builder", () => {
  it("ignores interactions at or after asOf, so later reads cannot leak into features", () => {
    const log = [read(1, 5 * H), read(2, 6 * H), read(3, 20 * H)];
    const early = readerProfile(log, "Logged", context(10 * H));
    const withoutLater = readerProfile(log.slice(0, 2), "Logged", context(10 * H));
    expect(early.interactions).toBe(2);
    expect(buildModelInputs(early, [P(3), P(4)], context(10 * H))).toEqual(
      buildModelInputs(withoutLater, [P(3), P(4)], context(10 * H)),
    );
  });

  it("gives the same arrays from decoded records and from a packed users-table log", () => {
    const log = [read(2, 6 * H), read(1, 5 * H)];
    const ctx = context(10 * H);
    const a = buildModelInputs(readerProfile(log, "Non-Logged", ctx), [P(3), P(4), P(9)], ctx);
    const b = buildModelInputs(
      readerProfileFromItem({ log: encodeInteractionLog(log), userType: "Non-Logged" }, ctx),
      [P(3), P(4), P(9)],
      ctx,
    );
    expect(a).toEqual(b);
    expect(a.numeric).toHaveLength(3 * DEFAULT_FEATURE_COLUMNS.length);
  });

  it("maps unknown sections and regions to id 0 and fills co-visitation and affinity", () => {
    const ctx = context(10 * H);
    const inputs = buildModelInputs(readerProfile([read(2, 6 * H)], "Logged", ctx), [P(3), P(4), P(9)], ctx);
    expect(Array.from(inputs.article_section)).toEqual([0, 1, 0]);
    expect(Array.from(inputs.article_region)).toEqual([1, 2, 0]);
    const col = (name: (typeof NUMERIC_FEATURES)[number], row: number) =>
      inputs.numeric[row * DEFAULT_FEATURE_COLUMNS.length + NUMERIC_FEATURES.indexOf(name)];
    expect(col("ra_log_covisit", 1)).toBeCloseTo(Math.log1p(2));
    expect(col("ra_section_affinity", 1)).toBeCloseTo(1);
    expect(col("ra_section_affinity", 0)).toBe(0);
    expect(col("article_known", 2)).toBe(0);
    expect(col("reader_is_logged", 0)).toBe(1);
  });

  it("standardises with the given normalisation and never divides by zero", () => {
    const ctx = context(10 * H);
    const raw = buildModelInputs(emptyReaderProfile(), [P(1), P(2), P(3)], ctx);
    const norm = computeNormalisation(raw.numeric, raw.rows);
    expect(norm.std.every((s) => s > 0)).toBe(true);
    const z = buildModelInputs(emptyReaderProfile(), [P(1), P(2), P(3)], { ...ctx, normalisation: norm });
    const k = NUMERIC_FEATURES.indexOf("article_log_age_hours");
    const colMean =
      [0, 1, 2].reduce((s, r) => s + (z.numeric[r * DEFAULT_FEATURE_COLUMNS.length + k] as number), 0) / 3;
    expect(colMean).toBeCloseTo(0, 5);
  });

  it("equals the direct definition bit for bit: cosine against each recent read, co-visitation summed", () => {
    // A seeded world big enough that vectors share buckets and recent reads have overlapping neighbours.
    let state = 7;
    const rand = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state / 2 ** 32;
    };
    const Q = (n: number) => `10000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const vector = (): SparseVector =>
      sparseVectorFromWeights(new Map(Array.from({ length: 40 }, () => [Math.floor(rand() * 300), rand()])));
    const world = new Map(
      Array.from({ length: 60 }, (_, n) => [
        Q(n),
        {
          page: Q(n),
          section: `s${n % 5}`,
          region: `r${n % 3}`,
          issued: n * H,
          // Every seventh article has no vector; one has another dimension.
          vector: n % 7 === 0 ? undefined : n === 11 ? { ...vector(), dimension: 99 } : vector(),
        },
      ]),
    );
    const neighbours = new Map(
      [...world.keys()].map((page) => [
        page,
        new Map([0, 1, 2].map(() => [Q(Math.floor(rand() * 60)), rand()])),
      ]),
    );
    const ctx: FeatureContext = {
      asOf: 100 * H,
      article: (p) => world.get(p),
      popularity: () => 1,
      popularityScales: (p) => (p === Q(3) ? [1, 2, 3] : undefined),
      covisitation: (p) => neighbours.get(p),
      vocab: vocabularyIndex({ section: ["s1"], region: ["r1"] }),
    };
    const log = Array.from({ length: 25 }, (_, i) => read(0, i * H)).map((r, i) => ({
      ...r,
      page: Q((i * 13) % 60),
    }));
    const profile = readerProfile(log, "Logged", ctx);
    const pages = [...world.keys(), Q(999)];
    const inputs = buildModelInputs(profile, pages, ctx);
    const col = (name: (typeof NUMERIC_FEATURES)[number], row: number) =>
      inputs.numeric[row * DEFAULT_FEATURE_COLUMNS.length + NUMERIC_FEATURES.indexOf(name)];
    let checked = 0;
    pages.forEach((page, row) => {
      const a = world.get(page);
      let maxSim = 0;
      let sumSim = 0;
      let count = 0;
      let covisit = 0;
      for (const r of profile.recent) {
        covisit += neighbours.get(r)?.get(page) ?? 0;
        const rv = world.get(r)?.vector;
        if (a?.vector === undefined || rv === undefined) continue;
        const s = cosineSimilarity(a.vector, rv);
        maxSim = Math.max(maxSim, s);
        sumSim += s;
        count++;
      }
      expect(col("ra_content_max_sim", row)).toBe(Math.fround(maxSim));
      expect(col("ra_content_mean_sim", row)).toBe(Math.fround(count > 0 ? sumSim / count : 0));
      expect(col("ra_log_covisit", row)).toBe(Math.fround(Math.log1p(covisit)));
      if (maxSim > 0 && covisit > 0) checked++;
    });
    expect(checked).toBeGreaterThan(5);
  });
});
