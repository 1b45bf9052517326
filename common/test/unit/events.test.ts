import { describe, expect, it } from "@jest/globals";
import {
  applyInputTransformer,
  CONTAINER_NAMES,
  containerOverridesSchema,
  overridesToEnvironment,
  rawObjectCreatedPattern,
  rawObjectInputTransformer,
  SOURCE_OVERRIDE_VARS,
  snapshotReadyInputTransformer,
} from "../../src/index.js";

const event = {
  version: "0",
  id: "e-1",
  "detail-type": "Object Created",
  source: "aws.s3",
  time: "2026-11-27T10:00:00Z",
  detail: {
    bucket: { name: "gplay-dev-raw" },
    object: { key: 'raw/treino/part "1".csv', etag: "abc123", size: 10 },
  },
};

describe("raw object events", () => {
  it("matches only this bucket's raw/ prefix", () => {
    expect(rawObjectCreatedPattern("gplay-dev-raw")).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: ["gplay-dev-raw"] }, object: { key: [{ prefix: "raw/" }] } },
    });
  });

  it("transforms an event into container overrides carrying bucket, key and etag, escaping quotes", () => {
    const overrides = containerOverridesSchema.parse(
      JSON.parse(applyInputTransformer(rawObjectInputTransformer, event)),
    );
    const env = overridesToEnvironment(overrides, CONTAINER_NAMES.featstoreEngine);
    expect(env[SOURCE_OVERRIDE_VARS.bucket]).toBe("gplay-dev-raw");
    expect(env[SOURCE_OVERRIDE_VARS.key]).toBe('raw/treino/part "1".csv');
    expect(env[SOURCE_OVERRIDE_VARS.etag]).toBe("abc123");
    expect(env[SOURCE_OVERRIDE_VARS.eventId]).toBe("e-1");
  });

  it("fills a missing path with null, which the overrides schema rejects", () => {
    const text = applyInputTransformer(snapshotReadyInputTransformer, { id: "x", detail: {} });
    expect(containerOverridesSchema.safeParse(JSON.parse(text)).success).toBe(false);
  });
});
