import { describe, expect, it } from "@jest/globals";
import {
  type ArticleFeatureSource,
  BUNDLE_SCHEMA_VERSION,
  type BundleManifest,
  bundleLivePopularity,
  bundleWorlds,
  DEFAULT_CANDIDATES,
  decayedReadScales,
  decayedReads,
  EXPOSURE_HALF_LIFE_HOURS,
  FEATURE_SCHEMA_VERSION,
  inRecentWindow,
  LIVE_MAX_LEAD_MS,
  LivePopularity,
  mapCatalogue,
  POPULARITY_SCALES_HOURS,
  PORTAL_BUCKET_MS,
  type PopularityTables,
  popularityTableSchema,
  portalExposure,
  portalReads,
  recentBufferCounts,
  recentWindowCounts,
  recentWindowReads,
  servesRecentBuffer,
  type TimedRead,
} from "../../src/index.js";
import { mulberry32 } from "../../src/util/random.js";

const HOUR = 3_600_000;
const AS_OF = Date.UTC(2022, 7, 15);
const P = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

/** `count` reads of pages 1..pages between `from` and `to`, in time order. */
function reads(seed: number, count: number, pages: number, from: number, to: number): TimedRead[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => ({
    page: P(1 + Math.floor(random() * pages)),
    timestamp: Math.floor(from + random() * (to - from)),
  })).sort((a, b) => a.timestamp - b.timestamp);
}

function expectClose(actual: ReadonlyMap<string, number>, expected: ReadonlyMap<string, number>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [page, value] of expected) {
    const got = actual.get(page) as number;
    expect(Math.abs(got - value)).toBeLessThanOrEqual(1e-9 * Math.abs(value));
  }
}

/** The tables training computes from `all` at `t` (every read before t + 1). */
function direct(all: readonly TimedRead[], t: number, halfLifeHours: number): PopularityTables {
  return {
    asOf: t,
    popularity: decayedReads(all, t + 1, halfLifeHours, t),
    popularityScales: decayedReadScales(all, t + 1, t),
  };
}

/** The base tables of a bundle made from `r1` at `asOf` (as training writes them). */
function base(r1: readonly TimedRead[], halfLifeHours: number, advancePopularity = true) {
  return {
    asOf: AS_OF,
    halfLifeHours,
    popularity: decayedReads(r1, AS_OF + 1, halfLifeHours, AS_OF),
    popularityScales: decayedReadScales(r1, AS_OF + 1, AS_OF),
    advancePopularity,
  };
}

