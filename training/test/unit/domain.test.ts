import { mulberry32, vocabularyIndex } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { chooseServingPopularity, MIN_COLD_READERS_TO_CHOOSE } from "../../src/domain/baselines.js";
import type { TrainingData } from "../../src/domain/data.js";
import { HOUR_MS } from "../../src/domain/data.js";
import { buildExamples, mergeExamples } from "../../src/domain/examples.js";
import { promotionDecision } from "../../src/domain/gate.js";
import {
  evaluateLists,
  listScores,
  ndcgByCase,
  pairedRatioInterval,
  segmentCases,
} from "../../src/domain/metrics.js";
import { lossCurveSvg, metricBarsSvg, segmentTable } from "../../src/domain/report.js";
import { pickShrinkage } from "../../src/domain/shrinkage.js";
import { sample, timeSplit, validationCases, windowCases } from "../../src/domain/split.js";
import { covisitationAt, popularityAt } from "../../src/domain/structures.js";
import { buildWorld, candidatePool } from "../../src/domain/world.js";
import { pageId, readAt } from "./helpers.js";

const P = pageId;
const read = readAt;

function dataset(): TrainingData {
  const readers = new Map([
    ["a", { userId: "a", userType: "Logged" as const, log: [read(1, 10), read(2, 10.5), read(3, 60)] }],
    ["b", { userId: "b", userType: "Non-Logged" as const, log: [read(1, 20), read(2, 20.2), read(4, 30)] }],
    ["c", { userId: "c", userType: "Non-Logged" as const, log: [read(5, 50)] }],
  ]);
  const articles = new Map(
    [1, 2, 3, 4, 5].map((n) => [
      P(n),
      { page: P(n), section: n % 2 ? "a" : "b", region: "nacional", issued: n * 5 * HOUR_MS },
    ]),
  );
  const events = [...readers.values()]
    .flatMap((r) => r.log.map((i) => ({ userId: r.userId, page: i.page, timestamp: i.timestamp, weight: 1 })))
    .sort((x, y) => x.timestamp - y.timestamp);
  return { asOf: 60 * HOUR_MS, readers, articles, validation: new Map(), events };
}

describe("the ground truth", () => {
  it("holds only pages new to the reader: a re-read in the window or in validacao is no target", () => {
    const data = dataset();
    // a re-reads page 1 in the window [40 h, 70 h] besides reading page 3 for the first time.
    data.readers.get("a")?.log.push(read(1, 65));
    data.validation.set("b", [
      { page: P(2), timestamp: 70 * HOUR_MS },
      { page: P(5), timestamp: 71 * HOUR_MS },
    ]);
    data.validation.set("c", [{ page: P(5), timestamp: 72 * HOUR_MS }]);
    const window = windowCases(data, 40 * HOUR_MS, 70 * HOUR_MS, 10, 1);
    expect(window.find((c) => c.userId === "a")?.targets).toEqual(new Set([P(3)]));
    // b re-reads 2 and reads 5 for the first time; c's only access repeats a read: no case at all.
    expect(validationCases(data, 10, 1).map((c) => [c.userId, [...c.targets]])).toEqual([["b", [P(5)]]]);
  });
});

