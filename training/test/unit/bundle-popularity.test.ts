import {
  BUNDLE_SCHEMA_VERSION,
  type BundleManifest,
  bundleLivePopularity,
  bundleWorlds,
  FEATURE_SCHEMA_VERSION,
  mapCatalogue,
  popularityTableSchema,
  servesRecentBuffer,
  vocabularyIndex,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { type BaselineStrategy, bundleTables } from "../../src/domain/baselines.js";
import { HOUR_MS, type TrainingData } from "../../src/domain/data.js";
import {
  buildWorld,
  DEFAULT_CANDIDATES,
  type ServingPopularity,
  servingPopularityName,
} from "../../src/domain/world.js";
import { pageId, readAt } from "./helpers.js";

const P = pageId;
const AS_OF = 60 * HOUR_MS;

/** Pages 1–3 read before the snapshot; page 9 issued an hour after it. */
function dataset(): TrainingData {
  const hours = [
    [1, 10],
    [1, 11],
    [1, 12],
    [1, 13],
    [2, 50],
    [2, 51],
    [3, 58],
  ] as const;
  const log = hours.map(([page, hour]) => readAt(page, hour));
  const readers = new Map([["a", { userId: "a", userType: "Logged" as const, log }]]);
  const issued = new Map([
    [1, 5 * HOUR_MS],
    [2, 40 * HOUR_MS],
    [3, 55 * HOUR_MS],
    [9, AS_OF + HOUR_MS],
  ]);
  const articles = new Map(
    [...issued].map(([n, at]) => [P(n), { page: P(n), section: "a", region: "nacional", issued: at }]),
  );
  const events = log.map((i) => ({ userId: "a", page: i.page, timestamp: i.timestamp, weight: 1 }));
  return { asOf: AS_OF, readers, articles, validation: new Map(), events };
}

/** A bundle as training writes it (the snapshot's world at asOf + 1), with its strategy or the model. */
function written(popularity: ServingPopularity, strategy?: BaselineStrategy) {
  const data = dataset();
  const world = buildWorld(
    data,
    AS_OF + 1,
    vocabularyIndex({ section: ["a"], region: ["nacional"] }),
    undefined,
    undefined,
    undefined,
    {
      asOf: AS_OF,
      popularity,
    },
  );
  const { halfLifeHours, ...tables } = bundleTables(world, strategy);
  const manifest: BundleManifest = {
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    createdAt: new Date(AS_OF).toISOString(),
    snapshot: { snapshotId: "s", manifestKey: "k", digest: "d" },
    asOf: AS_OF,
    inputs: [],
    numericFeatures: [],
    recentReads: 10,
    candidates: { ...DEFAULT_CANDIDATES, popularityHalfLifeHours: halfLifeHours },
    strategy: strategy === undefined ? { kind: "model" } : { kind: "baseline", ...strategy },
    files: { popularity: "p.json", covisitation: "c.json" },
    params: {
      serving_popularity: servingPopularityName(popularity),
    },
  };
  // Through the contract, as the api reads the file.
  return {
    manifest,
    ...tables,
    popularity: popularityTableSchema.parse(JSON.parse(JSON.stringify(tables.popularity))),
    data,
  };
}

// A refreshed champion's tables are `bundleTables` of the run's world with the champion's strategy
// (the model's: none), so each row is also the champion of that kind refreshed.
const KINDS: [string, ServingPopularity, BaselineStrategy | undefined][] = [
  ["the model serving a recent-click buffer", { kind: "buffer", reads: 3 }, undefined],
  ["the model serving a recent window", { kind: "window", minutes: 60 }, undefined],
  [
    "the recent-buffer baseline measured in time",
    { kind: "decayed" },
    { name: "recent-buffer", params: { minutes: 60 } },
  ],
  ["the model serving decayed popularity", { kind: "decayed" }, undefined],
  ["the recent-buffer baseline", { kind: "decayed" }, { name: "recent-buffer", params: { reads: 3 } }],
  ["the popularity baseline", { kind: "decayed" }, { name: "popularity", params: { halfLifeHours: 6 } }],
];

describe("every bundle's served popularity follows the clicks after the snapshot", () => {
  it.each(KINDS)(
    "%s: its popular list leads with a page issued after the snapshot once clicked",
    (_, popularity, strategy) => {
      const bundle = written(popularity, strategy);
      // A bundle serves a buffer exactly when it records what advancing it needs.
      expect(bundle.popularity.buffer !== undefined || bundle.popularity.window !== undefined).toBe(
        servesRecentBuffer(bundle.manifest),
      );
      const catalogue = mapCatalogue(bundle.data.articles);
      const worldOf = bundleWorlds(bundle);
      expect(worldOf(catalogue).popularRanking).not.toContain(P(9));
      const live = bundleLivePopularity(bundle, (page) => catalogue.get(page) !== undefined);
      for (let i = 0; i < 5; i++) live.record({ page: P(9), timestamp: AS_OF + 2 * HOUR_MS + i });
      expect(worldOf(catalogue, undefined, live.tables()).popularRanking[0]).toBe(P(9));
    },
  );

  it("records the recent-buffer baseline's buffer: its size, its pages oldest first and the tie-break", () => {
    const { popularity } = written({ kind: "decayed" }, { name: "recent-buffer", params: { reads: 3 } });
    expect(popularity.buffer?.reads).toBe(3);
    expect(popularity.buffer?.pages).toEqual([P(2), P(2), P(3)]);
    expect(popularity.buffer?.decayed.map(([page]) => page).sort()).toEqual([P(1), P(2), P(3)]);
    // Without that record a buffer bundle's list would stay as written (the gap this closes).
    const { buffer: _, ...unsaid } = popularity;
    const bundle = {
      ...written({ kind: "decayed" }, { name: "recent-buffer", params: { reads: 3 } }),
      popularity: unsaid,
    };
    const live = bundleLivePopularity(bundle, () => true);
    for (let i = 0; i < 5; i++) live.record({ page: P(9), timestamp: AS_OF + 2 * HOUR_MS + i });
    expect(live.tables().popularity.get(P(9))).toBeUndefined();
  });
});
