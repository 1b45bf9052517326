import { coldstartListId } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import {
  AGGREGATES_RETAIN_MS,
  aggregatesOf,
  type ColdstartList,
  CovisitationAccumulator,
  decodeAggregates,
  encodeAggregates,
  InteractionPass,
  PopularityAccumulator,
  type SnapshotAggregates,
  type SnapshotRead,
  subtractReaders,
} from "../../src/domain/index.js";
import { Rng } from "../../src/generator/rng.js";

const H = 3_600_000;
const T0 = Date.UTC(2022, 7, 1);
const rng = new Rng("aggregates");
const pages = Array.from({ length: 40 }, () => rng.uuid());
const readers = Array.from({ length: 30 }, (_, i) => i.toString(16).padStart(64, "a"));
const category = (page: string) =>
  pages.indexOf(page) % 3 === 0 ? undefined : { section: `s${pages.indexOf(page) % 4}`, region: "sp" };

/** A lake of partitions (key → rows): reads over 3 days, some repeated in a second partition. */
function lake(seed: string): Map<string, SnapshotRead[]> {
  const r = new Rng(seed);
  const parts = new Map<string, SnapshotRead[]>();
  for (let p = 0; p < 4; p++) {
    const rows: SnapshotRead[] = [];
    for (const userId of readers) {
      let t = T0 + r.int(72) * H;
      for (let n = r.int(8); n > 0; n--) {
        t += r.int(40) * 60_000;
        rows.push({ userId, page: pages[r.int(pages.length)] as string, timestamp: t });
      }
    }
    parts.set(`processed/interactions/source=s${p}/part-00000.parquet`, rows);
  }
  // The same interactions delivered twice: the second copy counts once.
  const first = parts.values().next().value as SnapshotRead[];
  parts.set(
    "processed/interactions/source=zz/part-00000.parquet",
    first.filter((_, i) => i % 2 === 0),
  );
  return parts;
}

/** What the snapshot's full build computes from these partitions. */
function full(parts: Map<string, SnapshotRead[]>) {
  const popularity = new PopularityAccumulator({ retainMs: AGGREGATES_RETAIN_MS });
  const covisitation = new CovisitationAccumulator();
  const pass = new InteractionPass(covisitation, (read) => popularity.add(read));
  for (const [, rows] of [...parts].sort(([a], [b]) => (a < b ? -1 : 1)))
    pass.addPartition(rows.length, (i) => rows[i] as SnapshotRead);
  const asOf = popularity.asOf ?? 0;
  const totals = { interactions: pass.interactions, items: 0, validation: 0, users: pass.readers };
  const lists = new Map(
    [...popularity.build(category), ...covisitation.build()].map((l): [string, ColdstartList] => [
      l.listId,
      l,
    ]),
  );
  const aggregates = aggregatesOf(
    { snapshotId: "s", asOf, etags: {}, totals },
    popularity,
    covisitation,
    category,
  );
  return { lists, aggregates, totals };
}

const without = (parts: Map<string, SnapshotRead[]>, ids: readonly string[]) => ({
  kept: new Map([...parts].map(([k, rows]) => [k, rows.filter((r) => !ids.includes(r.userId))])),
  removed: [...parts].map(([key, rows]) => ({ key, removed: rows.filter((r) => ids.includes(r.userId)) })),
});

/** Co-visit counts by page names (the two builds intern pages in different orders). */
const pairsByName = (a: SnapshotAggregates) =>
  new Map(
    Array.from(a.pairKeys, (key, i) => {
      const x = a.pages[Math.floor(key / 2 ** 22)] as string;
      const y = a.pages[key % 2 ** 22] as string;
      return [[x, y].sort().join(","), a.pairCounts[i]];
    }),
  );