describe("time split", () => {
  it("puts the validation window right before the test window, which ends at asOf", () => {
    expect(timeSplit(100 * HOUR_MS, { testHours: 24, validationHours: 12 })).toEqual({
      validCut: 64 * HOUR_MS,
      testCut: 76 * HOUR_MS,
      end: 100 * HOUR_MS,
      testHours: 24,
      validationHours: 12,
    });
  });

  it("spans the serving horizon (48 h each) on a long snapshot, and shrinks both windows to half of a short one", () => {
    const asOf = 1_000 * HOUR_MS;
    expect(timeSplit(asOf, undefined, asOf - 16 * 24 * HOUR_MS)).toMatchObject({
      testCut: asOf - 48 * HOUR_MS,
      validCut: asOf - 96 * HOUR_MS,
    });
    // 4 days of reads: the two windows take 2 of them, 24 h each, as the G1 days before them feed features
    expect(timeSplit(asOf, undefined, asOf - 96 * HOUR_MS)).toMatchObject({
      testCut: asOf - 24 * HOUR_MS,
      validCut: asOf - 48 * HOUR_MS,
      testHours: 24,
      validationHours: 24,
    });
  });

  it("marks readers without reads before the window as cold and collects their window reads as targets", () => {
    const cases = windowCases(dataset(), 36 * HOUR_MS, 60 * HOUR_MS, 10, 1);
    expect(cases.map((c) => [c.userId, [...c.targets], c.cold])).toEqual([
      ["a", [P(3)], false],
      ["c", [P(5)], true],
    ]);
  });

  it("builds popularity, co-visitation and candidates from reads before the cut only", () => {
    const data = dataset();
    const cut = 25 * HOUR_MS;
    expect([...popularityAt(data.events, cut, 6).keys()].sort()).toEqual([P(1), P(2)]);
    const cov = covisitationAt(data, cut);
    expect(cov.get(P(1))?.get(P(2))).toBe(2);
    expect(cov.has(P(4))).toBe(false);
    const world = buildWorld(data, cut, vocabularyIndex({ section: ["a", "b"], region: ["nacional"] }));
    expect(world.catalogue.map((a) => a.page).sort()).toEqual([P(1), P(2), P(3), P(4)]);
    // Reader b read 4 at hour 30, after the cut: it stays a candidate, and its profile ignores it.
    expect(world.profile("b").interactions).toBe(2);
    expect(candidatePool(world, world.profile("b"))).not.toContain(P(1));
    expect(candidatePool(world, world.profile("b"))).toEqual(expect.arrayContaining([P(3), P(4)]));
  });

  it("samples readers reproducibly with a seed", () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    expect(sample(items, 10, 7)).toEqual(sample(items, 10, 7));
    expect(sample(items, 10, 7)).not.toEqual(sample(items, 10, 8));
    expect(mulberry32(3)()).toBe(mulberry32(3)());
  });
});

describe("training examples", () => {
  it("lays out one group per positive: the positive, then negatives from the same reader's pool", () => {
    const data = dataset();
    const cut = 25 * HOUR_MS;
    const world = buildWorld(data, cut, vocabularyIndex({ section: ["a", "b"], region: ["nacional"] }));
    const cases = windowCases(data, cut, 60 * HOUR_MS, 10, 1);
    const examples = buildExamples(world, cases, 3, 7);
    expect(examples.groupSize).toBe(4);
    // Positives: a's read of 3 and b's read of 4 after the cut (both pools hold 3 and 4). c has no
    // history before the cut (a new reader: no examples), and 5 was not issued before it.
    expect(examples.positives).toBe(2);
    expect(examples.inputs.rows).toBe(examples.positives * 4);
    expect([...examples.labels]).toEqual([...examples.labels].map((_, r) => (r % 4 === 0 ? 1 : 0)));
    const merged = mergeExamples([examples, examples]);
    expect(merged.inputs.rows).toBe(2 * examples.inputs.rows);
    expect(merged.groupSize).toBe(4);
    expect(() => mergeExamples([examples, { ...examples, groupSize: 9 }])).toThrow(/group sizes/);
    expect(() => buildExamples(world, cases, 0, 7)).toThrow(/negatives/);
  });
});

describe("metrics", () => {
  it("scores a hit at rank 2 among two targets", () => {
    const s = listScores(["x", "t1", "y"], new Set(["t1", "t2"]));
    expect(s.hr).toBe(1);
    expect(s.rr).toBe(0.5);
    expect(s.recall).toBe(0.5);
    expect(s.ndcg).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
  });

  it("reports coverage, novelty and separate figures for readers with history and cold readers", () => {
    const cases = [
      { userId: "a", targets: new Set(["p1"]), cold: false },
      { userId: "b", targets: new Set(["p9"]), cold: true },
    ];
    const f = evaluateLists(cases, [["p1", "p2"], ["p2"]], {
      readCounts: new Map([["p2", 7]]),
      totalReads: 8,
      catalogueSize: 4,
    });
    expect(f.history.ndcg10).toBe(1);
    expect(f.cold.hr10).toBe(0);
    expect(f.all.hr10).toBe(0.5);
    expect(f.all.coverage).toBe(0.5);
    expect(f.all.novelty).toBeGreaterThan(0);
  });
});

