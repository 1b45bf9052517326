import {
  buildModelInputs,
  computeNormalisation,
  emptyReaderProfile,
  encodeInteractionLog,
  type FeatureContext,
  type Interaction,
  NUMERIC_FEATURE_COUNT,
  NUMERIC_FEATURES,
  readerProfile,
  readerProfileFromItem,
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
    expect(a.numeric).toHaveLength(3 * NUMERIC_FEATURE_COUNT);
  });

  it("maps unknown sections and regions to id 0 and fills co-visitation and affinity", () => {
    const ctx = context(10 * H);
    const inputs = buildModelInputs(readerProfile([read(2, 6 * H)], "Logged", ctx), [P(3), P(4), P(9)], ctx);
    expect(Array.from(inputs.article_section)).toEqual([0, 1, 0]);
    expect(Array.from(inputs.article_region)).toEqual([1, 2, 0]);
    const col = (name: (typeof NUMERIC_FEATURES)[number], row: number) =>
      inputs.numeric[row * NUMERIC_FEATURE_COUNT + NUMERIC_FEATURES.indexOf(name)];
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
      [0, 1, 2].reduce((s, r) => s + (z.numeric[r * NUMERIC_FEATURE_COUNT + k] as number), 0) / 3;
    expect(colMean).toBeCloseTo(0, 5);
  });
});
