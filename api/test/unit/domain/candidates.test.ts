import { describe, expect, it } from "@jest/globals";
import { coVisitNeighbours, selectFromTiers } from "../../../src/domain/candidates.js";
import { pageId } from "../../support/fixtures.js";

const [a, b, c, d, e] = [1, 2, 3, 4, 5].map(pageId) as [string, string, string, string, string];

describe("coVisitNeighbours", () => {
  it("weights the most recent click highest and names the click that contributed most", () => {
    const neighbours = new Map([
      [
        a,
        [
          { page: c, score: 10 },
          { page: d, score: 5 },
        ],
      ],
      [
        b,
        [
          { page: d, score: 2 },
          { page: e, score: 1 },
        ],
      ],
    ]);
    const out = coVisitNeighbours([a, b], neighbours);
    // b is the latest click (weight 1): d = 1 (from b) + 0.25 (from a) ; c = 0.5 ; e = 0.5
    expect(out.map((n) => n.page)).toEqual([d, c, e]);
    expect(out[0]).toEqual({ page: d, score: 1.25, relatedTo: b });
    expect(out.find((n) => n.page === c)?.relatedTo).toBe(a);
  });

  it("returns nothing for clicks without co-visitation rows", () => {
    expect(coVisitNeighbours([a], new Map())).toEqual([]);
  });
});

describe("selectFromTiers", () => {
  it("keeps tier order, the first reason of a page and skips refused pages", () => {
    const out = selectFromTiers(
      [
        {
          reason: "co-visited",
          entries: [
            { page: a, score: 3, relatedTo: e },
            { page: b, score: 2 },
          ],
        },
        {
          reason: "popular-global",
          entries: [
            { page: a, score: 9 },
            { page: c, score: 8 },
            { page: d, score: 7 },
          ],
        },
      ],
      3,
      (page) => page !== b,
    );
    expect(out).toEqual([
      { page: a, reason: "co-visited", relatedTo: e, sourceScore: 3 },
      { page: c, reason: "popular-global", sourceScore: 8 },
      { page: d, reason: "popular-global", sourceScore: 7 },
    ]);
  });

  it("stops at the limit", () => {
    const out = selectFromTiers(
      [{ reason: "popular-global", entries: [a, b, c].map((page) => ({ page, score: 1 })) }],
      2,
      () => true,
    );
    expect(out).toHaveLength(2);
  });
});
