import {
  AppError,
  bloomAdd,
  type CandidateOptions,
  coldstartListId,
  createBloomFilter,
  type UserItem,
} from "@gplay/common";
import { beforeEach, describe, expect, it } from "@jest/globals";
import { SwitchableModelProvider } from "../../../src/app/model.js";
import { Recommender } from "../../../src/app/recommend.js";
import { ServingData } from "../../../src/app/serving-data.js";
import {
  AS_OF,
  article,
  coldstartRow,
  FakeArticleSource,
  FakeColdstartSource,
  FakeRanker,
  FakeUserStore,
  ManualClock,
  pageId,
  popularRow,
  reader,
  userId,
} from "../../support/fixtures.js";

const DAY = 86_400_000;
const p = pageId;

/** 1–20: fresh "sp" articles; 21–25: fresh "rj"; 30: stale (published 10 days before the snapshot). */
function world() {
  const articles = [
    ...Array.from({ length: 20 }, (_, i) => article(i + 1)),
    ...Array.from({ length: 5 }, (_, i) =>
      article(i + 21, { section: "rj", region: "rio", issued: AS_OF - 3_600_000 * (i + 1) }),
    ),
    article(30, { issued: AS_OF - 10 * DAY }),
  ];
  const rows = [
    popularRow("global", [p(30), p(1), p(2), p(3), p(21), p(4), p(5)]),
    popularRow("section:rj", [p(22), p(23)]),
    popularRow("region:rio", [p(24)]),
    coldstartRow(coldstartListId.covisit(p(1)), [p(9), p(8)]),
    coldstartRow(coldstartListId.covisit(p(21)), [p(25)]),
  ];
  return { articles, rows };
}

