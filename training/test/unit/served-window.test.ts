import {
  baselineScorer,
  buildModelInputs,
  bundleLivePopularity,
  bundleWorlds,
  mapCatalogue,
  readerProfile,
  recommend,
  vocabularyIndex,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { type BaselineStrategy, staticServing, tuneBaselines } from "../../src/domain/baselines.js";
import { HOUR_MS, type TrainingData } from "../../src/domain/data.js";
import { buildExamples } from "../../src/domain/examples.js";
import { servedLists } from "../../src/domain/served-lists.js";
import {
  hourWorlds,
  liveServing,
  servedTables,
  validacaoVisits,
  windowVisits,
} from "../../src/domain/served-window.js";
import { windowCases } from "../../src/domain/split.js";
import { buildWorld } from "../../src/domain/world.js";
import { pageId as P, readAt } from "./helpers.js";

const CUT = 40 * HOUR_MS;
const END = 60 * HOUR_MS;
const vocab = vocabularyIndex({ section: ["a", "b"], region: ["nacional"] });
const popularity: BaselineStrategy = { name: "popularity", params: { halfLifeHours: 6 } };
const buffer: BaselineStrategy = { name: "recent-buffer", params: { reads: 3 } };

/**
 * Pages 1–6 issued before the window [40 h, 60 h]; 7 at 41 h and 8 at 45 h, inside it. In the window,
 * three new readers read 7 (42–43 h); b visits at 40.2 h, c at 42.7 h, a at 44.5 h.
 */
function dataset(): TrainingData {
  const log = (...reads: [number, number][]) => reads.map(([page, hour]) => readAt(page, hour));
  const readers = new Map(
    (
      [
        ["a", log([1, 10], [2, 10.5], [6, 44.5], [8, 46])],
        ["b", log([1, 20], [2, 20.2], [4, 30], [3, 40.2])],
        ["c", log([3, 31], [5, 32], [4, 42.7])],
        ["x", log([7, 42])],
        ["y", log([7, 42.5])],
        ["z", log([7, 43])],
      ] as const
    ).map(([userId, l]) => [userId, { userId, userType: "Non-Logged" as const, log: l }]),
  );
  const issued = (n: number) => (n === 7 ? 41 : n === 8 ? 45 : n * 5) * HOUR_MS;
  const articles = new Map(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => [
      P(n),
      { page: P(n), section: n % 2 ? "a" : "b", region: "nacional", issued: issued(n) },
    ]),
  );
  const events = [...readers.values()]
    .flatMap((r) => r.log.map((i) => ({ userId: r.userId, page: i.page, timestamp: i.timestamp, weight: 1 })))
    .sort((x, y) => x.timestamp - y.timestamp);
  return { asOf: END, readers, articles, validation: new Map(), events };
}

function window() {
  const data = dataset();
  const world = buildWorld(data, CUT, vocab);
  const cases = windowCases(data, CUT, END, 10, 1);
  return { data, world, cases, visits: windowVisits(data, cases, CUT, END) };
}

const listOf = (lists: string[][], cases: { userId: string }[], userId: string) =>
  lists[cases.findIndex((c) => c.userId === userId)] as string[];

/**
 * What the api serves reader a at 44.5 h from `tables`: the `/events` clicks before 44 h (the window's
 * reads), the world rebuilt with them, a's log so far.
 */
function apiAtVisitOfA(data: TrainingData, tables: ReturnType<typeof servedTables>) {
  const clicks = bundleLivePopularity(tables, (page) => data.articles.has(page));
  for (const e of data.events) if (e.timestamp >= CUT && e.timestamp < 44 * HOUR_MS) clicks.record(e);
  const served = bundleWorlds(tables)(mapCatalogue(data.articles), undefined, clicks.tables());
  const a = data.readers.get("a");
  const profile = readerProfile(
    (a?.log ?? []).filter((i) => i.timestamp < 44.5 * HOUR_MS),
    a?.userType,
    served.features,
  );
  return { served, profile };
}

