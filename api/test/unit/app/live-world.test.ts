import {
  type ArticleCatalogue,
  type ArticleFeatureSource,
  bundleLivePopularity,
  bundleWorlds,
  emptyReaderProfile,
  type LoadedBundle,
  recommend,
  scorerOf,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { bundleRanker } from "../../../src/app/bundle-ranker.js";
import { LiveReadsFeed, type LiveReadsOptions } from "../../../src/app/live-world.js";
import { SwitchableModelProvider } from "../../../src/app/model.js";
import { AS_OF, baselineBundle, pageId } from "../../support/fixtures.js";

const p = pageId;
const HOUR = 3_600_000;

/** The popularity baseline's bundle (6 h half-life): pages 1–4 read before the snapshot. */
function bundle(): LoadedBundle {
  const scales = { [p(1)]: [4, 4, 4], [p(2)]: [3, 3, 3], [p(3)]: [2, 2, 2], [p(4)]: [1, 1, 1] };
  return baselineBundle(
    { name: "popularity", params: { halfLifeHours: 6 } },
    {
      popularity: {
        asOf: AS_OF,
        halfLifeHours: 6,
        entries: [
          [p(1), 4],
          [p(2), 3],
          [p(3), 2],
          [p(4), 1],
        ],
        scales,
      },
      covisitation: { topK: 5, neighbours: {} },
    },
    { popular: 10, covisited: 0, contentSimilar: 0, scoped: 0, freshHours: 48, popularityHalfLifeHours: 6 },
  );
}

/** The recent-buffer baseline's bundle as training writes it: the 4 latest reads, pages 1–4's decayed reads as tie-break. */
function bufferBundle(): LoadedBundle {
  const decayed: [string, number][] = [
    [p(1), 4],
    [p(2), 3],
    [p(3), 2],
    [p(4), 1],
  ];
  return baselineBundle(
    { name: "recent-buffer", params: { reads: 4 } },
    {
      popularity: {
        asOf: AS_OF,
        halfLifeHours: 6,
        entries: [
          [p(1), 2.5],
          [p(2), 1.375],
          [p(3), 1.25],
          [p(4), 0.125],
        ],
        scales: {},
        buffer: { reads: 4, pages: [p(1), p(1), p(2), p(3)], decayed },
      },
      covisitation: { topK: 5, neighbours: {} },
    },
    { popular: 10, covisited: 0, contentSimilar: 0, scoped: 0, freshHours: 48, popularityHalfLifeHours: 6 },
  );
}

/**
 * The recent-buffer baseline's bundle measured in time (issue #13): the reads of the 60 minutes before
 * the snapshot (the same four reads as `bufferBundle`'s), the same tie-break.
 */
function windowBundle(): LoadedBundle {
  const old = bufferBundle();
  const { buffer, ...popularity } = old.popularity;
  const minute = 60_000;
  return baselineBundle(
    { name: "recent-buffer", params: { minutes: 60 } },
    {
      popularity: {
        ...popularity,
        window: {
          minutes: 60,
          reads: [
            [p(1), AS_OF - 50 * minute],
            [p(1), AS_OF - 40 * minute],
            [p(2), AS_OF - 30 * minute],
            [p(3), AS_OF - 10 * minute],
          ],
          decayed: buffer?.decayed ?? [],
        },
      },
      covisitation: old.covisitation,
    },
    old.manifest.candidates,
  );
}

/** Pages 1–6 issued before the snapshot; `later` pages issued at AS_OF + 1 h. */
function catalogue(later: readonly number[] = []): ArticleCatalogue {
  const sources = new Map<string, ArticleFeatureSource>();
  const add = (n: number, issued: number) =>
    sources.set(p(n), { page: p(n), section: "sp", region: "sao-paulo", issued });
  for (let n = 1; n <= 6; n++) add(n, AS_OF - n * HOUR);
  for (const n of later) add(n, AS_OF + HOUR);
  return { get: (page) => sources.get(page), entries: () => sources.values() };
}

const OPTIONS: LiveReadsOptions = {
  rebuildEveryMs: 60_000,
  rebuildAtReads: 1_000,
  recentReads: 100,
  waitingReads: 100,
};
/** The task's wall clock, long after the test's data (as when old data is replayed). */
const WALL = { now: () => AS_OF + 365 * 24 * HOUR };
const nobody = { interactions: [], userType: "Non-Logged" as const };
const top = async (ranker: ReturnType<typeof bundleRanker>, k = 3) =>
  (await ranker.recommend(nobody, { k, exclude: { has: () => false } })).items.map((i) => i.page);
const reads = (page: string, count: number, at: number) =>
  Array.from({ length: count }, (_, i) => ({ userId: "u", page, timestamp: at + i }));

function served(cat: () => ArticleCatalogue, options: LiveReadsOptions = OPTIONS, served = bundle()) {
  const model = new SwitchableModelProvider();
  const ranker = bundleRanker("1", served, cat, { live: true });
  model.set(ranker);
  const feed = new LiveReadsFeed(
    { models: [model], admits: (page) => cat().get(page) !== undefined, clock: WALL },
    options,
  );
  return { model, ranker, feed };
}

describe("the live world of a served version", () => {
  it("is exactly the snapshot's world until a read after the snapshot arrives", async () => {
    const cat = catalogue([10]);
    const still = bundleRanker("1", bundle(), () => cat);
    const { ranker, feed } = served(() => cat);
    feed.record(reads(p(6), 3, AS_OF - HOUR)); // before the snapshot: already counted by it
    feed.rebuild();
    expect(ranker.world().asOf).toBe(AS_OF);
    expect(ranker.world().popularRanking).toEqual(still.world().popularRanking);
    expect(ranker.world().features.popularity(p(1))).toBe(still.world().features.popularity(p(1)));
    expect(await top(ranker, 10)).toEqual(await top(still, 10));
    expect(await top(ranker, 10)).not.toContain(p(10));
  });

  it("proposes an article issued after the snapshot once its reads are counted and the world rebuilt", async () => {
    const cat = catalogue([10]);
    const { ranker, feed } = served(() => cat);
    expect(await top(ranker)).toEqual([p(1), p(2), p(3)]);
    feed.record(reads(p(10), 5, AS_OF + 2 * HOUR));
    expect(await top(ranker)).toEqual([p(1), p(2), p(3)]); // not rebuilt yet: the built world serves
    feed.rebuild();
    expect(ranker.world().asOf).toBe(AS_OF + 2 * HOUR + 4);
    expect(await top(ranker)).toEqual([p(10), p(1), p(2)]);
    expect(ranker.world().features.popularity(p(1))).toBeCloseTo(4 * 2 ** (-(2 * HOUR + 4) / (6 * HOUR)), 9);
    expect(feed.rebuilds).toBe(1);
    feed.rebuild(); // nothing new: no rebuild
    expect(feed.rebuilds).toBe(1);
  });

  it("serves, fed the clicks, common's live path over the bundle: the lists training evaluates a visit with", async () => {
    // Training's evaluation (training/src/domain/served-window.ts) serves a visit from the bundle's
    // tables advanced by `bundleLivePopularity` with the reads before it, rebuilt by `bundleWorlds`.
    const cat = catalogue([10, 11]);
    const b = bufferBundle();
    const { ranker, feed } = served(() => cat, OPTIONS, b);
    const clicks = [...reads(p(10), 2, AS_OF + 2 * HOUR), ...reads(p(5), 1, AS_OF + 3 * HOUR)];
    feed.record(clicks);
    feed.rebuild();
    const live = bundleLivePopularity(b, (page) => cat.get(page) !== undefined);
    for (const c of clicks) live.record(c);
    const world = bundleWorlds(b)(cat, undefined, live.tables());
    const expected = recommend(world, emptyReaderProfile("Non-Logged"), scorerOf(b), { k: 5 }).items;
    const got = (await ranker.recommend(nobody, { k: 5, exclude: { has: () => false } })).items;
    expect(got).toEqual(expected);
    expect(got.map((i) => i.page)).toContain(p(10));
    expect(got.map((i) => i.page)).not.toContain(p(11)); // issued after the snapshot, never read: not popular
  });

  it("moves a recent-buffer baseline's list with the clicks on an article issued after the snapshot", async () => {
    const cat = catalogue([10]);
    const { ranker, feed } = served(() => cat, OPTIONS, bufferBundle());
    expect(await top(ranker)).toEqual([p(1), p(2), p(3)]);
    feed.record(reads(p(10), 3, AS_OF + 2 * HOUR));
    feed.rebuild();
    // The buffer now holds p3 and three reads of p10; p1 and p2 keep their tie-break only.
    expect(await top(ranker)).toEqual([p(10), p(3), p(1)]);
  });

  it("moves a recent window's list by time: the snapshot's reads leave it an hour on, where an old bundle's buffer of reads keeps them", async () => {
    const cat = catalogue([10]);
    const timed = served(() => cat, OPTIONS, windowBundle());
    const counted = served(() => cat, OPTIONS, bufferBundle());
    expect(await top(timed.ranker)).toEqual([p(1), p(2), p(3)]);
    for (const { feed } of [timed, counted]) {
      feed.record(reads(p(10), 3, AS_OF + 2 * HOUR));
      feed.rebuild();
    }
    // Two hours on the window holds p10's three reads only: p1, p2 and p3 keep their tie-break.
    expect(await top(timed.ranker)).toEqual([p(10), p(1), p(2)]);
    // The old manifest (a buffer of the 4 latest reads) is served exactly as before: p3 stays in it.
    expect(await top(counted.ranker)).toEqual([p(10), p(3), p(1)]);
  });

  it("rebuilds after the request once `rebuildAtReads` reads wait", async () => {
    const cat = catalogue([10]);
    const { ranker, feed } = served(() => cat, { ...OPTIONS, rebuildAtReads: 3 });
    feed.record(reads(p(10), 2, AS_OF + HOUR + 1));
    await new Promise((r) => setImmediate(r));
    expect(feed.rebuilds).toBe(0);
    feed.record(reads(p(10), 1, AS_OF + HOUR + 10));
    expect(feed.rebuilds).toBe(0); // never inside the request that brought the reads
    await new Promise((r) => setImmediate(r));
    expect(feed.rebuilds).toBe(1);
    expect(ranker.world().asOf).toBe(AS_OF + HOUR + 10);
  });

  it("counts the reads of an article not loaded yet once a refresh loads it", async () => {
    let cat = catalogue();
    const { ranker, feed } = served(() => cat);
    feed.record(reads(p(10), 5, AS_OF + 2 * HOUR));
    feed.rebuild();
    expect(ranker.world().asOf).toBe(AS_OF); // nothing admitted yet
    cat = catalogue([10]);
    feed.rebuild();
    expect(ranker.world().asOf).toBe(AS_OF + 2 * HOUR + 4);
    expect(await top(ranker, 1)).toEqual([p(10)]);
  });

  it("brings a version loaded later up to date with the recent reads", async () => {
    const cat = catalogue([10]);
    const { model, feed } = served(() => cat);
    feed.record(reads(p(10), 5, AS_OF + 2 * HOUR));
    const next = bundleRanker("2", bundle(), () => cat, { live: true });
    model.set(next);
    feed.rebuild();
    expect(next.world().asOf).toBe(AS_OF + 2 * HOUR + 4);
    expect(await top(next, 1)).toEqual([p(10)]);
  });

  it("keeps at most `recentReads` reads for a version loaded later", async () => {
    const cat = catalogue([10, 11]);
    const { model, feed } = served(() => cat, { ...OPTIONS, recentReads: 3 });
    feed.record([...reads(p(11), 10, AS_OF + HOUR), ...reads(p(10), 3, AS_OF + 2 * HOUR)]);
    const next = bundleRanker("2", bundle(), () => cat, { live: true });
    model.set(next);
    feed.rebuild();
    expect(next.world().features.popularity(p(11))).toBe(0);
    expect(next.world().features.popularity(p(10))).toBeGreaterThan(2.9);
  });

  it("hands the live worlds pages and times only, never the reader", () => {
    const seen: object[] = [];
    const world = { observe: (r: object) => seen.push(r), pending: () => 0, rebuild: () => undefined };
    const model = new SwitchableModelProvider();
    model.set({ modelVersion: "1", live: world, recommend: () => Promise.reject(new Error("unused")) });
    const feed = new LiveReadsFeed({ models: [model], admits: () => true, clock: WALL }, OPTIONS);
    feed.record(reads(p(10), 2, AS_OF + HOUR));
    expect(seen).toEqual([
      { page: p(10), timestamp: AS_OF + HOUR },
      { page: p(10), timestamp: AS_OF + HOUR + 1 },
    ]);
  });

  it("counts a click stamped after its receipt (a client's clock ahead) at its receipt time", () => {
    const seen: { timestamp: number }[] = [];
    const world = {
      observe: (r: { timestamp: number }) => seen.push(r),
      pending: () => 0,
      rebuild: () => undefined,
    };
    const model = new SwitchableModelProvider();
    model.set({ modelVersion: "1", live: world, recommend: () => Promise.reject(new Error("unused")) });
    const receipt = AS_OF + 2 * HOUR;
    const feed = new LiveReadsFeed(
      { models: [model], admits: () => true, clock: { now: () => receipt } },
      OPTIONS,
    );
    feed.record([{ page: p(10), timestamp: AS_OF + 5 * HOUR }]);
    expect(seen.map((r) => r.timestamp)).toEqual([receipt]);
  });

  it("does not let one read stamped far ahead of the others age every article at once", async () => {
    const cat = catalogue([10]);
    const { ranker, feed } = served(() => cat);
    const twin = served(() => cat);
    for (const f of [feed, twin.feed]) f.record(reads(p(10), 3, AS_OF + HOUR));
    feed.record(reads(p(6), 1, AS_OF + 30 * 24 * HOUR)); // a wrong clock, 30 days on
    for (const f of [feed, twin.feed]) f.rebuild();
    expect(ranker.world().asOf).toBe(AS_OF + HOUR + 2);
    expect(ranker.world().popularRanking).toEqual(twin.ranker.world().popularRanking);
    expect(ranker.world().features.popularity(p(6))).toBe(twin.ranker.world().features.popularity(p(6)));
    expect(await top(ranker)).toEqual(await top(twin.ranker));
  });

  it("leaves a version without a live world untouched", async () => {
    const cat = catalogue([10]);
    const model = new SwitchableModelProvider();
    const ranker = bundleRanker("1", bundle(), () => cat);
    model.set(ranker);
    const feed = new LiveReadsFeed({ models: [model], admits: () => true, clock: WALL }, OPTIONS);
    feed.record(reads(p(10), 5, AS_OF + 2 * HOUR));
    feed.rebuild();
    expect(ranker.live).toBeUndefined();
    expect(ranker.world().asOf).toBe(AS_OF);
    expect(feed.rebuilds).toBe(0);
  });
});
