/**
 * The promotion gate (pure): the best of all on the test window is served. A new model is promoted
 * when its test NDCG@10 beats every baseline's and the current champion's (re-evaluated on the same
 * split); when a baseline beats the model and the champion, that baseline is promoted (as a bundle
 * of its own); otherwise the champion stays. The first promotion only has to beat the rest.
 */
export type GateDecision =
  | { promote: true; reason: "first-model" | "beats-champion" }
  | { promote: true; reason: "baseline-best"; baseline: string }
  | { promote: false; reason: "below-baseline" | "below-champion" };

export interface GateInput {
  model: number;
  baselines: Record<string, number>;
  /** Champion's NDCG@10 on the same split; undefined when there is no (usable) champion. */
  champion: number | undefined;
}

export function promotionDecision(input: GateInput): GateDecision {
  const [bestName, bestBaseline] = Object.entries(input.baselines).reduce(
    (best, entry) => (entry[1] > best[1] ? entry : best),
    ["", Number.NEGATIVE_INFINITY] as [string, number],
  );
  if (input.model > bestBaseline) {
    if (input.champion === undefined) return { promote: true, reason: "first-model" };
    if (!(input.model > input.champion)) return { promote: false, reason: "below-champion" };
    return { promote: true, reason: "beats-champion" };
  }
  if (bestName !== "" && (input.champion === undefined || bestBaseline > input.champion))
    return { promote: true, reason: "baseline-best", baseline: bestName };
  return { promote: false, reason: input.champion === undefined ? "below-baseline" : "below-champion" };
}