describe("Recommender", () => {
  let users: FakeUserStore;
  let coldstart: FakeColdstartSource;
  let model: SwitchableModelProvider;
  let clock: ManualClock;
  let recommender: Recommender;
  let data: ServingData;
  /** A served version over this world: popularity and co-visitation as its bundle would carry them. */
  const servedRanker = (
    version: string,
    scores: ReadonlyMap<string, number> = new Map(),
    behaviour: "ok" | "throw" | "wrong-length" = "ok",
    candidates: CandidateOptions = {
      popular: 5,
      covisited: 10,
      contentSimilar: 5,
      scoped: 0,
      freshHours: 48,
      popularityHalfLifeHours: 6,
    },
  ) =>
    new FakeRanker(
      version,
      scores,
      behaviour,
      0,
      {
        popularity: new Map([
          [p(2), 5],
          [p(3), 4],
          [p(21), 3],
          [p(4), 2],
          [p(5), 1],
          [p(30), 9],
        ]),
        popularityScales: new Map(),
        covisitation: new Map([
          [
            p(1),
            new Map([
              [p(9), 2],
              [p(8), 1],
            ]),
          ],
        ]),
      },
      candidates,
    ).useCatalogue(() => data.catalogue());

  beforeEach(async () => {
    const { articles, rows } = world();
    users = new FakeUserStore();
    coldstart = new FakeColdstartSource(rows);
    model = new SwitchableModelProvider("nothing registered");
    clock = new ManualClock(AS_OF + 1_000);
    data = new ServingData(
      new FakeArticleSource(articles),
      coldstart,
      { freshnessHours: 48, coVisitCacheTtlMs: 60_000, coVisitCacheMaxEntries: 100 },
      clock,
    );
    await data.refresh();
    recommender = new Recommender(
      { users, data, model, clock },
      { userCacheTtlMs: 2_000, userCacheMaxEntries: 10 },
    );
  });

  describe("coldstart", () => {
    it("serves fresh global popularity, skipping stale articles, with falling rank scores", async () => {
      const out = await recommender.coldstart({ k: 3 });
      expect(out).toMatchObject({ modelVersion: "coldstart", strategy: "coldstart", snapshotId: "snap-1" });
      expect(out.items.map((i) => i.page)).toEqual([p(1), p(2), p(3)]);
      expect(out.items.every((i) => i.reason === "popular-global")).toBe(true);
      expect(out.items[0]?.score).toBeGreaterThan(out.items[1]?.score ?? 1);
      expect(out.items[0]).toMatchObject({
        title: "News 1",
        section: "sp",
        region: "sao-paulo",
        issued: new Date(AS_OF - 7_200_000).toISOString(),
      });
    });

    it("puts co-visitation neighbours of this visit's clicks first, then their section, then global", async () => {
      const out = await recommender.coldstart({ k: 6, recentlyClicked: [p(21)] });
      expect(out.items.map((i) => [i.page, i.reason])).toEqual([
        [p(25), "co-visited"],
        [p(22), "popular-section"],
        [p(23), "popular-section"],
        [p(24), "popular-region"],
        [p(1), "popular-global"],
        [p(2), "popular-global"],
      ]);
      expect(out.items[0]?.relatedTo).toBe(p(21));
      expect(out.items.some((i) => i.page === p(21))).toBe(false);
    });

    it("follows the request's section and region, and never returns excluded pages", async () => {
      const out = await recommender.coldstart({ k: 3, context: { section: "rj" }, exclude: [p(22)] });
      expect(out.items.map((i) => i.page)).toEqual([p(23), p(1), p(2)]);
    });

    it("fills up with popular articles of any age when fresh ones run out", async () => {
      const out = await recommender.coldstart({ k: 8 });
      expect(out.items).toHaveLength(8);
      expect(out.items.slice(-2)).toMatchObject([
        { page: p(30), reason: "popular-any-age" },
        { page: p(6), reason: "newest" },
      ]);
    });
  });

  describe("when a reader has read every listed article", () => {
    const everyListed = [1, 2, 3, 4, 5, 8, 9, 21, 22, 23, 24, 25, 30].map(p);

    it("still returns k unread articles, newest first from the whole catalogue", async () => {
      users.items.set(userId(7), reader(userId(7), everyListed));
      model.set(new FakeRanker("3"));
      const out = await recommender.predict({ userId: userId(7), k: 5 });
      expect(out.items).toHaveLength(5);
      expect(out.items.some((i) => everyListed.includes(i.page))).toBe(false);
      const cold = await recommender.coldstart({ k: 12, exclude: everyListed });
      expect(cold.items).toHaveLength(12);
      expect(cold.items.filter((i) => i.reason === "newest").map((i) => i.page)).toEqual(
        [6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
          .map(p)
          .slice(0, cold.items.filter((i) => i.reason === "newest").length),
      );
    });
  });

  describe("predict", () => {
    it("falls back to cold start for an unknown reader and says so", async () => {
      model.set(new FakeRanker("3"));
      const out = await recommender.predict({ userId: userId(404), k: 2 });
      expect(out).toMatchObject({ strategy: "coldstart", fallback: "unknown-reader", modelVersion: null });
      expect(out.items.map((i) => i.page)).toEqual([p(1), p(2)]);
    });

    it("answers a known reader with recent popularity minus the history when no model is loaded", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1), p(2)]));
      const out = await recommender.predict({ userId: userId(1), k: 3 });
      expect(out).toMatchObject({ strategy: "coldstart", fallback: "no-model", modelVersion: null });
      // the fresh global popularity order (p30 is stale), read pages left out; p1's co-visited
      // neighbours (p9, p8) do not jump the queue: for known readers they score far below popularity
      expect(out.items.map((i) => [i.page, i.reason])).toEqual([
        [p(3), "popular-global"],
        [p(21), "popular-global"],
        [p(4), "popular-global"],
      ]);
    });

    it("honours the request's section context when no model is loaded", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1), p(2)]));
      const out = await recommender.predict({ userId: userId(1), k: 3, context: { section: "rj" } });
      expect(out.items.map((i) => i.page)).toEqual([p(22), p(23), p(3)]);
    });

    it("ranks the version's candidate pool with its scores, best first, naming tier and version", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      const ranker = servedRanker(
        "7",
        new Map([
          [p(3), 0.9],
          [p(8), 0.8],
          [p(21), 0.95],
        ]),
      );
      model.set(ranker);
      const out = await recommender.predict({ userId: userId(1), k: 3, context: { section: "sp" } });
      expect(out).toMatchObject({ strategy: "model", fallback: null, modelVersion: "7" });
      expect(out.items.map((i) => [i.page, i.score, i.reason])).toEqual([
        [p(21), 0.95, "popular-global"],
        [p(3), 0.9, "popular-global"],
        [p(8), 0.8, "co-visited"],
      ]);
      expect(out.items[2]?.relatedTo).toBe(p(1));
      const call = ranker.calls[0];
      expect(call?.interactions).toBe(1);
      // fresh popular (budget 5, the stale p30 left out), then p1's co-visited neighbours
      expect(call?.candidates).toEqual([p(2), p(3), p(21), p(4), p(5), p(9), p(8)]);
    });

    it("proposes fresh popular articles of the reader's own section and region, naming them so", async () => {
      users.items.set(userId(1), reader(userId(1), [p(21)]));
      const scores = new Map([
        [p(23), 0.9],
        [p(22), 0.8],
      ]);
      const budgets = {
        popular: 1,
        covisited: 0,
        contentSimilar: 0,
        scoped: 2,
        freshHours: 48,
        popularityHalfLifeHours: 6,
      };
      const ranker = servedRanker("8", scores, "ok", budgets);
      model.set(ranker);
      const out = await recommender.predict({ userId: userId(1), k: 3 });
      // p21 read (section rj, region rio, one scope slot each): rj's next by popularity then id is p22,
      // rio's p23 (p22 taken); the popular tier's p2 first
      expect(ranker.calls[0]?.candidates).toEqual([p(2), p(22), p(23)]);
      expect(out.items.map((i) => [i.page, i.reason])).toEqual([
        [p(23), "popular-region"],
        [p(22), "popular-section"],
        [p(2), "popular-global"],
      ]);
    });

    it("serves an unknown reader the version's own popularity order when a model is loaded", async () => {
      model.set(servedRanker("7"));
      const out = await recommender.predict({ userId: userId(9), k: 3, exclude: [p(3)] });
      expect(out).toMatchObject({ strategy: "coldstart", fallback: "unknown-reader", modelVersion: null });
      expect(out.items.map((i) => i.page)).toEqual([p(2), p(21), p(4)]);
    });

    it("never hands the ranker pages from the evicted filter or the exclude list", async () => {
      const evicted = bloomAdd(createBloomFilter(), [p(3)]) as UserItem["log"];
      users.items.set(userId(1), reader(userId(1), [p(1)], { evicted, evictedCount: 1 }));
      const ranker = servedRanker("7");
      model.set(ranker);
      await recommender.predict({ userId: userId(1), k: 5, exclude: [p(2)] });
      const candidates = ranker.calls[0]?.candidates ?? [];
      expect(candidates.length).toBeGreaterThan(5);
      for (const page of [p(1), p(2), p(3)]) expect(candidates).not.toContain(page);
    });

    it("falls back to cold start with fallback model-error when the ranker fails", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      model.set(servedRanker("7", new Map(), "throw"));
      const out = await recommender.predict({ userId: userId(1), k: 2 });
      expect(out).toMatchObject({ strategy: "coldstart", fallback: "model-error", modelVersion: null });
      expect(out.items).toHaveLength(2);
    });

    it("treats a ranker returning the wrong number of scores as a model error", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      model.set(servedRanker("7", new Map(), "wrong-length"));
      const out = await recommender.predict({ userId: userId(1), k: 2 });
      expect(out.fallback).toBe("model-error");
    });

    it("reads a reader once per call at most, and serves hot readers from the cache", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      await recommender.predict({ userId: userId(1), k: 2 });
      await recommender.predict({ userId: userId(1), k: 2 });
      expect(users.gets).toBe(1);
      clock.advance(2_001);
      await recommender.predict({ userId: userId(1), k: 2 });
      expect(users.gets).toBe(2);
    });

    it("answers a hot reader close to its cache TTL without waiting for the store, and re-reads it behind", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      model.set(servedRanker("7"));
      await recommender.predict({ userId: userId(1), k: 2 });
      clock.advance(1_600); // past 3/4 of the 2 s TTL
      users.failGets = new AppError("UPSTREAM_UNAVAILABLE", "the store is slow today");
      const out = await recommender.predict({ userId: userId(1), k: 2 });
      expect(out).toMatchObject({ strategy: "model", fallback: null });
      expect(users.gets).toBe(2);
      users.failGets = undefined;
      await recommender.predict({ userId: userId(1), k: 2 }); // the failed re-read is tried again
      await new Promise((r) => setImmediate(r));
      expect(users.gets).toBe(3);
      clock.advance(1_000); // the first read's TTL is over, the re-read's is not
      await recommender.predict({ userId: userId(1), k: 2 });
      expect(users.gets).toBe(3);
    });

    it("reads a reader once for concurrent requests that miss the cache", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      await Promise.all([1, 2, 3].map(() => recommender.predict({ userId: userId(1), k: 2 })));
      expect(users.gets).toBe(1);
    });

    it("excludes a page the reader just read once this task wrote the reader", async () => {
      users.items.set(userId(1), reader(userId(1), [p(1)]));
      const before = await recommender.predict({ userId: userId(1), k: 1 });
      const shown = before.items[0]?.page as string;
      recommender.rememberUser(reader(userId(1), [p(1), shown]));
      const after = await recommender.predict({ userId: userId(1), k: 3 });
      expect(after.items.map((i) => i.page)).not.toContain(shown);
    });
  });
});