describe("promotion gate", () => {
  it("promotes a first model only above every baseline", () => {
    expect(
      promotionDecision({ model: 0.3, baselines: { pop: 0.2, cov: 0.25 }, champion: undefined }),
    ).toEqual({
      promote: true,
      reason: "first-model",
    });
    // A baseline better than the model is served instead (the best of all), unless the champion beats it.
    expect(
      promotionDecision({ model: 0.22, baselines: { pop: 0.2, cov: 0.25 }, champion: undefined }),
    ).toEqual({ promote: true, reason: "baseline-best", baseline: "cov" });
    expect(promotionDecision({ model: 0.22, baselines: { pop: 0.2, cov: 0.25 }, champion: 0.26 })).toEqual({
      promote: false,
      reason: "below-champion",
    });
  });

  it("needs to beat the champion re-evaluated on the same split; a tie does not promote", () => {
    expect(promotionDecision({ model: 0.3, baselines: { pop: 0.2 }, champion: 0.3 })).toEqual({
      promote: false,
      reason: "below-champion",
    });
    expect(promotionDecision({ model: 0.31, baselines: { pop: 0.2 }, champion: 0.3 }).reason).toBe(
      "beats-champion",
    );
  });
});

describe("the serving popularity (new readers' list, the model's popular tier and feature)", () => {
  const many = MIN_COLD_READERS_TO_CHOOSE;
  /** `cold` new readers then `warm` readers with history; each method's NDCG@10 per reader. */
  const window = (cold: number, warm: number) => {
    const cases = Array.from({ length: cold + warm }, (_, i) => ({
      userId: `u${i}`,
      targets: new Set(["p"]),
      cold: i < cold,
    }));
    const scores = (f: (i: number, isCold: boolean) => number) =>
      Float64Array.from(cases, (c, i) => f(i, c.cold));
    return { cases, scores };
  };

  const thirty = { kind: "window", minutes: 30 } as const;

  it("switches to the recent window only when it is better beyond the noise on the new readers", () => {
    const { cases, scores } = window(many, many);
    // decayed popularity hits every 10th new reader; the buffer every 5th (twice as many hits)
    const decayed = scores((i, cold) => (cold && i % 10 === 0 ? 1 : 0));
    const buffer = scores((i, cold) => (cold && i % 5 === 0 ? 1 : 0));
    const clear = chooseServingPopularity(decayed, buffer, cases, thirty);
    expect(clear.popularity).toEqual({ kind: "window", minutes: 30 });
    expect(clear.evidence.ratio).toBeCloseTo(2, 6);
    expect(clear.evidence.low).toBeGreaterThan(1);
    // one hit more in 200 new readers is within the noise: decayed popularity stays
    const narrow = scores((i, cold) => (cold && (i % 10 === 0 || i === 1) ? 1 : 0));
    const kept = chooseServingPopularity(decayed, narrow, cases, thirty);
    expect(kept.evidence.ratio).toBeGreaterThan(1);
    expect(kept.evidence.low).toBeLessThanOrEqual(1);
    expect(kept.popularity).toEqual({ kind: "decayed" });
  });

  it("widens the interval for the recent buffers the best was chosen from: a best of five must win by more", () => {
    const { cases, scores } = window(2 * many, 0);
    const decayed = scores((i) => (i % 10 === 0 ? 1 : 0));
    // Against decayed popularity's 40 hits in 400 new readers, `extra` more.
    const better = (extra: number) =>
      scores((i) => (i % 10 === 0 || (i % 10 === 5 && i < 10 * extra) ? 1 : 0));
    const margins = [3, 4, 5, 6].map((extra) => ({
      one: chooseServingPopularity(decayed, better(extra), cases, thirty, 1),
      five: chooseServingPopularity(decayed, better(extra), cases, thirty, 5),
    }));
    // The same ratio either way; the best of five's interval is the wider (98 % against 90 %).
    for (const { one, five } of margins) {
      expect(five.evidence.ratio).toBe(one.evidence.ratio);
      expect(five.evidence.low).toBeLessThan(one.evidence.low);
      expect(five.evidence.high).toBeGreaterThan(one.evidence.high);
    }
    // Some margin passes the single buffer's rule and not the best of five's.
    const between = margins.find(({ one, five }) => one.evidence.low > 1 && five.evidence.low <= 1);
    expect(between?.one.popularity).toEqual(thirty);
    expect(between?.five.popularity).toEqual({ kind: "decayed" });
  });

  it("is judged on the new readers alone when there are enough, else on every reader", () => {
    // the buffer is clearly better on the readers with history, no better on the new readers
    const enough = window(many, many);
    const d1 = enough.scores((i) => (i % 10 === 0 ? 1 : 0));
    const b1 = enough.scores((i, cold) => (cold ? (i % 10 === 0 ? 1 : 0) : i % 2 === 0 ? 1 : 0));
    expect(chooseServingPopularity(d1, b1, enough.cases, thirty).popularity).toEqual({ kind: "decayed" });
    const few = window(many - 1, many);
    const d2 = few.scores((i) => (i % 10 === 0 ? 1 : 0));
    const b2 = few.scores((i, cold) => (cold ? (i % 10 === 0 ? 1 : 0) : i % 2 === 0 ? 1 : 0));
    expect(chooseServingPopularity(d2, b2, few.cases, thirty).popularity).toEqual(thirty);
    // an old-style buffer of reads is chosen by the same rule
    expect(chooseServingPopularity(d2, b2, few.cases, { kind: "buffer", reads: 300 }).popularity).toEqual({
      kind: "buffer",
      reads: 300,
    });
    // a tie keeps decayed popularity
    expect(chooseServingPopularity(d1, d1, enough.cases, thirty).popularity).toEqual({ kind: "decayed" });
  });
});

