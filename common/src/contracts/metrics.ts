/**
 * CloudWatch metrics, emitted in the embedded metric format (EMF) as JSON log lines, so the same
 * code path works in AWS (the log driver extracts them) and locally (they are just logs).
 * Alarms in infra reference these names; nothing else spells them.
 */
export const METRIC_NAMESPACE = "GPlayRecommend";

/** Every metric carries these dimensions. */
export const METRIC_DIMENSIONS = ["Service", "Environment"] as const;

export type MetricUnit = "Count" | "Milliseconds" | "Seconds" | "None" | "Percent" | "Bytes";

export interface MetricDefinition {
  name: string;
  unit: MetricUnit;
  service: "featstore-engine" | "training" | "api";
  description: string;
  /** Extra dimensions beyond METRIC_DIMENSIONS. */
  extraDimensions?: readonly string[];
}

/**
 * The dimensions of the online metrics: bounded (a handful of live versions, three arms, two strategies),
 * never a reader or a page.
 */
export const ONLINE_DIMENSIONS = ["ModelVersion", "Arm", "Strategy"] as const;

export const METRICS = {
  ingestRowsIn: {
    name: "RowsIn",
    unit: "Count",
    service: "featstore-engine",
    description: "Rows read from a raw file.",
  },
  ingestRowsAccepted: {
    name: "RowsAccepted",
    unit: "Count",
    service: "featstore-engine",
    description: "Rows that passed validation.",
  },
  ingestRowsQuarantined: {
    name: "RowsQuarantined",
    unit: "Count",
    service: "featstore-engine",
    description: "Rows moved to quarantine with a reason.",
  },
  ingestElementsDropped: {
    name: "ElementsDropped",
    unit: "Count",
    service: "featstore-engine",
    description: "List elements dropped (editorial esid ids).",
  },
  ingestItemsWritten: {
    name: "ItemsWritten",
    unit: "Count",
    service: "featstore-engine",
    description: "DynamoDB items written.",
  },
  ingestDuration: {
    name: "IngestionDuration",
    unit: "Milliseconds",
    service: "featstore-engine",
    description: "Wall time of one ingestion.",
  },
  ingestFailures: {
    name: "IngestionFailures",
    unit: "Count",
    service: "featstore-engine",
    description: "Ingestions that ended in error.",
  },
  ingestRecoveries: {
    name: "IngestionRecoveries",
    unit: "Count",
    service: "featstore-engine",
    description: "Ingestions still started past the time limit that `recover` ran again.",
  },
  ingestRecoveryGaveUp: {
    name: "IngestionRecoveryGaveUp",
    unit: "Count",
    service: "featstore-engine",
    description: "Ingestions `recover` marked failed after their last allowed attempt.",
  },
  trainingDuration: {
    name: "TrainingDuration",
    unit: "Seconds",
    service: "training",
    description: "Wall time of a training run.",
  },
  trainingNdcg10: {
    name: "ModelNDCG10",
    unit: "None",
    service: "training",
    description: "NDCG@10 of the candidate model.",
  },
  trainingPromoted: {
    name: "ModelPromoted",
    unit: "Count",
    service: "training",
    description: "1 when a run promoted its model.",
  },
  trainingFailures: {
    name: "TrainingFailures",
    unit: "Count",
    service: "training",
    description: "Training runs that ended in error.",
  },
  apiLatency: {
    name: "RequestLatency",
    unit: "Milliseconds",
    service: "api",
    description: "Server-side latency per request.",
    extraDimensions: ["Route"],
  },
  api5xx: { name: "Http5xx", unit: "Count", service: "api", description: "Responses with a 5xx status." },
  api4xx: { name: "Http4xx", unit: "Count", service: "api", description: "Responses with a 4xx status." },
  apiColdstartFallback: {
    name: "ColdstartFallback",
    unit: "Count",
    service: "api",
    description: "/predict answered from cold start.",
  },
  apiModelVersion: {
    name: "ModelVersion",
    unit: "None",
    service: "api",
    description: "Registry version of the model being served.",
  },
  apiImpressions: {
    name: "Impressions",
    unit: "Count",
    service: "api",
    description: "Lists served (impressions), per model version, arm and strategy.",
    extraDimensions: ONLINE_DIMENSIONS,
  },
  apiAttributedClicks: {
    name: "AttributedClicks",
    unit: "Count",
    service: "api",
    description: "Clicks credited to a served list, per model version, arm and strategy of the list.",
    extraDimensions: ONLINE_DIMENSIONS,
  },
  apiClickedImpressions: {
    name: "ClickedImpressions",
    unit: "Count",
    service: "api",
    description: "Served lists that earned their first click (CTR@k = this / Impressions).",
    extraDimensions: ONLINE_DIMENSIONS,
  },
  apiUnattributedClicks: {
    name: "UnattributedClicks",
    unit: "Count",
    service: "api",
    description: "Clicks credited to no list this task served (unknown or foreign ids, outside the window).",
  },
  apiArmLatency: {
    name: "ArmLatency",
    unit: "Milliseconds",
    service: "api",
    description: "Ranking time of a served list, per model version, arm and strategy.",
    extraDimensions: ONLINE_DIMENSIONS,
  },
  apiImpressionsDropped: {
    name: "ImpressionsDropped",
    unit: "Count",
    service: "api",
    description: "Impression-log rows dropped because the buffer was full (the raw bucket refused files).",
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;