describe("a window evaluated as the api serves it", () => {
  it("serves each reader at the first access, in the world advanced with the portal's reads before that hour", () => {
    const { data, world, cases, visits } = window();
    expect(cases.map((c) => c.userId)).toEqual(["a", "b", "c", "x", "y", "z"]);
    expect(visits.first.map((t) => t / HOUR_MS)).toEqual([44.5, 40.2, 42.7, 42, 42.5, 43]);
    const hours = hourWorlds(servedTables(world), mapCatalogue(data.articles), CUT, visits, () => true);
    // One world per hour with a visit, by first access, rebuilt at the latest read before the hour (x's
    // read at 42 h is the 42 h hour's own: not counted); b's hour has none: the window start's world.
    expect(hours.map((h) => [h.start / HOUR_MS, h.cases.map((i) => cases[i]?.userId)])).toEqual([
      [40, ["b"]],
      [42, ["x", "y", "c"]],
      [43, ["z"]],
      [44, ["a"]],
    ]);
    expect(hours[0]?.world.asOf).toBe(CUT);
    expect(hours[1]?.world.asOf).toBe(40.2 * HOUR_MS);
    expect(hours[2]?.world.asOf).toBe(42.7 * HOUR_MS);
    expect(hours[3]?.world.asOf).toBe(43 * HOUR_MS);

    const scorer = baselineScorer(popularity.name, popularity.params);
    const live = liveServing(world, visits);
    const lists = servedLists(live.worldsOf(popularity), live.profile, cases, scorer).lists;
    const still = staticServing(world);
    const stillLists = servedLists(still.worldsOf(popularity), still.profile, cases, scorer).lists;
    // a's visit (44.5 h) is offered 7, issued after the window's start and read three times since;
    // not 8, issued after the visit's hour began. The window's start alone offers neither.
    expect(listOf(lists, cases, "a")).toContain(P(7));
    expect(listOf(lists, cases, "a")).not.toContain(P(8));
    expect(listOf(stillLists, cases, "a")).not.toContain(P(7));
    // b visits before any read counts: served exactly the window start's list.
    expect(listOf(lists, cases, "b")).toEqual(listOf(stillLists, cases, "b"));
  });

  it("is the list the api serves when fed the same clicks: the bundle's tables, live popularity, rebuilt world", () => {
    const { data, world, cases, visits } = window();
    const scorer = baselineScorer(popularity.name, popularity.params);
    const live = liveServing(world, visits);
    const lists = servedLists(live.worldsOf(popularity), live.profile, cases, scorer).lists;

    // The api: the baseline's bundle tables, `/events` clicks before 44 h, the world rebuilt, a's log so far.
    const { served, profile } = apiAtVisitOfA(data, servedTables(world, popularity));
    const api = recommend(served, profile, scorer, { k: 10 }).items.map((i) => i.page);
    expect(api).toContain(P(7));
    expect(listOf(lists, cases, "a")).toEqual(api);
  });

  it("advances the recent-buffer baseline's buffer with the clicks: the online buffer", () => {
    const { world, cases, visits } = window();
    const live = liveServing(world, visits);
    const lists = servedLists(
      live.worldsOf(buffer),
      live.profile,
      cases,
      baselineScorer(buffer.name, buffer.params),
    ).lists;
    // The buffer of the 3 latest reads before 44 h holds 7 three times: a's list starts with it.
    expect(listOf(lists, cases, "a")[0]).toBe(P(7));
  });

  it("is the static evaluation, score for score, when no read precedes the visits", () => {
    const { data, world, cases } = window();
    const visits = { first: cases.map(() => CUT + 1), reads: [] };
    const live = liveServing(world, visits);
    const still = staticServing(world);
    for (const strategy of [undefined, popularity, buffer]) {
      const scorer = baselineScorer(strategy?.name ?? "popularity", strategy?.params ?? {});
      const liveWorld = live.worldsOf(strategy)(0);
      const stillWorld = still.worldsOf(strategy)(0);
      for (const c of cases) {
        const profile = world.profile(c.userId);
        expect(recommend(liveWorld, profile, scorer, { k: 10 }).items).toEqual(
          recommend(stillWorld, profile, scorer, { k: 10 }).items,
        );
      }
    }
    expect(data.events.length).toBeGreaterThan(0);
  });

  it("builds the hour worlds once per popularity and shares them across the strategies that serve it", () => {
    const { world, visits } = window();
    const live = liveServing(world, visits);
    const model = live.worldsOf();
    expect(live.worlds).toBe(4);
    // The popularity baseline with the candidates' half-life serves the model's popularity.
    expect(live.worldsOf(popularity)(0)).toBe(model(0));
    expect(live.worlds).toBe(4);
    expect(live.worldsOf(buffer)(0)).not.toBe(model(0));
    expect(live.worlds).toBe(8);
  });

  it("shares the hour worlds of a bundle's tables read back with the strategies of the popularity they declare", () => {
    const { world, visits } = window();
    // The model's bundle as written and read back (JSON): its tables are the world's own popularity.
    const bundle = JSON.parse(JSON.stringify(servedTables(world))) as ReturnType<typeof servedTables>;
    const live = liveServing(world, visits, { model: bundle });
    const model = live.worldsOf();
    expect(live.worlds).toBe(4);
    expect(live.worldsOf(popularity)(0)).toBe(model(0));
    expect(live.worlds).toBe(4);
    // Tables of another popularity than the world's keep hour worlds of their own.
    const other = liveServing(world, visits, { model: servedTables(world, buffer) });
    const otherModel = other.worldsOf();
    expect(other.worldsOf(popularity)(0)).not.toBe(otherModel(0));
    expect(other.worlds).toBe(8);
  });

  it("builds a reader's training examples at the visit: an article issued since the window's start, the api's features", () => {
    const { data, world, cases, visits } = window();
    // a is taught to rank 7: issued at 41 h, after the window's start (40 h), before a's visit hour (44 h).
    const a = cases.findIndex((c) => c.userId === "a");
    const taught = [{ userId: "a", targets: new Set([P(7)]), cold: false }];
    const atVisit = liveServing(world, {
      first: [visits.first[a] as number],
      reads: visits.reads,
    }).worldsOf();
    const examples = buildExamples(world, taught, 1, 3, atVisit);
    expect([examples.positives, examples.inputs.rows, [...examples.labels]]).toEqual([1, 2, [1, 0]]);
    // At the window's start 7 is not issued yet: no example teaches it.
    expect(buildExamples(world, taught, 1, 3).positives).toBe(0);

    // The api at a's visit, from the model's tables: its feature builder's raw inputs for 7 are the positive row's.
    const { served, profile } = apiAtVisitOfA(data, servedTables(world));
    const api = buildModelInputs(profile, [P(7)], { ...served.features, vocab });
    expect(served.features.popularity(P(7))).toBeGreaterThan(0);
    expect([...examples.inputs.numeric.slice(0, api.numeric.length)]).toEqual([...api.numeric]);
    expect([examples.inputs.article_section[0], examples.inputs.article_region[0]]).toEqual([
      api.article_section[0],
      api.article_region[0],
    ]);
  });

  it("takes validacao's visits at each reader's first access, and every validacao read by time", () => {
    const data = dataset();
    data.validation.set("b", [
      { page: P(8), timestamp: 63 * HOUR_MS },
      { page: P(7), timestamp: 61 * HOUR_MS },
    ]);
    data.validation.set("q", [{ page: P(7), timestamp: 62 * HOUR_MS }]);
    const visits = validacaoVisits(data, [{ userId: "q", targets: new Set([P(7)]), cold: true }]);
    expect(visits.first).toEqual([62 * HOUR_MS]);
    expect(visits.reads.map((r) => r.timestamp / HOUR_MS)).toEqual([61, 62, 63]);
  });

  it("tunes the baselines on the visits: the buffer is the serving popularity when it wins served live", () => {
    // Page 1 was read 400 times in the hour before the window [40 h, 60 h]; 7 and 8, issued at 40.5 h,
    // take the window's reads: 60 readers read both at 41–42 h, 60 new readers read 7 at 45–46 h. At
    // 45 h the smallest buffer (100 reads) holds only 7 and 8, while the fastest decayed popularity
    // (1 h) still ranks 1 first; at the window's start neither can serve 7.
    const reads = (prefix: string, n: number, page: number, from: number, to: number, also?: number) =>
      Array.from({ length: n }, (_, i) => {
        const hour = from + ((to - from) * i) / n;
        const log = [readAt(page, hour), ...(also === undefined ? [] : [readAt(also, hour + 0.001)])];
        return [`${prefix}${i}`, { userId: `${prefix}${i}`, userType: "Non-Logged" as const, log }] as const;
      });
    const readers = new Map([
      ...reads("o", 400, 1, 39, 40),
      ...reads("f", 60, 7, 41, 42, 8),
      ...reads("v", 60, 7, 45, 46),
    ]);
    const issued = (n: number) => (n === 1 ? 5 : n === 2 ? 10 : 40.5) * HOUR_MS;
    const articles = new Map(
      [1, 2, 7, 8].map((n) => [P(n), { page: P(n), section: "a", region: "nacional", issued: issued(n) }]),
    );
    const events = [...readers.values()]
      .flatMap((r) =>
        r.log.map((i) => ({ userId: r.userId, page: i.page, timestamp: i.timestamp, weight: 1 })),
      )
      .sort((x, y) => x.timestamp - y.timestamp);
    const data: TrainingData = { asOf: END, readers, articles, validation: new Map(), events };
    const world = buildWorld(data, CUT, vocab);
    const cases = windowCases(data, CUT, END, 1_000, 1);
    expect(cases.length).toBe(120);

    const visits = windowVisits(data, cases, CUT, END);
    const live = tuneBaselines(world, cases, liveServing(world, visits), "time");
    // Measured in time: the shortest windows (15–60 min before the latest read, 42 h) hold only 7 and 8
    // and tie; the first of them is kept. 240 min reaches back to page 1's 400 reads.
    expect(live.servingPopularity).toEqual({ kind: "window", minutes: 15 });
    expect(live.strategies["recent-buffer"].params).toEqual({ minutes: 15 });
    expect(live.grid["recent-buffer.minutes=240"]).toBeLessThan(
      live.grid["recent-buffer.minutes=15"] as number,
    );
    expect(live.servingPopularityEvidence.low).toBeGreaterThan(1);
    expect(live.halfLifeHours).toBe(1);
    // Measured in reads (the default, as bundles before the window), the same rule picks the smallest buffer.
    const byReads = tuneBaselines(world, cases, liveServing(world, visits));
    expect(byReads.servingPopularity).toEqual({ kind: "buffer", reads: 100 });
    expect(byReads.servingPopularityEvidence.low).toBeGreaterThan(1);
    // Scored at the window's start, every list misses 7 and 8 alike: decayed popularity stays.
    const atStart = tuneBaselines(world, cases);
    expect(atStart.servingPopularity).toEqual({ kind: "decayed" });
    expect(atStart.servingPopularityEvidence.ratio).toBe(1);
  });
});
