import { describe, expect, it } from "@jest/globals";
import {
  bloomAdd,
  bloomHas,
  capLog,
  createBloomFilter,
  DYNAMODB_ITEM_LIMIT_BYTES,
  decodeInteractionLog,
  encodeInteractionLog,
  type Interaction,
  logPages,
  MAX_LOG_INTERACTIONS,
  mergeInteractions,
} from "../../src/index.js";

function uuid(i: number): string {
  const hex = i.toString(16).padStart(12, "0");
  return `0000abcd-0000-4000-8000-${hex}`;
}

function interaction(i: number, overrides: Partial<Interaction> = {}): Interaction {
  return {
    page: uuid(i),
    timestamp: 1_656_668_214_243 + i * 1000,
    clicks: i % 7,
    timeOnPageMs: 5000 + i,
    scrollPercentage: 43.21,
    pageVisits: 1,
    ...overrides,
  };
}

describe("interaction log", () => {
  it("round-trips through its packed form", () => {
    const log = [interaction(2), interaction(1, { scrollPercentage: 812.5, clicks: 14_600 })];
    const decoded = decodeInteractionLog(encodeInteractionLog(log));
    expect(decoded).toEqual(mergeInteractions(log));
    expect(decoded[0]?.page).toBe(uuid(1));
  });

  it("merges as a set union: order and repetition do not matter", () => {
    const a = [interaction(1), interaction(2)];
    const b = [interaction(2, { clicks: 9 }), interaction(3)];
    const ab = encodeInteractionLog(mergeInteractions(a, b));
    const ba = encodeInteractionLog(mergeInteractions(b, a, b, a));
    expect(Buffer.from(ab).equals(Buffer.from(ba))).toBe(true);
    expect(decodeInteractionLog(ab)).toHaveLength(3);
    expect(decodeInteractionLog(ab).find((i) => i.page === uuid(2))?.clicks).toBe(9);
  });

  it("fits the heaviest reader (7,004 interactions) inside the DynamoDB item limit and lists every page", () => {
    const log = Array.from({ length: 7004 }, (_, i) => interaction(i));
    const packed = encodeInteractionLog(log);
    expect(packed.byteLength).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES - 64 * 1024);
    const pages = logPages(packed);
    expect(pages.size).toBe(7004);
    for (const i of log) expect(pages.has(i.page)).toBe(true);
  });

  it("rejects bytes that are not a log", () => {
    expect(() => decodeInteractionLog(new Uint8Array([1, 2, 3]))).toThrow(RangeError);
    const packed = encodeInteractionLog([interaction(1)]);
    expect(() => decodeInteractionLog(packed.slice(0, packed.length - 1))).toThrow(/bytes/);
  });

  it("caps the log at the newest interactions and keeps evicted pages in a Bloom filter", () => {
    const log = mergeInteractions(
      Array.from({ length: MAX_LOG_INTERACTIONS + 10 }, (_, i) => interaction(i)),
    );
    const { kept, evicted } = capLog(log);
    expect(kept).toHaveLength(MAX_LOG_INTERACTIONS);
    expect(evicted.map((e) => e.page)).toEqual(Array.from({ length: 10 }, (_, i) => uuid(i)));
    const filter = bloomAdd(
      createBloomFilter(),
      evicted.map((e) => e.page),
    );
    for (const e of evicted) expect(bloomHas(filter, e.page)).toBe(true);
    const falsePositives = kept.filter((k) => bloomHas(filter, k.page)).length;
    expect(falsePositives).toBeLessThan(5);
  });
});