describe("LivePopularity: the snapshot's tables advanced with later reads", () => {
  it.each([1, 6, 72])(
    "equals the tables computed from R1 ∪ R2 at t (half-life %d h, 1e-9 relative)",
    (halfLifeHours) => {
      const r1 = reads(1, 3_000, 80, AS_OF - 96 * HOUR, AS_OF);
      // Later reads over two days, some of new pages (81..120), some at the same ms, out of order.
      const r2 = reads(2, 2_000, 120, AS_OF + 1, AS_OF + 49 * HOUR);
      const live = new LivePopularity(base(r1, halfLifeHours), () => true);
      const shuffled = [...r2].reverse();
      for (const r of shuffled) expect(live.record(r)).toBe(true);
      const t = Math.max(...r2.map((r) => r.timestamp));
      expect(live.latest).toBe(t);
      expect(live.pending).toBe(r2.length);
      const advanced = live.tables();
      const want = direct([...r1, ...r2], t, halfLifeHours);
      expect(advanced.asOf).toBe(t);
      expectClose(advanced.popularity, want.popularity);
      for (let k = 0; k < POPULARITY_SCALES_HOURS.length; k++)
        expectClose(
          new Map([...advanced.popularityScales].map(([p, v]) => [p, v[k] as number])),
          new Map([...want.popularityScales].map(([p, v]) => [p, v[k] as number])),
        );
      expect(live.pending).toBe(0);
    },
  );

  it("advances in steps (tables taken between reads) to the same tables as in one go", () => {
    const r1 = reads(3, 500, 30, AS_OF - 24 * HOUR, AS_OF);
    const r2 = reads(4, 900, 40, AS_OF + 1, AS_OF + 72 * HOUR);
    const live = new LivePopularity(base(r1, 6), () => true);
    for (const [i, r] of r2.entries()) {
      live.record(r);
      if (i % 100 === 0) live.tables();
    }
    const t = r2.at(-1)?.timestamp as number;
    expectClose(live.tables().popularity, direct([...r1, ...r2], t, 6).popularity);
  });

  it("ignores reads at or before the snapshot and pages it does not admit, and holds no reader", () => {
    const r1 = reads(5, 200, 10, AS_OF - 5 * HOUR, AS_OF);
    const admitted = new Set([P(1), P(2), P(50)]);
    const live = new LivePopularity(base(r1, 6), (page) => admitted.has(page));
    expect(live.record({ page: P(1), timestamp: AS_OF })).toBe(false);
    expect(live.record({ page: P(1), timestamp: AS_OF - HOUR })).toBe(false);
    expect(live.record({ page: P(3), timestamp: AS_OF + HOUR })).toBe(false);
    expect(live.moved).toBe(false);
    expect(live.record({ page: P(50), timestamp: AS_OF + 2 * HOUR })).toBe(true);
    expect(live.moved).toBe(true);
    const tables = live.tables();
    expect(tables.asOf).toBe(AS_OF + 2 * HOUR);
    expect(tables.popularity.get(P(50))).toBe(1);
    expect(tables.popularityScales.get(P(50))).toEqual(POPULARITY_SCALES_HOURS.map(() => 1));
    expectClose(
      new Map([...tables.popularity].filter(([p]) => p !== P(50))),
      decayedReads(r1, AS_OF + 1, 6, AS_OF + 2 * HOUR),
    );
  });

  it.each([100, 5_000])(
    "rolls a serving buffer of %d reads to the buffer computed from R1 ∪ R2 at t (1e-9 relative)",
    (size) => {
      const r1 = reads(7, 3_000, 80, AS_OF - 96 * HOUR, AS_OF);
      const r2 = reads(8, 1_500, 120, AS_OF + 1, AS_OF + 30 * HOUR);
      const b = base(r1, 3);
      const live = new LivePopularity(
        {
          ...b,
          popularity: recentBufferCounts(
            r1.slice(-size).map((r) => r.page),
            b.popularity,
          ),
          buffer: { reads: size, pages: r1.slice(-size).map((r) => r.page), decayed: b.popularity },
        },
        () => true,
      );
      for (const r of r2) live.record(r); // in time order, as the buffer counts them
      const t = r2.at(-1)?.timestamp as number;
      const all = [...r1, ...r2];
      const want = recentBufferCounts(
        all.slice(-size).map((r) => r.page),
        decayedReads(all, t + 1, 3, t),
      );
      expectClose(live.tables().popularity, want);
    },
  );

  it("keeps a recent-click buffer's popularity as the bundle wrote it and advances only the scales", () => {
    const r1 = reads(6, 100, 10, AS_OF - 5 * HOUR, AS_OF);
    const b = { ...base(r1, 6, false), popularity: new Map([[P(1), 7.25]]) };
    const live = new LivePopularity(b, () => true);
    live.record({ page: P(20), timestamp: AS_OF + HOUR });
    const tables = live.tables();
    expect([...tables.popularity]).toEqual([[P(1), 7.25]]);
    expect(tables.popularityScales.get(P(20))).toEqual(POPULARITY_SCALES_HOURS.map(() => 1));
  });

  it("refuses a read further than LIVE_MAX_LEAD_MS past the latest one (a wrong clock), and moves on from there", () => {
    const live = new LivePopularity(base([], 6), () => true);
    expect(live.record({ page: P(1), timestamp: AS_OF + LIVE_MAX_LEAD_MS + 1 })).toBe(false);
    expect(live.moved).toBe(false);
    expect(live.record({ page: P(1), timestamp: AS_OF + HOUR })).toBe(true);
    expect(live.record({ page: P(2), timestamp: AS_OF + HOUR + LIVE_MAX_LEAD_MS + 1 })).toBe(false);
    expect(live.latest).toBe(AS_OF + HOUR);
    expect(live.record({ page: P(2), timestamp: AS_OF + HOUR + LIVE_MAX_LEAD_MS })).toBe(true);
    expect(live.tables().asOf).toBe(AS_OF + HOUR + LIVE_MAX_LEAD_MS);
  });

  it("returns tables that later reads leave unchanged", () => {
    const live = new LivePopularity(base([], 6), () => true);
    live.record({ page: P(1), timestamp: AS_OF + HOUR });
    const first = live.tables();
    live.record({ page: P(1), timestamp: AS_OF + 2 * HOUR });
    expect(first.popularity.get(P(1))).toBe(1);
    expect(first.popularityScales.get(P(1))).toEqual([1, 1, 1]);
    expect(live.tables().popularity.get(P(1))).toBeCloseTo(1 + 2 ** (-1 / 6), 12);
  });
});

