import { describe, expect, it } from "@jest/globals";
import {
  type ArticleFeatureSource,
  buildModelInputs,
  DEFAULT_FEATURE_COLUMNS,
  type FeatureContext,
  NUMERIC_FEATURES,
  readerProfile,
  sparseVectorFromWeights,
  vocabularyIndex,
} from "../../src/index.js";

const H = 3_600_000;
const page = "00000000-0000-4000-8000-000000000001";
const source = (issued: number, weight: number): ArticleFeatureSource => ({
  page,
  section: "economia",
  region: "sp",
  issued,
  vector: sparseVectorFromWeights(new Map([[3, weight]])),
});
const column = (name: (typeof NUMERIC_FEATURES)[number]) => NUMERIC_FEATURES.indexOf(name);

describe("the feature builder's per-article part", () => {
  it("is computed again when the catalogue replaces an article's source (a refresh)", () => {
    let current = source(10 * H, 1);
    const context: FeatureContext = {
      asOf: 20 * H,
      article: (p) => (p === page ? current : undefined),
      popularity: () => 2,
      popularityScales: () => [1, 2, 3],
      covisitation: () => undefined,
      vocab: vocabularyIndex({ section: ["economia"], region: ["sp"] }),
    };
    const profile = readerProfile([], "Logged", context);
    const before = buildModelInputs(profile, [page], context).numeric;
    const again = buildModelInputs(profile, [page], context).numeric;
    current = source(19 * H, 1);
    const after = buildModelInputs(profile, [page], context).numeric;

    const age = column("article_log_age_hours");
    expect(before).toHaveLength(DEFAULT_FEATURE_COLUMNS.length);
    expect(Array.from(again)).toEqual(Array.from(before));
    expect(before[age]).toBeCloseTo(Math.log1p(10), 6);
    expect(after[age]).toBeCloseTo(Math.log1p(1), 6);
  });
});
