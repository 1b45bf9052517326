/**
 * The decision of the online loop (docs/online.md): does `@challenger` earn more clicks per served
 * list than `@champion`? Pure: counts in, a decision and its figures out.
 *
 * The test is Wald's sequential probability ratio test (SPRT) on the clicks, conditioned on their
 * total. With n_c and n_0 lists served by the challenger and the champion and clicks arriving at
 * rates λ_c·n_c and λ_0·n_0 (clicks per list, Poisson), a click comes from the challenger with
 * probability q = ρ·n_c / (ρ·n_c + n_0), where ρ = λ_c / λ_0. The test weighs
 *   H0: ρ = 1  (no better)  against  H1: ρ = ρ1 (better by the minimum effect, default 1.3)
 * with log-likelihood ratio Λ = Σ over clicks of log(q1/q0) (challenger) or log((1−q1)/(1−q0))
 * (champion), and Wald's bounds: promote when Λ ≥ log((1−β)/α), stop the challenger when
 * Λ ≤ log(β/(1−α)); α = 0.05 bounds false promotion, β = 0.2 (power 0.8) missed ones. The test is
 * truncated at `maxClicks` (the maximum sample: then the challenger is stopped, the champion keeps its
 * title), and it decides nothing before `minListsPerArm` lists per arm and `minClicks` clicks. The
 * error rates are checked by simulation in test/unit/online-decision.test.ts.
 *
 * Guardrails are checked before the test: the challenger arm's error rate (lists it failed to rank,
 * answered from cold start) and its p95 ranking latency, each against the champion's plus a margin.
 */

export interface ArmCounts {
  /** Lists served by the arm's model (including the ones it failed on). */
  lists: number;
  /** Attributed clicks on those lists. */
  clicks: number;
  /** Lists the arm's model failed to rank (answered from cold start). */
  errors: number;
  /** p95 of the ranking time of the arm's lists, ms. */
  latencyP95Ms: number;
}

export interface DecisionOptions {
  /** Bound on false promotion. */
  alpha: number;
  /** Bound on missed promotion (power = 1 − β). */
  beta: number;
  /** The effect H1 names: challenger clicks per list / champion clicks per list. */
  minEffect: number;
  /** No decision before each arm served this many lists… */
  minListsPerArm: number;
  /** …and this many clicks were attributed in all. */
  minClicks: number;
  /** Truncation: after this many clicks without a decision, the challenger is stopped. */
  maxClicks: number;
  /** Guardrail: the challenger's error rate may exceed the champion's by at most this much. */
  maxErrorRateIncrease: number;
  /** Guardrail: its p95 latency may exceed the champion's by this factor plus `latencySlackMs`. */
  maxLatencyFactor: number;
  latencySlackMs: number;
}

export const DEFAULT_DECISION_OPTIONS: DecisionOptions = {
  alpha: 0.05,
  beta: 0.2,
  minEffect: 1.3,
  minListsPerArm: 200,
  minClicks: 40,
  maxClicks: 1_500,
  maxErrorRateIncrease: 0.01,
  maxLatencyFactor: 1.5,
  latencySlackMs: 20,
};

export type DecisionOutcome = "promote" | "stop" | "continue";

export interface Decision {
  outcome: DecisionOutcome;
  reason:
    | "sprt-accept-better"
    | "sprt-accept-no-better"
    | "max-sample-reached"
    | "below-minimum-sample"
    | "collecting"
    | "guardrail-error-rate"
    | "guardrail-latency";
  figures: {
    llr: number;
    upperBound: number;
    lowerBound: number;
    clicks: number;
    challengerClicksPerList: number;
    championClicksPerList: number;
    /** Measured ratio of clicks per list, challenger / champion (NaN when the champion has none). */
    ratio: number;
    challengerErrorRate: number;
    championErrorRate: number;
  };
}

/**
 * The SPRT's log-likelihood ratio from cumulative counts. The exposure ratio is taken at the end (the
 * split is a fixed share of readers, so it stays near constant); with it, the per-click sum collapses.
 */
export function logLikelihoodRatio(challenger: ArmCounts, champion: ArmCounts, minEffect: number): number {
  const nc = challenger.lists;
  const n0 = champion.lists;
  if (nc === 0 || n0 === 0) return 0;
  const q0 = nc / (nc + n0);
  const q1 = (minEffect * nc) / (minEffect * nc + n0);
  return challenger.clicks * Math.log(q1 / q0) + champion.clicks * Math.log((1 - q1) / (1 - q0));
}

/** Decides on the counts gathered so far (guardrails, minimum sample, SPRT, truncation). */
export function decide(
  challenger: ArmCounts,
  champion: ArmCounts,
  options: DecisionOptions = DEFAULT_DECISION_OPTIONS,
): Decision {
  const upperBound = Math.log((1 - options.beta) / options.alpha);
  const lowerBound = Math.log(options.beta / (1 - options.alpha));
  const llr = logLikelihoodRatio(challenger, champion, options.minEffect);
  const rate = (a: ArmCounts) => (a.lists === 0 ? 0 : a.clicks / a.lists);
  const errorRate = (a: ArmCounts) => (a.lists === 0 ? 0 : a.errors / a.lists);
  const clicks = challenger.clicks + champion.clicks;
  const figures: Decision["figures"] = {
    llr,
    upperBound,
    lowerBound,
    clicks,
    challengerClicksPerList: rate(challenger),
    championClicksPerList: rate(champion),
    ratio: rate(champion) === 0 ? Number.NaN : rate(challenger) / rate(champion),
    challengerErrorRate: errorRate(challenger),
    championErrorRate: errorRate(champion),
  };
  const enough = challenger.lists >= options.minListsPerArm && champion.lists >= options.minListsPerArm;
  if (enough && figures.challengerErrorRate > figures.championErrorRate + options.maxErrorRateIncrease)
    return { outcome: "stop", reason: "guardrail-error-rate", figures };
  if (
    enough &&
    challenger.latencyP95Ms > champion.latencyP95Ms * options.maxLatencyFactor + options.latencySlackMs
  )
    return { outcome: "stop", reason: "guardrail-latency", figures };
  if (!enough || clicks < options.minClicks)
    return { outcome: "continue", reason: "below-minimum-sample", figures };
  if (llr >= upperBound) return { outcome: "promote", reason: "sprt-accept-better", figures };
  if (llr <= lowerBound) return { outcome: "stop", reason: "sprt-accept-no-better", figures };
  if (clicks >= options.maxClicks) return { outcome: "stop", reason: "max-sample-reached", figures };
  return { outcome: "continue", reason: "collecting", figures };
}

/** p95 of a list of values (0 for none): the guardrail's latency figure. */
export function p95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] as number;
}