describe("subtractReaders", () => {
  it("gives the lists and totals of a full build over the lake without the readers", () => {
    const parts = lake("one");
    const before = full(parts);
    const erased = [readers[3] as string, readers[17] as string, readers[0] as string];
    const { kept, removed } = without(parts, erased);
    const after = full(kept);

    const sub = subtractReaders(before.aggregates, removed, ["h3", "h17", "h0"]);
    if (!sub.ok) throw new Error(sub.reason);
    expect(before.totals.interactions - sub.interactions).toBe(after.totals.interactions);
    expect(before.totals.users - sub.users).toBe(after.totals.users);
    expect(sub.aggregates.asOf).toBe(after.aggregates.asOf);
    expect(sub.aggregates.subtracted).toEqual(["h3", "h17", "h0"]);
    expect(pairsByName(sub.aggregates)).toEqual(pairsByName(after.aggregates));
    // Every list it returns is the full build's (popularity: all of them; co-visitation: the changed
    // ones, or gone from the full build when no pair is left), and every list it leaves out is unchanged.
    const covisit = coldstartListId.covisit("");
    const returned = new Map(sub.lists.map((l) => [l.listId, l]));
    for (const [listId, list] of returned)
      expect(list.entries).toEqual(after.lists.get(listId)?.entries ?? []);
    for (const [listId, list] of after.lists)
      if (!returned.has(listId)) {
        expect(listId.startsWith(covisit)).toBe(true);
        expect(list.entries).toEqual(before.lists.get(listId)?.entries);
      }
    expect([...returned.keys()].filter((id) => id.startsWith(covisit)).length).toBeGreaterThan(0);
    expect([...returned.keys()].filter((id) => !id.startsWith(covisit))).toEqual(
      [...after.lists.keys()].filter((id) => !id.startsWith(covisit)),
    );
  });

  it("subtracts again from subtracted aggregates, after the first erasure moved the as-of time back", () => {
    const parts = lake("six");
    const late = readers[9] as string;
    const newest = Math.max(...[...parts.values()].flat().map((r) => r.timestamp));
    parts.set("processed/interactions/source=late/part-00000.parquet", [
      { userId: late, page: pages[1] as string, timestamp: newest + 10 * H },
    ]);
    // A reader with a read the first aggregates kept only because the newest read was later.
    const band = (r: SnapshotRead) =>
      r.timestamp <= newest + 10 * H - AGGREGATES_RETAIN_MS && r.timestamp > newest - AGGREGATES_RETAIN_MS;
    const second = [...parts.values()].flat().find((r) => band(r) && r.userId !== late)?.userId as string;
    expect(second).toBeDefined();
    const once = subtractReaders(full(parts).aggregates, without(parts, [late]).removed, ["h9"]);
    if (!once.ok) throw new Error(once.reason);
    expect(once.aggregates.asOf).toBe(newest);
    const kept = without(parts, [late]).kept;
    const twice = subtractReaders(once.aggregates, without(kept, [second]).removed, ["hx"]);
    if (!twice.ok) throw new Error(twice.reason);
    const after = full(without(kept, [second]).kept);
    expect(pairsByName(twice.aggregates)).toEqual(pairsByName(after.aggregates));
    for (const list of twice.lists) expect(list.entries).toEqual(after.lists.get(list.listId)?.entries ?? []);
  });

  it("refuses when the aggregates do not hold the readers' reads (they are another lake's)", () => {
    const parts = lake("two");
    const other = full(lake("three"));
    const { removed } = without(parts, [readers[5] as string]);
    expect(subtractReaders(other.aggregates, removed, ["h5"])).toMatchObject({ ok: false });
  });

  it("refuses when the readers held every read of the newest day (the kept reads cannot rebuild it)", () => {
    const parts = lake("four");
    const late = readers[9] as string;
    const newest = Math.max(...[...parts.values()].flat().map((r) => r.timestamp));
    parts.set("processed/interactions/source=late/part-00000.parquet", [
      { userId: late, page: pages[1] as string, timestamp: newest + 3 * 24 * H },
    ]);
    const sub = subtractReaders(full(parts).aggregates, without(parts, [late]).removed, ["h9"]);
    expect(sub).toEqual({ ok: false, reason: "the erased readers held the newest day of reads" });
  });

  it("round-trips through its binary form", () => {
    const { aggregates } = full(lake("five"));
    expect(decodeAggregates(encodeAggregates(aggregates))).toEqual(aggregates);
    // From inside a larger buffer (what gunzip returns), at an unaligned offset.
    const inside = Buffer.concat([Buffer.alloc(3), Buffer.from(encodeAggregates(aggregates))]).subarray(3);
    expect(decodeAggregates(inside)).toEqual(aggregates);
    expect(decodeAggregates(new TextEncoder().encode("\u0002\u0000\u0000\u0000{}"))).toBeUndefined();
  });
});
