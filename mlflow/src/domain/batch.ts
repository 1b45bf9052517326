/**
 * Splitting a run's metrics, params and tags into `runs/log-batch` requests that each stay within
 * the server's limits. Pure: sizes are measured on the JSON that will be sent.
 * Limits: https://mlflow.org/docs/latest/api_reference/rest-api.html#log-batch
 */

export interface MetricEntry {
  key: string;
  /** NaN and ±Infinity are sent as the strings protobuf's JSON mapping accepts. */
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface BatchEntities {
  metrics?: readonly MetricEntry[];
  params?: readonly KeyValue[];
  tags?: readonly KeyValue[];
}

export interface BatchChunk {
  metrics: MetricEntry[];
  params: KeyValue[];
  tags: KeyValue[];
}

export interface BatchLimits {
  maxMetrics: number;
  maxParams: number;
  maxTags: number;
  maxEntities: number;
  /** Bytes of the whole JSON request body. */
  maxRequestBytes: number;
}

/** The limits MLflow's log-batch enforces. */
export const LOG_BATCH_LIMITS: BatchLimits = Object.freeze({
  maxMetrics: 1000,
  maxParams: 100,
  maxTags: 100,
  maxEntities: 1000,
  maxRequestBytes: 1_000_000,
});

export class BatchTooLargeError extends Error {
  override readonly name = "BatchTooLargeError";
}

/** A metric as it goes on the wire: non-finite values as protobuf JSON strings. */
export function metricToWire(metric: MetricEntry): {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
} {
  let value: number | string = metric.value;
  if (Number.isNaN(metric.value)) value = "NaN";
  else if (metric.value === Number.POSITIVE_INFINITY) value = "Infinity";
  else if (metric.value === Number.NEGATIVE_INFINITY) value = "-Infinity";
  return { key: metric.key, value, timestamp: metric.timestamp, step: metric.step };
}

/** The JSON body of one log-batch request. */
export function batchBody(runId: string, chunk: BatchChunk): string {
  return JSON.stringify({
    run_id: runId,
    metrics: chunk.metrics.map(metricToWire),
    params: chunk.params,
    tags: chunk.tags,
  });
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Splits entities into as few chunks as a greedy pass allows (params first, then tags, then metrics,
 * each in the given order), every chunk within `limits`. Throws BatchTooLargeError when a single
 * entity cannot fit in a request on its own.
 */
export function splitLogBatch(
  runId: string,
  entities: BatchEntities,
  limits: BatchLimits = LOG_BATCH_LIMITS,
): BatchChunk[] {
  const emptyBytes = byteLength(batchBody(runId, { metrics: [], params: [], tags: [] }));
  const chunks: BatchChunk[] = [];
  let current: BatchChunk = { metrics: [], params: [], tags: [] };
  let bytes = emptyBytes;

  const count = (c: BatchChunk) => c.metrics.length + c.params.length + c.tags.length;
  const flush = () => {
    if (count(current) > 0) chunks.push(current);
    current = { metrics: [], params: [], tags: [] };
    bytes = emptyBytes;
  };

  type Kind = "metrics" | "params" | "tags";
  const add = (kind: Kind, entity: MetricEntry | KeyValue, json: string) => {
    const maxOfKind =
      kind === "metrics" ? limits.maxMetrics : kind === "params" ? limits.maxParams : limits.maxTags;
    // One more element costs its JSON plus a comma separator when the array is not empty.
    const cost = (list: unknown[]) => byteLength(json) + (list.length > 0 ? 1 : 0);
    if (emptyBytes + byteLength(json) > limits.maxRequestBytes) {
      throw new BatchTooLargeError(
        `A ${kind.slice(0, -1)} "${entity.key}" is ${byteLength(json)} bytes: larger than one log-batch request allows (${limits.maxRequestBytes} bytes)`,
      );
    }
    const list = current[kind] as unknown[];
    if (
      list.length + 1 > maxOfKind ||
      count(current) + 1 > limits.maxEntities ||
      bytes + cost(list) > limits.maxRequestBytes
    ) {
      flush();
    }
    const target = current[kind] as unknown[];
    bytes += cost(target);
    target.push(entity);
  };

  for (const p of entities.params ?? []) add("params", p, JSON.stringify(p));
  for (const t of entities.tags ?? []) add("tags", t, JSON.stringify(t));
  for (const m of entities.metrics ?? []) add("metrics", m, JSON.stringify(metricToWire(m)));
  flush();
  return chunks;
}
