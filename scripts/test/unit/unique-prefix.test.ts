import { lakeBucketNames, resourcePrefixSchema } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { environmentNames, uniquePrefix } from "../../src/index.js";

describe("uniquePrefix", () => {
  it("returns a valid, distinct prefix for the same label", () => {
    const a = uniquePrefix("ingest");
    const b = uniquePrefix("ingest");
    expect(a).toMatch(/^t-ingest-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(resourcePrefixSchema.safeParse(a).success).toBe(true);
  });

  it("cleans and shortens labels that would not fit a bucket name", () => {
    const prefix = uniquePrefix("A Very_Long Label!! that goes on and on and on");
    expect(prefix.length).toBeLessThanOrEqual(40);
    expect(resourcePrefixSchema.safeParse(prefix).success).toBe(true);
    expect(lakeBucketNames(prefix).processed.length).toBeLessThanOrEqual(63);
  });

  it("still works with a label made only of symbols", () => {
    expect(resourcePrefixSchema.safeParse(uniquePrefix("__")).success).toBe(true);
  });
});

describe("environmentNames", () => {
  it("derives every resource name from the prefix", () => {
    const names = environmentNames("gplay-dev");
    expect(names.queues).toEqual({
      ingest: "gplay-dev-ingest-tasks",
      ingestDlq: "gplay-dev-ingest-dlq",
      training: "gplay-dev-training-tasks",
      trainingDlq: "gplay-dev-training-dlq",
    });
    expect(names.rules).toEqual({
      rawIngest: "gplay-dev-raw-ingest",
      snapshotReady: "gplay-dev-snapshot-ready",
    });
    expect(names.buckets.raw).toBe("gplay-dev-raw");
    expect(names.tables.users).toBe("gplay-dev-users");
  });

  it("rejects an invalid prefix", () => {
    expect(() => environmentNames("Bad_Prefix")).toThrow();
  });
});
