import {
  decodeProcessedParquet,
  encodeProcessedParquet,
  type ImpressionLogRow,
  impressionLogFields,
  RAW_HEADERS,
  toImpressionRecord,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { RowOutcome } from "../../src/domain/clean.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";

const USER = "a".repeat(64);
const PAGE_A = "0b9f1c52-3d4e-4a5b-8c6d-7e8f9a0b1c2d";
const PAGE_B = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const IMPRESSION = "6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b";

const served: ImpressionLogRow = {
  eventType: "served",
  impressionId: IMPRESSION,
  userId: USER,
  timestamp: 1_700_000_000_000,
  modelVersion: "7",
  arm: "challenger",
  strategy: "model",
  pages: [PAGE_A, PAGE_B],
  scores: [0.9, 0.25],
  latencyMs: 12,
};
const clicked: ImpressionLogRow = {
  eventType: "click",
  impressionId: IMPRESSION,
  userId: USER,
  timestamp: 1_700_000_060_000,
  modelVersion: "7",
  arm: "challenger",
  strategy: "model",
  pages: [PAGE_B],
  scores: [],
};
const unattributed: ImpressionLogRow = {
  eventType: "click",
  userId: USER,
  timestamp: 1_700_000_070_000,
  pages: [PAGE_A],
  scores: [],
};

async function outcomes(lines: string[]): Promise<RowOutcome[]> {
  const file = await cleanRawFile(
    [`${[RAW_HEADERS.impressions.join(","), ...lines].join("\n")}\n`],
    "raw/x.csv",
  );
  const out: RowOutcome[] = [];
  for await (const batch of file.batches) out.push(...batch);
  return out;
}

const line = (
  row: ImpressionLogRow,
  patch: Partial<Record<(typeof RAW_HEADERS.impressions)[number], string>> = {},
) => {
  const fields = impressionLogFields(row);
  for (const [column, value] of Object.entries(patch))
    fields[RAW_HEADERS.impressions.indexOf(column as (typeof RAW_HEADERS.impressions)[number])] =
      value as string;
  return fields.join(",");
};

describe("the impressions raw kind", () => {
  it("detects the api's impression log by its header and accepts its rows as written", async () => {
    const rows = await outcomes([line(served), line(clicked), line(unattributed)]);
    expect(rows.map((r) => r.kind)).toEqual(["impressions", "impressions", "impressions"]);
    expect(rows.map((r) => (r.kind === "impressions" ? r.row : undefined))).toEqual([
      served,
      clicked,
      unattributed,
    ]);
  });

  it("quarantines bad rows, each with its reason", async () => {
    const rows = await outcomes([
      line(served, { eventType: "viewed" }),
      line(served, { pages: `${PAGE_A}|not-a-page` }),
      line(served, { scores: "0.9" }),
      line(served, { impressionId: "" }),
      line(served, { timestamp: "yesterday" }),
      line(served, { userId: "short" }),
      line(served, { modelVersion: "v7; drop" }),
      line(clicked, { scores: "1" }),
      line(served).split(",").slice(0, 5).join(","),
      line(served),
      line(served),
    ]);
    const reasons = rows.map((r) => (r.kind === "quarantine" ? r.record.reason : "accepted"));
    expect(reasons).toEqual([
      "BAD_VALUE",
      "BAD_UUID",
      "LIST_LENGTH_MISMATCH",
      "MISSING_FIELD",
      "BAD_TIMESTAMP",
      "BAD_USER_ID",
      "BAD_VALUE",
      "LIST_LENGTH_MISMATCH",
      "WRONG_FIELD_COUNT",
      "accepted",
      "DUPLICATE_ROW",
    ]);
  });

  it("round-trips its records through the processed Parquet codec", async () => {
    const records = [served, clicked, unattributed].map((r) => toImpressionRecord(r, "src1"));
    const decoded = await decodeProcessedParquet(
      "impressions",
      encodeProcessedParquet("impressions", records),
    );
    expect(decoded).toEqual(records);
    expect(decoded[0]).toMatchObject({ pages: `${PAGE_A}|${PAGE_B}`, items: 2, latencyMs: 12 });
    expect(decoded[2]).toMatchObject({ impressionId: "", modelVersion: "", latencyMs: -1 });
  });
});
