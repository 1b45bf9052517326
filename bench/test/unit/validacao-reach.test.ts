import { describe, expect, it } from "@jest/globals";
import { firstVisits, validacaoReach } from "../../src/validacao-reach.js";

const H = 3_600_000;

describe("what a list could reach in the validacao days", () => {
  it("splits the targets by when their article was issued and counts the newest ten's hits", () => {
    const issued = new Map<string, number>([
      ["old", 0],
      ["a", 10 * H],
      ["b", 12 * H],
      ["late", 30 * H],
    ]);
    for (let i = 0; i < 12; i++) issued.set(`filler-${i}`, 5 * H);
    const reach = validacaoReach({
      asOf: 10 * H,
      issued,
      validation: new Map([
        // First visit at 20 h: "a" and "b" were issued by then, "late" was not; "old" is a re-read.
        [
          "r1",
          [
            { page: "old", timestamp: 20 * H },
            { page: "a", timestamp: 21 * H },
            { page: "late", timestamp: 40 * H },
          ],
        ],
        // Only a re-read: not a reader of the targets.
        ["r2", [{ page: "old", timestamp: 20 * H }]],
        // Reads an article issued before the snapshot, below the newest ten (b, a, then fillers by name).
        ["r3", [{ page: "filler-9", timestamp: 25 * H }]],
      ]),
      readBefore: (userId) => new Set(userId === "r3" ? [] : ["old"]),
      reads: [],
    });
    expect(reach).toEqual({
      readers: 2,
      targets: 3,
      issuedAfterSnapshot: 2,
      issuedBeforeFirstVisit: 1,
      newestTenHits: 1,
      onlineBufferHits: 0,
    });
  });

  it("never lists an article the reader already read, nor one issued after the first visit", () => {
    const issued = new Map<string, number>([
      ["read", 9 * H],
      ["future", 50 * H],
      ["target", 8 * H],
    ]);
    for (let i = 0; i < 9; i++) issued.set(`n-${i}`, 8.5 * H);
    const reach = validacaoReach({
      asOf: 0,
      issued,
      validation: new Map([
        [
          "r",
          [
            { page: "target", timestamp: 20 * H },
            { page: "future", timestamp: 60 * H },
          ],
        ],
      ]),
      readBefore: () => new Set(["read"]),
      reads: [],
    });
    // Newest unread at 20 h: the nine n-* (8.5 h), then "target" (8 h): the tenth.
    expect(reach.newestTenHits).toBe(1);
    expect(reach.issuedBeforeFirstVisit).toBe(1);
  });

  it("finds a target among the most read of the portal's latest reads before the first visit", () => {
    const reads = [
      { page: "stale", timestamp: 1 * H },
      { page: "stale", timestamp: 1.5 * H },
      { page: "hot", timestamp: 2 * H },
      { page: "read", timestamp: 3 * H },
      { page: "hot", timestamp: 4 * H },
      { page: "after", timestamp: 30 * H },
    ];
    const reach = (target: string, bufferReads: number) =>
      validacaoReach({
        asOf: 5 * H,
        issued: new Map([
          ["stale", 0],
          ["hot", 0],
          ["read", 0],
          ["after", 0],
        ]),
        validation: new Map([["r", [{ page: target, timestamp: 20 * H }]]]),
        readBefore: () => new Set(["read"]),
        reads,
        bufferReads,
      }).onlineBufferHits;
    expect(reach("hot", 3)).toBe(1);
    // The buffer holds the 3 latest reads before 20 h: "stale" has fallen out of it.
    expect(reach("stale", 3)).toBe(0);
    expect(reach("stale", 5)).toBe(1);
    // A read after the visit never counts.
    expect(reach("after", 10)).toBe(0);
  });

  it("takes the readers with a target (a page not read before the snapshot) by first visit", () => {
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
    expect(visits.map((v) => [v.userId, v.first, [...v.targets]])).toEqual([
      ["early", 20 * H + 10, ["y"]],
      ["late", 30 * H + 5, ["x"]],
    ]);
  });
});