describe("the shrinkage toward the popularity prior", () => {
  // 400 readers with history; each weight's NDCG@10 per reader.
  const history = Array.from({ length: 400 }, (_, i) => i);
  const scores = (f: (i: number) => number) => Float64Array.from(history, f);
  const trained = { weight: 1, scores: scores((i) => (i % 10 === 0 ? 0.5 : 0)) };

  it("shrinks when a smaller weight is clearly better on the test window", () => {
    const prior = { weight: 0, scores: scores((i) => (i % 5 === 0 ? 0.5 : 0)) };
    const half = { weight: 0.5, scores: scores((i) => (i % 8 === 0 ? 0.5 : 0)) };
    const choice = pickShrinkage([trained, half, prior], history);
    expect(choice.weight).toBe(0);
    expect(choice.evidence?.weight).toBe(0);
    expect(choice.evidence?.ratio).toBeCloseTo(2, 6);
    expect(choice.evidence?.low).toBeGreaterThan(1);
    expect(choice.ndcg).toEqual([
      { weight: 1, ndcg: 0.05 },
      { weight: 0.5, ndcg: 0.0625 },
      { weight: 0, ndcg: 0.1 },
    ]);
  });

  it("keeps the trained network when the better weight is within the noise", () => {
    // One more hit in 400 readers: better, but its interval holds 1.
    const barely = { weight: 0.75, scores: scores((i) => (i % 10 === 0 || i === 1 ? 0.5 : 0)) };
    const choice = pickShrinkage([trained, barely], history);
    expect(choice.evidence?.ratio).toBeGreaterThan(1);
    expect(choice.evidence?.low).toBeLessThanOrEqual(1);
    expect(choice.weight).toBe(1);
    expect(pickShrinkage([trained], history)).toEqual({ weight: 1, ndcg: [{ weight: 1, ndcg: 0.05 }] });
    expect(() => pickShrinkage([barely], history)).toThrow(/weight 1/);
  });
});

describe("report plots", () => {
  it("draws one bar pair per method and one polyline per loss series", () => {
    const bars = metricBarsSvg("t", [
      { method: "model", ndcg10: 0.3, hr10: 0.5 },
      { method: "popularity", ndcg10: 0.2, hr10: 0.4 },
    ]);
    expect(bars.match(/<rect /g)).toHaveLength(2 + 4);
    expect(lossCurveSvg({ loss: [0.7, 0.5, 0.4], val_loss: [0.7, 0.6] }).match(/<polyline/g)).toHaveLength(2);
  });
});

