import { decodeInteractionLog, logPages } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { readSetOf } from "../../../src/domain/read-set.js";
import { applyInteractions } from "../../../src/domain/reader.js";
import { AS_OF, interaction, pageId, reader, userId } from "../../support/fixtures.js";

const now = new Date(AS_OF);

describe("applyInteractions", () => {
  it("creates a new reader's item at version 1 with the click in its log", () => {
    const item = applyInteractions(undefined, userId(1), "Non-Logged", [interaction(pageId(1), AS_OF)], now);
    expect(item).toMatchObject({
      userId: userId(1),
      userType: "Non-Logged",
      version: 1,
      interactionCount: 1,
    });
    expect(item.firstTimestamp).toBe(AS_OF);
    expect([...logPages(item.log)]).toEqual([pageId(1)]);
  });

  it("extends an existing reader, bumping version and counts, keeping its user type", () => {
    const existing = reader(userId(2), [pageId(1), pageId(2)]);
    const next = applyInteractions(existing, userId(2), "Non-Logged", [interaction(pageId(3), AS_OF)], now);
    expect(next.version).toBe(existing.version + 1);
    expect(next.userType).toBe("Logged");
    expect(next.interactionCount).toBe(3);
    expect(next.lastTimestamp).toBe(AS_OF);
  });

  it("changes nothing but the version when the same click is replayed", () => {
    const once = applyInteractions(undefined, userId(3), "Logged", [interaction(pageId(1), AS_OF)], now);
    const twice = applyInteractions(once, userId(3), "Logged", [interaction(pageId(1), AS_OF)], now);
    expect(twice.interactionCount).toBe(1);
    expect(Buffer.from(twice.log).equals(Buffer.from(once.log))).toBe(true);
  });

  it("moves interactions beyond the cap into the evicted filter, so they stay excluded", () => {
    const existing = reader(userId(4), [pageId(1), pageId(2), pageId(3)]);
    const next = applyInteractions(existing, userId(4), "Logged", [interaction(pageId(4), AS_OF)], now, 2);
    expect(decodeInteractionLog(next.log)).toHaveLength(2);
    expect(next.evictedCount).toBe(2);
    const readSet = readSetOf(next);
    for (const n of [1, 2, 3, 4]) expect(readSet.has(pageId(n))).toBe(true);
    expect(readSet.has(pageId(99))).toBe(false);
  });
});

describe("readSetOf", () => {
  it("covers the log, the request's exclusions and nothing else", () => {
    const set = readSetOf(reader(userId(5), [pageId(1)]), [pageId(2)]);
    expect([pageId(1), pageId(2), pageId(3)].map((p) => set.has(p))).toEqual([true, true, false]);
  });
});
