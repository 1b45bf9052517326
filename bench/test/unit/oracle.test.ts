import { describe, expect, it } from "@jest/globals";
import {
  firstReadProbabilities,
  type OracleReader,
  type OracleWorld,
  oracleTop,
  qualityEstimates,
} from "../../src/oracle.js";

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

describe("the oracle's estimated quality", () => {
  // Half-life 1 h. #0 issued 11 h before 0 (beyond the oracle's 10 half-lives at 3 h), #1 and #2 at 0,
  // #3 at 2 h, #4 at 3 h (the query time: no read yet). Reads: #1 at 1 h, #1 and #2 at 2 h.
  // Z(1 h) = 2 × 1/2 + #0's 2^−12; Z(2 h) = 2 × 1/4 + 1 (#3, just issued) + #0's 2^−13.
  const issued = [-11 * H, 0, 0, 2 * H, 3 * H];
  const reads = [
    { article: 1, timestamp: H },
    { article: 1, timestamp: 2 * H },
    { article: 2, timestamp: 2 * H },
  ];
  const sigma = 1;
  const m = Math.exp(0.5);
  const v = (Math.E - 1) * Math.E;
  const alpha = (m * m) / v;
  const beta = m / v;

  it("is the gamma posterior mean given each article's reads and exposure, with λ fitted on the window's articles", () => {
    const estimates = qualityEstimates(issued, 1, sigma, reads);
    expect(estimates.prior.mean).toBeCloseTo(m, 12);
    const { quality, exposure, lambda } = estimates.at(3 * H);
    const z1 = 1 + 2 ** -12;
    const z2 = 1.5 + 2 ** -13;
    // E_a = Σ_r d_a(t_r) / Z(t_r): #1 and #2 alike (same age), #3 gets the two reads of its first instant.
    const e01 = 0.5 / z1 + (2 * 0.25) / z2;
    const e2 = 2 / z2;
    close(exposure, [0, e01, e01, e2, 0]);
    // λ = reads ÷ Σ m·E over the estimated articles (#1…#4).
    expect(lambda).toBeCloseTo(3 / (m * (2 * e01 + e2)), 12);
    close(quality, [
      m,
      (alpha + 2) / (beta + lambda * e01),
      (alpha + 1) / (beta + lambda * e01),
      alpha / (beta + lambda * e2),
      m,
    ]);
    // Same age, more reads: the higher estimate; read-less but exposed: below the prior mean.
    expect(quality[1]).toBeGreaterThan(quality[2] as number);
    expect(quality[3]).toBeLessThan(m);
  });

  it("uses only the reads before the query time: with none, every article keeps the prior mean", () => {
    const { quality, lambda } = qualityEstimates(issued, 1, sigma, reads).at(H);
    close(quality, [m, m, m, m, m]);
    expect(lambda).toBeCloseTo(1 / m, 12);
  });
});
