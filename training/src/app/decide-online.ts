/**
 * The decision job of the online loop (docs/online.md): measures `@challenger` against `@champion`
 * on the clicks in the impression log and promotes, stops the challenger, or keeps collecting.
 * Runnable by hand (`training decide`) and on a schedule; each run is idempotent over the same log.
 */
import {
  type ArmFigures,
  CHALLENGER_ALIAS,
  CHAMPION_ALIAS,
  type ImpressionRecord,
  joinImpressionLog,
} from "@gplay/common";
import {
  type ArmCounts,
  DEFAULT_DECISION_OPTIONS,
  type Decision,
  type DecisionOptions,
  decide,
  p95,
} from "../domain/online-decision.js";
import type {
  ExperimentTracker,
  ImpressionLogSource,
  MetricPoint,
  OnlineRegistry,
  Progress,
} from "./ports.js";

export interface OnlineDecisionDeps {
  log: ImpressionLogSource;
  registry: OnlineRegistry;
  tracker: ExperimentTracker;
  logger: Progress;
}

export interface OnlineDecisionConfig {
  modelName: string;
  experimentName: string;
  options?: DecisionOptions;
}

export type OnlineDecisionReport =
  | { status: "no-challenger"; champion: string | undefined }
  | {
      status: "decided";
      champion: string | undefined;
      challenger: string;
      decision: Decision;
      /** The champion after this run (the challenger's version when promoted). */
      championAfter: string | undefined;
      runId: string;
      /** Exact online figures of every (version, arm, strategy) in the log. */
      arms: ArmFigures[];
      unattributedClicks: number;
    };

/** The counts of the lists `version` served under `arm` (its model-error fallbacks included). */
function armCounts(
  records: readonly ImpressionRecord[],
  arms: readonly ArmFigures[],
  version: string,
  arm: string,
): ArmCounts {
  const mine = arms.filter((a) => a.modelVersion === version && a.arm === arm);
  const latencies = records
    .filter(
      (r) => r.eventType === "served" && r.modelVersion === version && r.arm === arm && r.latencyMs >= 0,
    )
    .map((r) => r.latencyMs);
  return {
    lists: mine.reduce((n, a) => n + a.impressions, 0),
    clicks: mine.reduce((n, a) => n + a.clicks, 0),
    errors: mine.filter((a) => a.strategy === "model-error").reduce((n, a) => n + a.impressions, 0),
    latencyP95Ms: p95(latencies),
  };
}

/**
 * One decision: reads the whole impression log, joins it exactly (common's `joinImpressionLog`),
 * counts the challenger's and the champion's arms, applies the sequential test and its guardrails,
 * records the decision and its figures as an MLflow run (metrics per arm: CTR@k, clicks per list,
 * coverage) and as tags on the challenger's version, then acts: `promote` moves `@champion` (and the
 * Production stage) to the challenger and clears `@challenger`; `stop` clears `@challenger`;
 * `continue` changes nothing.
 */
