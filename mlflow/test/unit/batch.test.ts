import { describe, expect, it } from "@jest/globals";
import {
  BatchTooLargeError,
  batchBody,
  LOG_BATCH_LIMITS,
  type MetricEntry,
  metricToWire,
  splitLogBatch,
} from "../../src/domain/batch.js";

const RUN = "0123456789abcdef0123456789abcdef";
const metric = (i: number, key = "loss"): MetricEntry => ({
  key,
  value: i / 3,
  timestamp: 1_700_000_000_000 + i,
  step: i,
});
const kv = (prefix: string, n: number, valueSize = 5) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: "v".repeat(valueSize) }));

function expectWithinLimits(chunks: ReturnType<typeof splitLogBatch>) {
  for (const c of chunks) {
    expect(c.metrics.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxMetrics);
    expect(c.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxParams);
    expect(c.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxTags);
    expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(
      LOG_BATCH_LIMITS.maxEntities,
    );
    expect(Buffer.byteLength(batchBody(RUN, c))).toBeLessThanOrEqual(LOG_BATCH_LIMITS.maxRequestBytes);
  }
}

describe("splitLogBatch", () => {
  it("keeps a small batch in one request", () => {
    const chunks = splitLogBatch(RUN, { metrics: [metric(1)], params: kv("p", 3), tags: kv("t", 2) });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.params).toHaveLength(3);
  });

  it("returns no request for nothing to log", () => {
    expect(splitLogBatch(RUN, {})).toEqual([]);
  });

  it("splits 2500 metrics into 1000 + 1000 + 500, in order", () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => metric(i));
    const chunks = splitLogBatch(RUN, { metrics });
    expect(chunks.map((c) => c.metrics.length)).toEqual([1000, 1000, 500]);
    expect(chunks.flatMap((c) => c.metrics)).toEqual(metrics);
    expectWithinLimits(chunks);
  });

  it("splits 250 params and 150 tags by their own limits", () => {
    const chunks = splitLogBatch(RUN, { params: kv("p", 250), tags: kv("t", 150) });
    expect(chunks.flatMap((c) => c.params)).toHaveLength(250);
    expect(chunks.flatMap((c) => c.tags)).toHaveLength(150);
    expectWithinLimits(chunks);
  });

  it("keeps the total entity count at 1000 when kinds mix", () => {
    const chunks = splitLogBatch(RUN, {
      metrics: Array.from({ length: 950 }, (_, i) => metric(i)),
      params: kv("p", 100),
    });
    expect(chunks).toHaveLength(2);
    expect(chunks[0]?.params.length).toBe(100);
    expect(chunks[0]?.metrics.length).toBe(900);
    expectWithinLimits(chunks);
  });

  it("splits by bytes when big values would pass 1 MB", () => {
    const chunks = splitLogBatch(RUN, { tags: kv("t", 90, 20_000) });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flatMap((c) => c.tags)).toHaveLength(90);
    expectWithinLimits(chunks);
  });

  it("refuses a single entity larger than a request", () => {
    expect(() => splitLogBatch(RUN, { tags: [{ key: "huge", value: "x".repeat(1_100_000) }] })).toThrow(
      BatchTooLargeError,
    );
  });

  it("sends non-finite metric values as protobuf JSON strings", () => {
    expect(metricToWire({ key: "k", value: Number.NaN, timestamp: 1, step: 0 }).value).toBe("NaN");
    expect(metricToWire({ key: "k", value: Number.NEGATIVE_INFINITY, timestamp: 1, step: 0 }).value).toBe(
      "-Infinity",
    );
    expect(metricToWire({ key: "k", value: 0.5, timestamp: 1, step: 0 }).value).toBe(0.5);
  });
});
