import type { LoadedBundle } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { bundleRanker } from "../../../src/app/bundle-ranker.js";
import { AS_OF, baselineBundle, fixtureCatalogue, pageId } from "../../support/fixtures.js";

const p = pageId;

/** A baseline's bundle: its strategy and candidate structures, no network. */
function bundleOf(name: "popularity" | "covisitation"): LoadedBundle {
  return baselineBundle(
    { name, params: { halfLifeHours: 3 } },
    {
      popularity: {
        asOf: AS_OF,
        halfLifeHours: 3,
        entries: [
          [p(4), 9],
          [p(2), 8],
          [p(7), 5],
          [p(1), 3],
        ],
        scales: {},
      },
      covisitation: { topK: 5, neighbours: { [p(1)]: [[p(9), 2]] } },
    },
    { popular: 5, covisited: 5, contentSimilar: 0, scoped: 0, freshHours: 48, popularityHalfLifeHours: 3 },
  );
}

const read = (page: string) => ({
  page,
  timestamp: AS_OF - 60_000,
  clicks: 1,
  timeOnPageMs: 10_000,
  scrollPercentage: 50,
  pageVisits: 1,
});

describe("a baseline bundle", () => {
  it("is served like a model: its strategy's scorer over its own world, history excluded", async () => {
    const ranker = bundleRanker("3", bundleOf("popularity"), () => fixtureCatalogue());
    const out = await ranker.recommend(
      { interactions: [read(p(2))], userType: "Logged" },
      { k: 3, exclude: { has: () => false } },
    );
    expect(out.strategy).toBe("model");
    expect(out.items.map((i) => i.page)).toEqual([p(4), p(7), p(1)]);
  });

  it("ranks co-visited pages of the recent reads first when it is the co-visitation baseline", async () => {
    const ranker = bundleRanker("4", bundleOf("covisitation"), () => fixtureCatalogue());
    const out = await ranker.recommend(
      { interactions: [read(p(1))], userType: "Logged" },
      { k: 2, exclude: { has: () => false } },
    );
    expect(out.items.map((i) => [i.page, i.tier])).toEqual([
      [p(9), "co-visited"],
      [p(4), "popular"],
    ]);
  });
});