describe("the recent window: the reads of the last M minutes", () => {
  const MIN = 60_000;

  it("holds the reads in (end − minutes, end]: one at the window's start is out, one at its end is in", () => {
    expect(inRecentWindow(AS_OF - 30 * MIN, AS_OF, 30)).toBe(false);
    expect(inRecentWindow(AS_OF - 30 * MIN + 1, AS_OF, 30)).toBe(true);
    expect(inRecentWindow(AS_OF, AS_OF, 30)).toBe(true);
    expect(inRecentWindow(AS_OF + 1, AS_OF, 30)).toBe(false);
  });

  it("counts every read of equal timestamps, and gives pages outside the window their tie-break below half a read", () => {
    const rs: TimedRead[] = [
      { page: P(1), timestamp: AS_OF - 90 * MIN },
      { page: P(2), timestamp: AS_OF - 10 * MIN },
      { page: P(2), timestamp: AS_OF - 10 * MIN },
      { page: P(3), timestamp: AS_OF - 10 * MIN },
      { page: P(4), timestamp: AS_OF + 1 }, // at or after the cut: not read yet
    ];
    const inWindow = recentWindowReads(rs, AS_OF + 1, AS_OF, 60);
    expect(inWindow.map((r) => r.page)).toEqual([P(2), P(2), P(3)]);
    const counts = recentWindowCounts(rs, AS_OF, 60, new Map([[P(1), 4]]));
    expect(counts.get(P(2))).toBe(2);
    expect(counts.get(P(3))).toBe(1);
    expect(counts.get(P(1))).toBe(0.5);
    expect(counts.get(P(4))).toBeUndefined();
  });

  it.each([15, 240])(
    "rolls a serving window of %d minutes to the window computed from R1 ∪ R2 at t (1e-9 relative), evicting as reads arrive",
    (minutes) => {
      const r1 = reads(7, 3_000, 80, AS_OF - 96 * HOUR, AS_OF);
      const r2 = reads(8, 1_500, 120, AS_OF + 1, AS_OF + 30 * HOUR);
      const b = base(r1, 3);
      const held = recentWindowReads(r1, AS_OF + 1, AS_OF, minutes);
      const live = new LivePopularity(
        {
          ...b,
          popularity: recentWindowCounts(held, AS_OF, minutes, b.popularity),
          window: { minutes, reads: held, decayed: b.popularity },
        },
        () => true,
      );
      let step = 0;
      for (const r of r2) {
        live.record(r);
        // tables taken between reads see the window ending at the latest read
        if (++step % 500 === 0) {
          const t = r.timestamp;
          const upTo = [...r1, ...r2].filter((x) => x.timestamp <= t);
          expectClose(
            live.tables().popularity,
            recentWindowCounts(upTo, t, minutes, decayedReads(upTo, t + 1, 3, t)),
          );
        }
      }
      const t = r2.at(-1)?.timestamp as number;
      const all = [...r1, ...r2];
      expectClose(
        live.tables().popularity,
        recentWindowCounts(all, t, minutes, decayedReads(all, t + 1, 3, t)),
      );
    },
  );

  it("drops the window's reads as time passes and keeps at most its cap of reads", () => {
    const live = new LivePopularity(
      { ...base([], 1), window: { minutes: 10, reads: [], decayed: new Map() } },
      () => true,
      3,
    );
    for (let i = 1; i <= 4; i++) live.record({ page: P(i), timestamp: AS_OF + i * MIN });
    // the cap of 3 dropped P(1), the oldest
    expect([...live.tables().popularity.entries()].filter(([, v]) => v >= 1).map(([p]) => p)).toEqual([
      P(2),
      P(3),
      P(4),
    ]);
    // 13 minutes in, the window is (3, 13] minutes: P(4) and P(5) are in it, P(3) (exactly at its start) and P(2) are out
    live.record({ page: P(5), timestamp: AS_OF + 13 * MIN });
    const later = live.tables().popularity;
    expect(later.get(P(4)) as number).toBeGreaterThanOrEqual(1);
    expect(later.get(P(5)) as number).toBeGreaterThanOrEqual(1);
    expect(later.get(P(3)) as number).toBeLessThan(0.5);
    expect(later.get(P(2)) as number).toBeLessThan(0.5);
  });
});

