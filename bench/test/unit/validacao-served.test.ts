import { describe, expect, it } from "@jest/globals";
import { firstVisits } from "../../src/validacao-reach.js";
import { servedPathHits } from "../../src/validacao-served.js";

const H = 3_600_000;

describe("the served path at each validacao reader's first visit", () => {
  const validation = new Map([
    ["late", [{ page: "x", timestamp: 30 * H + 5 }]],
    [
      "early",
      [
        { page: "seen", timestamp: 20 * H + 10 },
        { page: "y", timestamp: 20 * H + 20 },
      ],
    ],
    ["only-rereads", [{ page: "seen", timestamp: 21 * H }]],
  ]);
  const visits = firstVisits(validation, () => new Set(["seen"]));

  it("orders the readers with targets by first visit", () => {
    expect(visits.map((v) => [v.userId, v.first, [...v.targets]])).toEqual([
      ["early", 20 * H + 10, ["y"]],
      ["late", 30 * H + 5, ["x"]],
    ]);
  });

  it("feeds only the reads before each visit's hour, rebuilds once per hour, and counts hits", () => {
    const reads = [
      { page: "y", timestamp: 19 * H },
      { page: "y", timestamp: 20 * H + 1 }, // within the first visit's hour: not yet in its world
      { page: "x", timestamp: 29 * H },
      { page: "x", timestamp: 30 * H + 6 }, // after the last visit: never fed
    ];
    const observed: number[] = [];
    const worlds: number[][] = [];
    const hits = servedPathHits({
      visits,
      reads,
      rebuildEveryMs: H,
      observe: (r) => observed.push(r.timestamp),
      rebuild: () => worlds.push([...observed]),
      // The list holds the pages observed so far (a popularity list).
      listOf: () => reads.filter((r) => observed.includes(r.timestamp)).map((r) => r.page),
    });
    expect(worlds).toEqual([[19 * H], [19 * H, 20 * H + 1, 29 * H]]);
    expect(hits).toBe(2);
  });

  it("counts a reader whose list misses every target as no hit", () => {
    const hits = servedPathHits({
      visits,
      reads: [],
      rebuildEveryMs: H,
      observe: () => undefined,
      rebuild: () => undefined,
      listOf: () => ["z"],
    });
    expect(hits).toBe(0);
  });
});
