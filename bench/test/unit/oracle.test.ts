import { describe, expect, it } from "@jest/globals";
import { firstReadProbabilities, type OracleReader, type OracleWorld, oracleTop } from "../../src/oracle.js";

const H = 3_600_000;
const T = 20 * H;

/**
 * Four articles, half-life 1 h, read at T: #0 is 11 half-lives old (beyond the generator's exact scan,
 * despite its quality 100), #1 is 2 h old with quality 2 (appeal 2 × 1/4 = 0.5), #2 is issued at T
 * with quality 1 (appeal 1), #3 is issued after T.
 */
const world = (
  over: Partial<OracleWorld> = {},
  params: Partial<OracleWorld["params"]> = {},
): OracleWorld => ({
  params: { halfLifeHours: 1, burstHalfLifeHours: 1, trendShare: 0.3, regionWeight: 1, ...params },
  issued: [T - 11 * H, T - 2 * H, T, T + H],
  quality: [100, 2, 1, 5],
  burstStart: [],
  burstArticle: [],
  ...over,
});
const reader = (over: Partial<OracleReader> = {}): OracleReader => ({
  affinity: 0,
  regionPool: [0, 1, 2, 3],
  sectionPools: [[0, 1, 2, 3]],
  ...over,
});
const nothingRead = () => false;
const close = (actual: Float64Array, expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  for (const [i, p] of expected.entries()) expect(actual[i]).toBeCloseTo(p, 12);
};

describe("the oracle's first-read probabilities", () => {
  it("weigh the recent unread articles by quality × 2^(−age/half-life), nothing older than 10 half-lives or not yet issued", () => {
    // No burst under way: the trend share falls through to the decayed pick.
    const p = firstReadProbabilities(world(), reader(), T, nothingRead);
    close(p, [0, 1 / 3, 2 / 3, 0]);
    expect(oracleTop(p, 10, String)).toEqual([2, 1]);
    expect(oracleTop(p, 1, String)).toEqual([2]);
  });

  it("leave out what the reader read", () => {
    close(
      firstReadProbabilities(world(), reader(), T, (i) => i === 2),
      [0, 1, 0, 0],
    );
  });

  it("send the affine share to the reader's region, or to each of its sections evenly", () => {
    const region = reader({ affinity: 1, regionPool: [1] });
    close(firstReadProbabilities(world(), region, T, nothingRead), [0, 1, 0, 0]);
    const sections = reader({ affinity: 1, sectionPools: [[1], [2]] });
    close(firstReadProbabilities(world({}, { regionWeight: 0 }), sections, T, nothingRead), [0, 0.5, 0.5, 0]);
    // Half affine (region #1 only), half over everything.
    const half = reader({ affinity: 0.5, regionPool: [1] });
    close(firstReadProbabilities(world(), half, T, nothingRead), [0, 0.5 + 0.5 / 3, 0.5 * (2 / 3), 0]);
  });

  it("fall back to the whole catalogue when the region has nothing recent unread, as the generator does", () => {
    const stale = reader({ affinity: 1, regionPool: [0, 3] });
    close(firstReadProbabilities(world(), stale, T, nothingRead), [0, 1 / 3, 2 / 3, 0]);
  });

  it("give the trend share to bursts under way, by quality × the burst's decay", () => {
    // Bursts of #1 (started 1 burst half-life ago: 2 × 1/2 = 1) and #2 (starting at T: 1 × 1 = 1);
    // a burst not started yet (#0 at T + 1 h) does not count.
    const bursting = world({ burstStart: [T - H, T, T + H], burstArticle: [1, 2, 0] });
    const p = firstReadProbabilities(bursting, reader(), T, nothingRead);
    close(p, [0, 0.3 * 0.5 + 0.7 / 3, 0.3 * 0.5 + 0.7 * (2 / 3), 0]);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    // Burst long over (more than 6 burst decay-times, 6 / ln 2 half-lives): no trend at all.
    const over = world({ burstStart: [T - 9 * H], burstArticle: [1] });
    close(firstReadProbabilities(over, reader(), T, nothingRead), [0, 1 / 3, 2 / 3, 0]);
  });

  it("rank among a candidate pool only, ties by page id", () => {
    const p = Float64Array.from([0.2, 0.5, 0.2, 0]);
    const page = (i: number) => ["b", "c", "a", "d"][i] as string;
    expect(oracleTop(p, 10, page)).toEqual([1, 2, 0]);
    expect(oracleTop(p, 10, page, [0, 2, 3])).toEqual([2, 0]);
    expect(oracleTop(p, 2, page)).toEqual([1, 2]);
  });
});