describe("bundleWorlds with live tables", () => {
  const manifest = (overrides: Partial<BundleManifest> = {}): BundleManifest => ({
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    featureSchemaVersion: FEATURE_SCHEMA_VERSION,
    createdAt: new Date(AS_OF).toISOString(),
    snapshot: { snapshotId: "s", manifestKey: "k", digest: "d" },
    asOf: AS_OF,
    inputs: [],
    numericFeatures: [],
    recentReads: 10,
    candidates: { ...DEFAULT_CANDIDATES },
    strategy: { kind: "model" },
    files: { popularity: "p.json", covisitation: "c.json" },
    params: {},
    ...overrides,
  });
  const article = (n: number, issued: number): ArticleFeatureSource => ({
    page: P(n),
    section: "s",
    region: "r",
    issued,
  });
  const catalogue = mapCatalogue(
    new Map([
      [P(1), article(1, AS_OF - 2 * HOUR)],
      [P(2), article(2, AS_OF - HOUR)],
      [P(3), article(3, AS_OF + HOUR)],
    ]),
  );
  const bundle = {
    manifest: manifest(),
    popularity: { asOf: AS_OF, halfLifeHours: 6, entries: [[P(1), 3] as [string, number]], scales: {} },
    covisitation: { topK: 5, neighbours: {} },
  };

  it("serves the snapshot's world without live tables, and the later time's world with them", () => {
    const worldOf = bundleWorlds(bundle);
    const still = worldOf(catalogue);
    expect(still.asOf).toBe(AS_OF);
    expect(still.popularRanking).toEqual([P(1), P(2)]);
    const live = bundleLivePopularity(bundle, (page) => catalogue.get(page) !== undefined);
    for (let i = 0; i < 5; i++) live.record({ page: P(3), timestamp: AS_OF + 2 * HOUR + i });
    const moved = worldOf(catalogue, undefined, live.tables());
    expect(moved.asOf).toBe(AS_OF + 2 * HOUR + 4);
    expect(moved.popularRanking[0]).toBe(P(3));
    expect(moved.features.popularity(P(1))).toBeCloseTo(3 * 2 ** (-(2 * HOUR + 4) / (6 * HOUR)), 9);
  });

  /** A recent buffer's or window's counts (P(1) one read and more, P(2) its tie-break) and its decayed tie-break. */
  const RECENT_ENTRIES: [string, number][] = [
    [P(1), 2.5],
    [P(2), 0.25],
  ];
  const RECENT_DECAYED: [string, number][] = [
    [P(1), 4],
    [P(2), 2],
  ];

  it("advances a bundle's serving buffer when the bundle says what it held", () => {
    const buffered = {
      ...bundle,
      manifest: manifest({ params: { serving_popularity: "buffer:2" } }),
      popularity: {
        ...bundle.popularity,
        entries: RECENT_ENTRIES,
        buffer: {
          reads: 2,
          pages: [P(1), P(1)],
          decayed: RECENT_DECAYED,
        },
      },
    };
    const live = bundleLivePopularity(buffered, () => true);
    live.record({ page: P(3), timestamp: AS_OF + HOUR });
    const popularity = live.tables().popularity;
    // P(1) keeps one read of the buffer; P(3) enters it; P(2) only its tie-break.
    expect(Math.floor(popularity.get(P(1)) as number)).toBe(1);
    expect(Math.floor(popularity.get(P(3)) as number)).toBe(1);
    expect(popularity.get(P(2))).toBeLessThan(0.5);
    // Without what the buffer held, its counts stay as written.
    const { buffer: _, ...unsaid } = buffered.popularity;
    const still = bundleLivePopularity({ ...buffered, popularity: unsaid }, () => true);
    still.record({ page: P(3), timestamp: AS_OF + HOUR });
    expect([...still.tables().popularity]).toEqual(unsaid.entries);
  });

  it("reads a popularity table written before the buffer record, and one with it", () => {
    const old = popularityTableSchema.parse({ asOf: AS_OF, halfLifeHours: 6, entries: [[P(1), 3]] });
    expect(old.buffer).toBeUndefined();
    expect(old.scales).toEqual({});
    const recorded = popularityTableSchema.parse({
      asOf: AS_OF,
      halfLifeHours: 6,
      entries: [[P(1), 1.5]],
      buffer: { reads: 2, pages: [P(1)], decayed: [[P(1), 3]] },
    });
    expect(recorded.buffer).toEqual({ reads: 2, pages: [P(1)], decayed: [[P(1), 3]] });
    expect(() =>
      popularityTableSchema.parse({ ...recorded, buffer: { reads: 0, pages: [], decayed: [] } }),
    ).toThrow();
    const windowed = popularityTableSchema.parse({
      asOf: AS_OF,
      halfLifeHours: 6,
      entries: [[P(1), 1.5]],
      window: { minutes: 60, reads: [[P(1), AS_OF - 1]], decayed: [[P(1), 3]] },
    });
    expect(windowed.window?.reads).toEqual([[P(1), AS_OF - 1]]);
    expect(() => popularityTableSchema.parse({ ...windowed, buffer: recorded.buffer })).toThrow();
  });

  it("advances a bundle's serving window by time, and keeps serving an old bundle's buffer of reads as before", () => {
    const windowed = {
      ...bundle,
      manifest: manifest({ params: { serving_popularity: "window:60" } }),
      popularity: {
        ...bundle.popularity,
        entries: RECENT_ENTRIES,
        window: {
          minutes: 60,
          reads: [[P(1), AS_OF - 30 * 60_000] as [string, number], [P(1), AS_OF - 1] as [string, number]],
          decayed: RECENT_DECAYED,
        },
      },
    };
    const live = bundleLivePopularity(windowed, () => true);
    live.record({ page: P(3), timestamp: AS_OF + 45 * 60_000 });
    const popularity = live.tables().popularity;
    // 45 minutes on, P(1)'s read of 30 minutes before the snapshot has left the hour; its last one has not.
    expect(Math.floor(popularity.get(P(1)) as number)).toBe(1);
    expect(Math.floor(popularity.get(P(3)) as number)).toBe(1);
    expect(popularity.get(P(2))).toBeLessThan(0.5);
    // 61 minutes after the snapshot, P(1)'s last read has left too; a buffer of 2 reads would still hold it.
    live.record({ page: P(3), timestamp: AS_OF + 61 * 60_000 });
    expect(live.tables().popularity.get(P(1))).toBeLessThanOrEqual(0.5);
    const buffered = bundleLivePopularity(
      {
        ...windowed,
        manifest: manifest({ params: { serving_popularity: "buffer:2" } }),
        popularity: {
          ...bundle.popularity,
          entries: windowed.popularity.entries,
          buffer: { reads: 3, pages: [P(1), P(1)], decayed: windowed.popularity.window.decayed },
        },
      },
      () => true,
    );
    buffered.record({ page: P(3), timestamp: AS_OF + 61 * 60_000 });
    expect(Math.floor(buffered.tables().popularity.get(P(1)) as number)).toBe(2);
  });

  it("knows which bundles serve a recent-click buffer", () => {
    expect(servesRecentBuffer(manifest())).toBe(false);
    expect(servesRecentBuffer(manifest({ params: { serving_popularity: "buffer:1000" } }))).toBe(true);
    expect(servesRecentBuffer(manifest({ params: { serving_popularity: "window:60" } }))).toBe(true);
    expect(
      servesRecentBuffer(
        manifest({ strategy: { kind: "baseline", name: "recent-buffer", params: { reads: 100 } } }),
      ),
    ).toBe(true);
    expect(
      servesRecentBuffer(
        manifest({ strategy: { kind: "baseline", name: "popularity", params: { halfLifeHours: 3 } } }),
      ),
    ).toBe(false);
  });
});

