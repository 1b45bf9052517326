import { applyInputTransformer, rawObjectInputTransformer } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { MOTO_PLACEHOLDER_EVENT_ID, normaliseEmulatorEvent } from "../../src/local-stack/emulator-quirks.js";

const motoEvent = {
  version: "0",
  id: MOTO_PLACEHOLDER_EVENT_ID,
  "detail-type": "Object Created",
  source: "aws.s3",
  time: "2026-11-27T11:00:00Z",
  detail: { bucket: { name: "t-a-raw" }, object: { key: "raw/x.csv", size: 3, eTag: "abc123" } },
};

describe("normaliseEmulatorEvent", () => {
  it("gives moto's S3 event the etag field and a unique id, as AWS sends them", () => {
    const event = normaliseEmulatorEvent(motoEvent, "msg-1");
    const overrides = JSON.parse(applyInputTransformer(rawObjectInputTransformer, event));
    expect(overrides.containerOverrides[0].environment).toEqual([
      { name: "GPLAY_SOURCE_BUCKET", value: "t-a-raw" },
      { name: "GPLAY_SOURCE_KEY", value: "raw/x.csv" },
      { name: "GPLAY_SOURCE_ETAG", value: "abc123" },
      { name: "GPLAY_EVENT_ID", value: "msg-1" },
      { name: "GPLAY_EVENT_TIME", value: "2026-11-27T11:00:00Z" },
    ]);
  });

  it("leaves an AWS-shaped event unchanged", () => {
    const aws = {
      ...motoEvent,
      id: "real-id",
      detail: { ...motoEvent.detail, object: { key: "raw/x.csv", etag: "e" } },
    };
    expect(normaliseEmulatorEvent(aws, "msg-2")).toEqual(aws);
  });

  it("turns an epoch-seconds time into ISO 8601", () => {
    const event = normaliseEmulatorEvent({ ...motoEvent, time: 1_800_000_000 }, "m") as { time: string };
    expect(event.time).toBe("2027-01-15T08:00:00Z");
  });

  it("passes non-objects through", () => {
    expect(normaliseEmulatorEvent("text", "m")).toBe("text");
  });
});
