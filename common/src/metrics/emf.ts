import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS, type MetricKey } from "../contracts/metrics.js";
import { fixedFieldsLogger, type Logger } from "../logging/logger.js";

export interface MetricSink {
  /** Receives one EMF document (a JSON-serialisable object). */
  write(document: Record<string, unknown>): void;
}

export interface MetricsContext {
  service: string;
  environment: string;
}

/**
 * Builds an embedded-metric-format document for one or more metrics of the contract, with the
 * standard dimensions [Service, Environment] and, when extra dimensions are given, also the set
 * [Service, Environment, ...extra] (each value is then aggregated under both). Pure: the caller decides where it goes (the logger, stdout).
 */
export function emfDocument(
  context: MetricsContext,
  values: Partial<Record<MetricKey, number>>,
  extraDimensions: Record<string, string> = {},
  now: number = Date.now(),
): Record<string, unknown> {
  const entries = Object.entries(values) as [MetricKey, number][];
  const extra = Object.keys(extraDimensions);
  // The standard set always, so alarms on [Service, Environment] see every value; the finer set too
  // when extra dimensions are given (one EMF document may declare several dimension sets).
  const dimensionSets: string[][] =
    extra.length === 0
      ? [[...METRIC_DIMENSIONS]]
      : [[...METRIC_DIMENSIONS], [...METRIC_DIMENSIONS, ...extra]];
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: dimensionSets,
          Metrics: entries.map(([key]) => ({ Name: METRICS[key].name, Unit: METRICS[key].unit })),
        },
      ],
    },
    Service: context.service,
    Environment: context.environment,
    ...extraDimensions,
  };
  for (const [key, value] of entries) doc[METRICS[key].name] = value;
  return doc;
}

/**
 * The services' sink: each EMF document as one structured log line on stdout (pino merges its fields at
 * the top level, where the awslogs driver / CloudWatch finds `_aws`). Written at info whatever the
 * service's log level, so LOG_LEVEL=warn never silences metrics. One way for every service. The
 * documents hold metric names, numbers and dimension values only, so they skip redaction.
 */
export function loggerMetricsSink(logger: Logger): MetricSink {
  const out = fixedFieldsLogger(logger, {}, "info");
  return { write: (document) => out.info(document, "metrics") };
}

/** A small emitter bound to a context and a sink. */
export function createMetrics(context: MetricsContext, sink: MetricSink) {
  return {
    emit(values: Partial<Record<MetricKey, number>>, extraDimensions: Record<string, string> = {}) {
      if (Object.keys(values).length === 0) return;
      sink.write(emfDocument(context, values, extraDimensions));
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