describe("the portal's reads and an article's exposure", () => {
  it("advance with the live reads to the buckets training counts from every read", () => {
    const r1 = reads(11, 300, 20, AS_OF - 30 * HOUR, AS_OF);
    const r2 = reads(12, 200, 20, AS_OF + 1, AS_OF + 5 * HOUR);
    const live = new LivePopularity({ ...base(r1, 2), portal: portalReads(r1, AS_OF + 1) }, () => true);
    for (const r of r2) live.record(r);
    const tables = live.tables();
    expect([...(tables.portal ?? [])].sort((a, b) => a[0] - b[0])).toEqual(
      [...portalReads([...r1, ...r2], Number.POSITIVE_INFINITY)].sort((a, b) => a[0] - b[0]),
    );
    // A base without the portal's reads (a bundle written before them) keeps none.
    const old = new LivePopularity(base(r1, 2), () => true);
    old.record(r2[0] as TimedRead);
    expect(old.tables().portal).toBeUndefined();
  });

  it("counts the reads from an article's issue bucket on, each decayed as its 24 h popularity", () => {
    const t0 = Math.floor(AS_OF / PORTAL_BUCKET_MS) * PORTAL_BUCKET_MS;
    const portal = new Map([
      [t0 - 3 * PORTAL_BUCKET_MS, 10],
      [t0 - 2 * PORTAL_BUCKET_MS, 4],
      [t0 - PORTAL_BUCKET_MS, 6],
    ]);
    const exposure = portalExposure(portal, t0);
    const decay = (bucket: number) =>
      Math.exp((-Math.LN2 * (t0 - (bucket + PORTAL_BUCKET_MS / 2))) / (EXPOSURE_HALF_LIFE_HOURS * HOUR));
    const last = 6 * decay(t0 - PORTAL_BUCKET_MS);
    const middle = 4 * decay(t0 - 2 * PORTAL_BUCKET_MS);
    // Issued inside the middle bucket: that bucket and the last; before every bucket: all; after: none.
    expect(exposure(t0 - 2 * PORTAL_BUCKET_MS + 1_000)).toBeCloseTo(middle + last, 9);
    expect(exposure(t0 - 10 * PORTAL_BUCKET_MS)).toBeCloseTo(
      10 * decay(t0 - 3 * PORTAL_BUCKET_MS) + middle + last,
      9,
    );
    expect(exposure(t0 + 1_000)).toBe(0);
    expect(EXPOSURE_HALF_LIFE_HOURS).toBe(24);
  });
});
