import { coldstartListId } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { CovisitationAccumulator, PopularityAccumulator } from "../../src/domain/snapshot.js";
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
