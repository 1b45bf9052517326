import {
  decodeProcessedParquet,
  encodeProcessedParquet,
  type ImpressionRecord,
  type InteractionRecord,
  type ValidationRecord,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { filterPartitionRows } from "../../src/app/parquet-columns.js";

const KEPT = "a".repeat(64);
const ERASED = "b".repeat(64);
const OTHER = "c".repeat(64);
const PAGE = "0b9f1c52-3d4e-4a5b-8c6d-7e8f9a0b1c2d";
const META = { "gplay.sourceId": "src1" };
const drop = (id: string) => id === ERASED;

const interaction = (userId: string, i: number): InteractionRecord => ({
  userId,
  userType: i % 2 === 0 ? "Logged" : "Non-Logged",
  page: `${PAGE.slice(0, -2)}${String(i % 100).padStart(2, "0")}`,
  timestamp: 1_657_146_417_045 + i * 61_000,
  clicks: i * 7,
  timeOnPageMs: 60_000 + i,
  scrollPercentage: 12.5 + i / 3,
  pageVisits: 1 + (i % 4),
  source: "src1",
});

describe("filterPartitionRows (a partition filtered column by column)", () => {
  it("writes the same bytes as decoding the rows, filtering them and encoding the rest", async () => {
    const readers = [KEPT, ERASED, OTHER, ERASED, KEPT];
    const rows = Array.from({ length: 250 }, (_, i) => interaction(readers[i % readers.length] as string, i));
    const bytes = encodeProcessedParquet("interactions", rows, META);
    const filtered = await filterPartitionRows("interactions", bytes, drop, META);
    const decoded = await decodeProcessedParquet("interactions", bytes);
    const oldPath = encodeProcessedParquet(
      "interactions",
      decoded.filter((r) => !drop(r.userId)),
      META,
    );
    expect(Buffer.from(filtered.bytes).equals(Buffer.from(oldPath))).toBe(true);
    expect(filtered.rows).toBe(150);
    expect(await decodeProcessedParquet("interactions", filtered.bytes)).toEqual(
      rows.filter((r) => r.userId !== ERASED),
    );
  });

  it("returns the dropped rows' values per column, in file order", async () => {
    const rows = [
      interaction(KEPT, 0),
      interaction(ERASED, 1),
      interaction(OTHER, 2),
      interaction(ERASED, 3),
    ];
    const filtered = await filterPartitionRows(
      "interactions",
      encodeProcessedParquet("interactions", rows),
      drop,
    );
    expect(filtered.dropped.userId).toEqual([ERASED, ERASED]);
    expect(filtered.dropped.page).toEqual([rows[1]?.page, rows[3]?.page]);
    // INT64 columns stay bigint, as decoded.
    expect(filtered.dropped.timestamp).toEqual([
      BigInt(rows[1]?.timestamp ?? 0),
      BigInt(rows[3]?.timestamp ?? 0),
    ]);
  });

  it("keeps an impression without a reader and drops only the erased reader's", async () => {
    const impression = (userId: string, eventType: ImpressionRecord["eventType"]): ImpressionRecord => ({
      eventType,
      impressionId: "6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b",
      userId,
      timestamp: 1_700_000_000_000,
      modelVersion: "7",
      arm: "challenger",
      strategy: "model",
      pages: PAGE,
      scores: "0.9",
      items: 1,
      latencyMs: 12,
      source: "src1",
    });
    const rows = [impression(ERASED, "served"), impression("", "served"), impression(KEPT, "click")];
    const bytes = encodeProcessedParquet("impressions", rows, META);
    const filtered = await filterPartitionRows("impressions", bytes, drop, META);
    expect(await decodeProcessedParquet("impressions", filtered.bytes)).toEqual(rows.slice(1));
    expect(
      Buffer.from(filtered.bytes).equals(
        Buffer.from(encodeProcessedParquet("impressions", rows.slice(1), META)),
      ),
    ).toBe(true);
  });

  it("writes a valid empty partition when every row goes", async () => {
    const rows: ValidationRecord[] = [
      { userId: ERASED, userType: "Logged", page: PAGE, timestamp: 1_700_000_000_000, source: "src1" },
    ];
    const filtered = await filterPartitionRows(
      "validation",
      encodeProcessedParquet("validation", rows),
      drop,
    );
    expect(filtered.rows).toBe(0);
    expect(await decodeProcessedParquet("validation", filtered.bytes)).toEqual([]);
    expect(Buffer.from(filtered.bytes).equals(Buffer.from(encodeProcessedParquet("validation", [])))).toBe(
      true,
    );
  });
});
