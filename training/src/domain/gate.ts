/**
 * The promotion gate (pure): a new model becomes champion only when its test NDCG@10 beats every
 * baseline's and the current champion's (re-evaluated on the same split); the first model only has
 * to beat the baselines.
 */
export type GateDecision =
  | { promote: true; reason: "first-model" | "beats-champion" }
  | { promote: false; reason: "below-baseline" | "below-champion" };

export interface GateInput {
  model: number;
  baselines: Record<string, number>;
  /** Champion's NDCG@10 on the same split; undefined when there is no (usable) champion. */
  champion: number | undefined;
}

export function promotionDecision(input: GateInput): GateDecision {
  const bestBaseline = Math.max(...Object.values(input.baselines));
  if (!(input.model > bestBaseline)) return { promote: false, reason: "below-baseline" };
  if (input.champion === undefined) return { promote: true, reason: "first-model" };
  if (!(input.model > input.champion)) return { promote: false, reason: "below-champion" };
  return { promote: true, reason: "beats-champion" };
}
