import { coldstartListId } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { CovisitationAccumulator, covisitList, PopularityAccumulator } from "../../src/domain/snapshot.js";
import { Rng } from "../../src/generator/rng.js";

const H = 3_600_000;
const T0 = Date.UTC(2022, 7, 14);
const rng = new Rng("snapshot");
const pages = Array.from({ length: 6 }, () => rng.uuid());
const [A, B, C, D, E, F] = pages as [string, string, string, string, string, string];
const category = new Map([
  [A, { section: "economia", region: "nacional" }],
  [B, { section: "economia", region: "nacional" }],
  [C, { section: "campinas-regiao", region: "sp" }],
  [D, { section: "sao-paulo", region: "sp" }],
]);

function shuffle<T>(items: readonly T[], seed: string): T[] {
  const r = new Rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("PopularityAccumulator", () => {
  const now = T0 + 48 * H;
  const reads = [
    { page: A, timestamp: now - 0.2 * H },
    { page: A, timestamp: now - 0.5 * H },
    { page: B, timestamp: now - 0.1 * H },
    { page: C, timestamp: now - 3 * H },
    { page: C, timestamp: now - 4 * H },
    { page: C, timestamp: now - 5 * H },
    { page: D, timestamp: now - 20 * H },
    { page: E, timestamp: now - 30 * H },
    { page: F, timestamp: now },
  ];

  function build(order: typeof reads) {
    const acc = new PopularityAccumulator();
    acc.addAll(order);
    return { acc, lists: acc.build((p) => category.get(p)) };
  }

  it("ranks by recency-decayed reads per window, as of the newest timestamp", () => {
    const { acc, lists } = build(reads);
    expect(acc.asOf).toBe(now);
    const list = (id: string) => lists.find((l) => l.listId === id)?.entries.map((e) => e.page);
    expect(list(coldstartListId.popular("global", 1))).toEqual([A, F, B]);
    expect(list(coldstartListId.popular("global", 6))).toEqual([A, C, F, B]);
    expect(list(coldstartListId.popular("global", 24))).toContain(D);
    expect(list(coldstartListId.popular("global", 24))).not.toContain(E);
    expect(list(coldstartListId.popular("section:economia", 1))).toEqual([A, B]);
    expect(list(coldstartListId.popular("region:sp", 24))).toEqual([C, D]);
  });

  it("scores a recent read above an older one", () => {
    const acc = new PopularityAccumulator();
    acc.addAll([
      { page: A, timestamp: now - 5 * H },
      { page: B, timestamp: now - 1 * H },
      { page: C, timestamp: now },
    ]);
    const six = acc.build(() => undefined).find((l) => l.listId === coldstartListId.popular("global", 6));
    expect(six?.entries.map((e) => e.page)).toEqual([C, B, A]);
    expect(six?.entries[0]?.score).toBeCloseTo(1);
    expect(six?.entries[2]?.score).toBeCloseTo(2 ** (-5 / 3));
  });

  it("gives the same lists whatever the order of the interactions", () => {
    const base = build(reads).lists;
    for (const seed of ["x", "y", "z"]) expect(build(shuffle(reads, seed)).lists).toEqual(base);
  });

  it("keeps memory to the last day while matching a naive count over many days", () => {
    const r = new Rng("many");
    const many = Array.from({ length: 200_000 }, () => ({
      page: pages[r.int(6)] as string,
      timestamp: T0 + r.int(10 * 24) * H + r.int(H),
    }));
    const acc = new PopularityAccumulator();
    acc.addAll(many);
    const asOf = acc.asOf as number;
    const list = acc.build(() => undefined).find((l) => l.listId === coldstartListId.popular("global", 24));
    const naive = new Map<string, number>();
    for (const i of many) {
      const age = asOf - i.timestamp;
      if (age < 24 * H) naive.set(i.page, (naive.get(i.page) ?? 0) + 2 ** (-age / (12 * H)));
    }
    for (const e of list?.entries ?? []) expect(e.score).toBeCloseTo(naive.get(e.page) as number, 6);
    expect(list?.entries.length).toBe(naive.size);
  });

  it("caps lists at topN (500 at most)", () => {
    const acc = new PopularityAccumulator();
    const r = new Rng("cap");
    for (let i = 0; i < 700; i++) acc.add({ page: r.uuid(), timestamp: T0 + i });
    const lists = acc.build(() => undefined, { topN: 10_000 });
    expect(Math.max(...lists.map((l) => l.entries.length))).toBe(500);
  });
});

describe("CovisitationAccumulator", () => {
  const session = (start: number, ...ps: string[]) =>
    ps.map((page, i) => ({ page, timestamp: start + i * 60_000 }));

  it("counts consecutive reads within the session gap, both ways", () => {
    const acc = new CovisitationAccumulator();
    acc.addReader(session(T0, A, B, C));
    acc.addReader(session(T0, A, B));
    acc.addReader([...session(T0, D), ...session(T0 + 2 * H, A)]); // gap > 30 min: no pair
    const lists = new Map(acc.build().map((l) => [l.listId, l.entries]));
    expect(lists.get(coldstartListId.covisit(A))).toEqual([{ page: B, score: 2 }]);
    expect(lists.get(coldstartListId.covisit(B))).toEqual([
      { page: A, score: 2 },
      { page: C, score: 1 },
    ]);
    expect(lists.has(coldstartListId.covisit(D))).toBe(false);
    expect(acc.pairCount).toBe(3);
  });

  it("gives the same neighbours whatever the order of readers and of their interactions", () => {
    const r = new Rng("cov");
    const readers = Array.from({ length: 300 }, (_, u) =>
      Array.from({ length: 1 + r.int(8) }, (_, i) => ({
        page: pages[r.int(6)] as string,
        timestamp: T0 + u * H + i * r.int(40) * 60_000,
      })),
    );
    const build = (rs: typeof readers) => {
      const acc = new CovisitationAccumulator();
      for (const x of rs) acc.addReader(shuffle(x, "inner"));
      return acc.build({ topN: 3 });
    };
    const base = build(readers);
    expect(build(shuffle(readers, "outer"))).toEqual(base);
    expect(Math.max(...base.map((l) => l.entries.length))).toBeLessThanOrEqual(3);
  });
});

describe("CovisitationAccumulator.lists", () => {
  it("streams the same lists as build, one at a time", () => {
    const acc = new CovisitationAccumulator();
    acc.addReader([
      { page: A, timestamp: T0 },
      { page: B, timestamp: T0 + 60_000 },
      { page: C, timestamp: T0 + 120_000 },
    ]);
    const streamed = [...acc.lists()].sort((x, y) => (x.listId < y.listId ? -1 : 1));
    expect(streamed).toEqual(acc.build());
    expect(streamed).toHaveLength(3);
  });
});

/**
 * The co-visit counting as it was before the counts were folded (main 5c16c74): every co-visit kept
 * both ways as `a * 2^22 + b`, sorted, run-length counted. The oracle the folded counts must equal.
 */
function directedCounts(readers: readonly { page: string; timestamp: number }[][]) {
  const ids = new Map<string, number>();
  const id = (p: string) => {
    if (!ids.has(p)) ids.set(p, ids.size);
    return ids.get(p) as number;
  };
  const keys: number[] = [];
  for (const reads of readers) {
    const s = [...reads].sort((a, b) => a.timestamp - b.timestamp || (a.page < b.page ? -1 : 1));
    for (let i = 1; i < s.length; i++) {
      const prev = s[i - 1] as { page: string; timestamp: number };
      const cur = s[i] as { page: string; timestamp: number };
      if (cur.timestamp - prev.timestamp > 30 * 60_000 || cur.page === prev.page) continue;
      const [a, b] = [id(prev.page), id(cur.page)];
      keys.push(a * 2 ** 22 + b, b * 2 ** 22 + a);
    }
  }
  const counts = new Map<number, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return { names: [...ids.keys()], counts };
}

describe("CovisitationAccumulator's folded counts", () => {
  // Zipf-like popularity over 400 pages, sessions of 1–12 reads: many repeated pairs, many single ones.
  const r = new Rng("fold");
  const many = Array.from({ length: 400 }, () => r.uuid());
  const readers = Array.from({ length: 3_000 }, (_, u) =>
    Array.from({ length: 1 + r.int(12) }, (_, i) => ({
      page: many[Math.floor(400 * r.next() ** 3)] as string,
      timestamp: T0 + (u % 50) * H + i * r.int(20) * 60_000,
    })),
  );
  const oracle = directedCounts(readers);

  it.each([64, 1_000, undefined])(
    "equal the sorted count of every co-visit (folded every %p)",
    (foldEvery) => {
      const acc = new CovisitationAccumulator(foldEvery === undefined ? {} : { foldEvery });
      for (const reads of readers) acc.addReader(reads);
      const { pages: names, keys, counts } = acc.pairCounts();
      expect(names).toEqual(oracle.names);
      const expected = [...oracle.counts].filter(([k]) => Math.floor(k / 2 ** 22) < k % 2 ** 22);
      expected.sort(([x], [y]) => x - y);
      expect([...keys]).toEqual(expected.map(([k]) => k));
      expect([...counts]).toEqual(expected.map(([, c]) => c));
      expect(acc.pairCount * 2).toBe([...oracle.counts.values()].reduce((s, c) => s + c, 0));
      // Every list from the directed counts, ranked by the one ranking (covisitList).
      const bySource = new Map<number, { id: number; count: number }[]>();
      for (const [k, count] of oracle.counts) {
        const source = Math.floor(k / 2 ** 22);
        const list = bySource.get(source) ?? [];
        list.push({ id: k % 2 ** 22, count });
        bySource.set(source, list);
      }
      const want = [...bySource]
        .map(([source, n]) => covisitList(oracle.names, source, n, 50))
        .sort((x, y) => (x.listId < y.listId ? -1 : 1));
      expect(acc.build()).toEqual(want);
      expect(want.length).toBeGreaterThan(300);
    },
  );

  it("takes reads after its counts were read, without changing the arrays it gave out", () => {
    const acc = new CovisitationAccumulator({ foldEvery: 64 });
    for (const reads of readers.slice(0, 1_500)) acc.addReader(reads);
    const early = acc.pairCounts();
    const earlyKeys = early.keys.slice();
    const earlyCounts = early.counts.slice();
    for (const reads of readers.slice(1_500)) acc.addReader(reads);
    expect(early.keys).toEqual(earlyKeys);
    expect(early.counts).toEqual(earlyCounts);
    const all = new CovisitationAccumulator();
    for (const reads of readers) all.addReader(reads);
    expect(acc.pairCounts()).toEqual(all.pairCounts());
  });
});