describe("the per-segment report", () => {
  it("tabulates each method per segment with its NDCG@10 ratio to the best baseline", () => {
    const f = (ndcg10: number) => ({ ndcg10, hr10: 0.5, mrr: 0.2, coverage: 0.1, readers: 10 });
    const table = segmentTable(
      "Test window",
      {
        model: { history: f(0.3), cold: f(0.1) },
        popularity: { history: f(0.2), cold: f(0.1) },
        covisitation: { history: f(0.25), cold: f(0.05) },
      },
      ["popularity", "covisitation"],
    );
    expect(table).toContain("| model | 0.3000 | 0.5000 | 0.2000 | 0.1000 | 10 | 1.200 |");
    expect(table).toContain("| covisitation | 0.0500 | 0.5000 | 0.2000 | 0.1000 | 10 | 0.500 |");
    expect(table.indexOf("readers with history")).toBeLessThan(table.indexOf("new readers"));
  });

  it("prints the model's ratio to the best baseline with its interval under each segment", () => {
    const f = (ndcg10: number) => ({ ndcg10, hr10: 0.5, mrr: 0.2, coverage: 0.1, readers: 10 });
    const r = (ratio: number) => ({
      ratio,
      low: ratio - 0.1,
      high: ratio + 0.1,
      readers: 10,
      baseline: "popularity",
    });
    const table = segmentTable(
      "validacao",
      { model: { history: f(0.3), cold: f(0.1) }, popularity: { history: f(0.2), cold: f(0.1) } },
      ["popularity"],
      { history: r(1.5), cold: r(1) },
    );
    expect(table).toContain(
      "model ÷ popularity: 1.500 (90 % paired-bootstrap interval over the 10 readers: 1.400–1.600)",
    );
    expect(table.indexOf("1.400–1.600")).toBeLessThan(table.indexOf("new readers"));
  });
});

describe("the model's ratio to a baseline, with a paired bootstrap interval", () => {
  it("is the ratio of the means, and its interval narrows as readers are added", () => {
    const rng = mulberry32(3);
    const scores = (n: number) => {
      // the model hits a reader with probability 0.3, the baseline 0.2, independently
      const a = Float64Array.from({ length: n }, () => (rng() < 0.3 ? 1 : 0));
      const b = Float64Array.from({ length: n }, () => (rng() < 0.2 ? 1 : 0));
      return { a, b, idx: Array.from({ length: n }, (_, i) => i) };
    };
    const small = scores(100);
    const large = scores(10_000);
    const rs = pairedRatioInterval(small.a, small.b, small.idx);
    const rl = pairedRatioInterval(large.a, large.b, large.idx);
    const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(rl.ratio).toBeCloseTo(mean(large.a) / mean(large.b), 12);
    expect(rl.low).toBeLessThan(rl.ratio);
    expect(rl.high).toBeGreaterThan(rl.ratio);
    expect(rl.low).toBeGreaterThan(1.3);
    expect(rl.high).toBeLessThan(1.7);
    expect(rs.high - rs.low).toBeGreaterThan(3 * (rl.high - rl.low));
    expect(rl.readers).toBe(10_000);
  });

  it("has no width when both methods score every reader alike, and is seeded", () => {
    const a = Float64Array.from([0.5, 0, 1, 0.2]);
    const r = pairedRatioInterval(a, a, [0, 1, 2, 3]);
    expect(r).toEqual({ ratio: 1, low: 1, high: 1, readers: 4 });
    const b = Float64Array.from([0.1, 0.4, 0, 0.3]);
    expect(pairedRatioInterval(a, b, [0, 1, 2, 3], { seed: 9 })).toEqual(
      pairedRatioInterval(a, b, [0, 1, 2, 3], { seed: 9 }),
    );
  });

  it("scores each case's list and splits cases by segment", () => {
    const cases = [
      { userId: "a", targets: new Set(["p1"]), cold: false },
      { userId: "b", targets: new Set(["p2"]), cold: true },
    ];
    expect([
      ...ndcgByCase(cases, [
        ["p1", "p3"],
        ["p3", "p2"],
      ]),
    ]).toEqual([1, 1 / Math.log2(3)]);
    expect([...ndcgByCase(cases, [])]).toEqual([0, 0]);
    expect(segmentCases(cases, "history")).toEqual([0]);
    expect(segmentCases(cases, "cold")).toEqual([1]);
  });
});
