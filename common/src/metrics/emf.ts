import { METRIC_DIMENSIONS, METRIC_NAMESPACE, METRICS, type MetricKey } from "../contracts/metrics.js";

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
 * standard dimensions. Pure: the caller decides where it goes (the logger, stdout).
 */
export function emfDocument(
  context: MetricsContext,
  values: Partial<Record<MetricKey, number>>,
  extraDimensions: Record<string, string> = {},
  now: number = Date.now(),
): Record<string, unknown> {
  const entries = Object.entries(values) as [MetricKey, number][];
  const dimensionNames = [...METRIC_DIMENSIONS, ...Object.keys(extraDimensions)];
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [dimensionNames],
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
