import { mulberry32 } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import {
  type ArmCounts,
  DEFAULT_DECISION_OPTIONS,
  type Decision,
  decide,
  p95,
} from "../../src/domain/online-decision.js";

const arm = (lists: number, clicks: number, errors = 0, latencyP95Ms = 10): ArmCounts => ({
  lists,
  clicks,
  errors,
  latencyP95Ms,
});

/**
 * One simulated trial: lists served half to each arm, each clicked with its arm's CTR (Bernoulli, one
 * click at most: the Poisson model of the test is only an approximation), the decision job looking
 * every `lookEvery` lists per arm until it decides.
 */
function trial(random: () => number, championCtr: number, ratio: number, lookEvery = 50): Decision {
  const champion = arm(0, 0);
  const challenger = arm(0, 0);
  for (;;) {
    for (let i = 0; i < lookEvery; i++) {
      champion.lists += 1;
      challenger.lists += 1;
      if (random() < championCtr) champion.clicks += 1;
      if (random() < championCtr * ratio) challenger.clicks += 1;
    }
    const decision = decide(challenger, champion);
    if (decision.outcome !== "continue") return decision;
  }
}

function promotionRate(seed: number, trials: number, championCtr: number, ratio: number): number {
  const random = mulberry32(seed);
  let promoted = 0;
  for (let t = 0; t < trials; t++) if (trial(random, championCtr, ratio).outcome === "promote") promoted += 1;
  return promoted / trials;
}

describe("the online decision's sequential test (SPRT, α = 0.05, power 0.8 at a 1.3 ratio)", () => {
  // 400 trials: the Monte Carlo standard error is ≈ 0.011 at 0.05 and ≈ 0.02 at 0.8.
  it("promotes an equal challenger in at most 5 % of trials (false promotion), at CTRs 0.05 and 0.2", () => {
    expect(promotionRate(1, 400, 0.05, 1)).toBeLessThanOrEqual(0.05 + 0.02);
    expect(promotionRate(2, 400, 0.2, 1)).toBeLessThanOrEqual(0.05 + 0.02);
  });

  it("promotes a challenger 1.3 times better in at least 80 % of trials", () => {
    expect(promotionRate(3, 400, 0.05, 1.3)).toBeGreaterThanOrEqual(0.8 - 0.03);
    expect(promotionRate(4, 400, 0.2, 1.3)).toBeGreaterThanOrEqual(0.8 - 0.03);
  });

  it("almost never promotes a worse challenger (ratio 1 / 1.3)", () => {
    expect(promotionRate(5, 400, 0.1, 1 / 1.3)).toBeLessThanOrEqual(0.01);
  });

  it("decides nothing before the minimum sample, whatever the clicks say", () => {
    const { minListsPerArm } = DEFAULT_DECISION_OPTIONS;
    expect(decide(arm(minListsPerArm - 1, 150), arm(minListsPerArm - 1, 0))).toMatchObject({
      outcome: "continue",
      reason: "below-minimum-sample",
    });
    expect(decide(arm(5_000, 20), arm(5_000, 5))).toMatchObject({
      outcome: "continue",
      reason: "below-minimum-sample",
    });
  });

  it("stops at the maximum sample without a decision, keeping the champion", () => {
    // Ratio between H0 and H1 (≈ 1.14) keeps the LLR between the bounds.
    expect(decide(arm(10_000, 808), arm(10_000, 710))).toMatchObject({
      outcome: "stop",
      reason: "max-sample-reached",
    });
  });

  it("stops a challenger that fails more often or is slower than the champion, even if it earns more clicks", () => {
    expect(decide(arm(1_000, 300, 30), arm(1_000, 100, 5))).toMatchObject({
      outcome: "stop",
      reason: "guardrail-error-rate",
    });
    expect(decide(arm(1_000, 300, 0, 120), arm(1_000, 100, 0, 40))).toMatchObject({
      outcome: "stop",
      reason: "guardrail-latency",
    });
    expect(decide(arm(1_000, 300, 0, 70), arm(1_000, 100, 0, 40))).toMatchObject({ outcome: "promote" });
  });

  it("takes the p95 of latencies", () => {
    expect(p95(Array.from({ length: 100 }, (_, i) => i + 1))).toBe(95);
    expect(p95([])).toBe(0);
  });
});
