import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import {
  createLogger,
  createMetrics,
  emfDocument,
  loggerMetricsSink,
  METRIC_NAMESPACE,
} from "../../src/index.js";

describe("EMF metrics", () => {
  it("builds a document with the namespace, standard dimensions and units from the contract", () => {
    const doc = emfDocument(
      { service: "api", environment: "dev" },
      { apiLatency: 12, api5xx: 1 },
      { Route: "/predict" },
      5,
    );
    expect(doc).toEqual({
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [
              ["Service", "Environment"],
              ["Service", "Environment", "Route"],
            ],
            Metrics: [
              { Name: "RequestLatency", Unit: "Milliseconds" },
              { Name: "Http5xx", Unit: "Count" },
            ],
          },
        ],
      },
      Service: "api",
      Environment: "dev",
      Route: "/predict",
      RequestLatency: 12,
      Http5xx: 1,
    });
  });

  it("declares only the standard dimension set without extra dimensions", () => {
    const doc = emfDocument({ service: "api", environment: "dev" }, { apiLatency: 3 }, {}, 5) as {
      _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] };
    };
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["Service", "Environment"]]);
    expect(doc).not.toHaveProperty("Route");
  });

  it("writes nothing for an empty set of values", () => {
    const written: unknown[] = [];
    const metrics = createMetrics({ service: "api", environment: "dev" }, { write: (d) => written.push(d) });
    metrics.emit({});
    metrics.emit({ api4xx: 1 });
    expect(written).toHaveLength(1);
  });
});

describe("loggerMetricsSink", () => {
  it("writes each document as one JSON log line at info, even when the service logs only warnings", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ service: "api", version: "1", level: "warn", destination });
    createMetrics({ service: "api", environment: "dev" }, loggerMetricsSink(logger)).emit({ api5xx: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({ Http5xx: 1, Service: "api", msg: "metrics", level: "info" });
    expect(line._aws.CloudWatchMetrics[0].Namespace).toBe("GPlayRecommend");
  });
});
