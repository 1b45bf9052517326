import { describe, expect, it } from "@jest/globals";
import { ATTRIBUTION_WINDOW_MS, type ImpressionRecord } from "../../src/contracts/impressions.js";
import { attribute, joinImpressionLog, type ServedList } from "../../src/online/attribution.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const P = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const T = 1_700_000_000_000;

const list = (id: string, userId: string, timestamp: number, pages: number[]): ServedList => ({
  impressionId: id,
  userId,
  timestamp,
  pages: pages.map(P),
});

describe("the attribution rule", () => {
  const lists = [list("l1", A, T, [1, 2, 3]), list("l2", A, T + 60_000, [2, 4]), list("l3", B, T, [1])];
  const byId = (id: string) => lists.find((l) => l.impressionId === id);
  const mine = lists.filter((l) => l.userId === A);

  it("credits a named list served to the same reader that holds the page, whatever its age", () => {
    const event = { userId: A, page: P(1), timestamp: T + 10 * ATTRIBUTION_WINDOW_MS, impressionId: "l1" };
    expect(attribute(mine, event, byId)?.impressionId).toBe("l1");
  });

  it("leaves unattributed a click naming another reader's list, an unknown id, or a list without the page", () => {
    expect(
      attribute(mine, { userId: A, page: P(1), timestamp: T, impressionId: "l3" }, byId),
    ).toBeUndefined();
    expect(
      attribute(mine, { userId: A, page: P(1), timestamp: T, impressionId: "nope" }, byId),
    ).toBeUndefined();
    expect(
      attribute(mine, { userId: A, page: P(4), timestamp: T + 70_000, impressionId: "l1" }, byId),
    ).toBeUndefined();
  });

  it("credits an unnamed click to the reader's latest list holding the page, within the window only", () => {
    expect(attribute(mine, { userId: A, page: P(2), timestamp: T + 120_000 }, byId)?.impressionId).toBe("l2");
    expect(attribute(mine, { userId: A, page: P(1), timestamp: T + 120_000 }, byId)?.impressionId).toBe("l1");
    expect(
      attribute(mine, { userId: A, page: P(1), timestamp: T + ATTRIBUTION_WINDOW_MS + 1 }, byId),
    ).toBeUndefined();
    expect(attribute(mine, { userId: A, page: P(1), timestamp: T - 1 }, byId)).toBeUndefined();
  });
});

describe("the exact join of the impression log", () => {
  const record = (r: Partial<ImpressionRecord>): ImpressionRecord => ({
    eventType: "served",
    impressionId: "",
    userId: A,
    timestamp: T,
    modelVersion: "1",
    arm: "champion",
    strategy: "model",
    pages: "",
    scores: "",
    items: 0,
    latencyMs: -1,
    source: "s",
    ...r,
  });

  it("counts lists, clicked lists, clicks and pages per arm; unattributed clicks and shadow lists apart", () => {
    const joined = joinImpressionLog([
      record({ impressionId: "l1", pages: `${P(1)}|${P(2)}` }),
      record({ impressionId: "l2", pages: `${P(3)}`, timestamp: T + 1 }),
      record({ impressionId: "l3", pages: `${P(1)}`, modelVersion: "2", arm: "challenger", userId: B }),
      record({
        eventType: "shadow",
        impressionId: "s1",
        pages: `${P(9)}`,
        modelVersion: "2",
        arm: "challenger",
      }),
      record({ eventType: "click", impressionId: "l1", pages: P(1), timestamp: T + 5 }),
      record({ eventType: "click", pages: P(2), timestamp: T + 6 }),
      record({ eventType: "click", impressionId: "l3", pages: P(1), timestamp: T + 7 }), // another reader's
      record({ eventType: "click", userId: B, pages: P(1), timestamp: T + 8 }),
      record({ eventType: "click", userId: B, pages: P(9), timestamp: T + 9 }), // shadow lists earn nothing
    ]);
    expect(joined.arms).toEqual([
      expect.objectContaining({
        modelVersion: "1",
        arm: "champion",
        impressions: 2,
        clickedImpressions: 1,
        clicks: 2,
        pagesServed: 3,
        ctr: 0.5,
        clicksPerImpression: 1,
      }),
      expect.objectContaining({
        modelVersion: "2",
        arm: "challenger",
        impressions: 1,
        clickedImpressions: 1,
        clicks: 1,
        ctr: 1,
      }),
    ]);
    expect(joined.unattributedClicks).toBe(2);
    expect(joined.shadowLists).toBe(1);
  });
});