export async function runOnlineDecision(
  deps: OnlineDecisionDeps,
  config: OnlineDecisionConfig,
): Promise<OnlineDecisionReport> {
  const { registry, tracker, logger } = deps;
  const options = config.options ?? DEFAULT_DECISION_OPTIONS;
  const champion = await registry.aliasVersion(config.modelName, CHAMPION_ALIAS);
  const challenger = await registry.aliasVersion(config.modelName, CHALLENGER_ALIAS);
  if (challenger === undefined) {
    logger.info({ champion }, "no @challenger version: nothing to decide");
    return { status: "no-challenger", champion };
  }
  const all: ImpressionRecord[] = [];
  for await (const record of deps.log.records()) all.push(record);
  // The trial starts with the challenger's first list: the champion is compared over the same period.
  const isTrialList = (r: ImpressionRecord) =>
    r.eventType === "served" && r.modelVersion === challenger && r.arm === "challenger";
  const trialStart = all.reduce(
    (t, r) => (isTrialList(r) && r.timestamp < t ? r.timestamp : t),
    Number.POSITIVE_INFINITY,
  );
  const records = all.filter((r) => r.eventType !== "served" || r.timestamp >= trialStart);
  const joined = joinImpressionLog(records);
  const challengerCounts = armCounts(records, joined.arms, challenger, "challenger");
  const championCounts =
    champion === undefined
      ? { lists: 0, clicks: 0, errors: 0, latencyP95Ms: 0 }
      : armCounts(records, joined.arms, champion, "champion");
  const decision = decide(challengerCounts, championCounts, options);

  const runId = await tracker.startRun(config.experimentName, `online-decision-v${challenger}`, {
    "gplay.online.challenger_version": challenger,
    "gplay.online.champion_version": champion ?? "none",
  });
  await tracker.logParams(runId, {
    test: "SPRT on clicks conditioned on their total (Poisson rates)",
    alpha: String(options.alpha),
    beta: String(options.beta),
    min_effect: String(options.minEffect),
    min_lists_per_arm: String(options.minListsPerArm),
    min_clicks: String(options.minClicks),
    max_clicks: String(options.maxClicks),
  });
  const metrics: MetricPoint[] = [
    { key: "online.llr", value: decision.figures.llr },
    { key: "online.clicks", value: decision.figures.clicks },
    { key: "online.unattributed_clicks", value: joined.unattributedClicks },
    ...(Number.isFinite(decision.figures.ratio)
      ? [{ key: "online.ratio", value: decision.figures.ratio }]
      : []),
  ];
  for (const [name, counts] of [
    ["challenger", challengerCounts],
    ["champion", championCounts],
  ] as const) {
    metrics.push(
      { key: `online.${name}.lists`, value: counts.lists },
      { key: `online.${name}.clicks`, value: counts.clicks },
      { key: `online.${name}.error_rate`, value: counts.lists === 0 ? 0 : counts.errors / counts.lists },
      { key: `online.${name}.latency_p95_ms`, value: counts.latencyP95Ms },
    );
  }
  for (const a of joined.arms) {
    const prefix = `online.v${a.modelVersion}.${a.arm}.${a.strategy}`;
    metrics.push(
      { key: `${prefix}.ctr`, value: a.ctr },
      { key: `${prefix}.clicks_per_list`, value: a.clicksPerImpression },
      { key: `${prefix}.lists`, value: a.impressions },
      { key: `${prefix}.pages_served`, value: a.pagesServed },
    );
  }
  await tracker.logMetrics(runId, metrics);
  const tags: Record<string, string> = {
    "gplay.online.decision": decision.outcome,
    "gplay.online.reason": decision.reason,
    "gplay.online.llr": decision.figures.llr.toFixed(4),
    "gplay.online.ratio": Number.isFinite(decision.figures.ratio)
      ? decision.figures.ratio.toFixed(4)
      : "none",
    "gplay.online.clicks": String(decision.figures.clicks),
    "gplay.online.challenger_clicks_per_list": decision.figures.challengerClicksPerList.toFixed(6),
    "gplay.online.champion_clicks_per_list": decision.figures.championClicksPerList.toFixed(6),
    "gplay.online.run_id": runId,
  };
  await tracker.setTags(runId, tags);
  await registry.setVersionTags(config.modelName, challenger, tags);

  let championAfter = champion;
  if (decision.outcome === "promote") {
    await registry.setAlias(config.modelName, CHAMPION_ALIAS, challenger);
    await registry.moveProductionStage(config.modelName, challenger);
    await registry.deleteAlias(config.modelName, CHALLENGER_ALIAS);
    championAfter = challenger;
  } else if (decision.outcome === "stop") await registry.deleteAlias(config.modelName, CHALLENGER_ALIAS);
  await tracker.finishRun(runId, "FINISHED");
  logger.info(
    { champion, challenger, outcome: decision.outcome, reason: decision.reason, ...decision.figures, runId },
    `online decision: ${decision.outcome} (${decision.reason})`,
  );
  return {
    status: "decided",
    champion,
    challenger,
    decision,
    championAfter,
    runId,
    arms: joined.arms,
    unattributedClicks: joined.unattributedClicks,
  };
}
