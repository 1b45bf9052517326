import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cosineSimilarity, type InteractionRecord, type SparseVector } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { Staged } from "../../src/app/ingest-file.js";
import type { OutputSink } from "../../src/generator/generate.js";
import {
  drawWorldParams,
  generateWorld,
  type HiddenPreferences,
  type HiddenWorld,
  type ParamRange,
  resolveWorldParams,
  WORLD_PARAM_RANGES,
  type WorldOptions,
  type WorldParamName,
  type WorldParams,
} from "../../src/generator/worlds.js";
import { memorySink } from "./support.js";
import { type IngestedWorld, ingestWorld } from "./world-ingestion.js";

const NAMES = Object.keys(WORLD_PARAM_RANGES) as WorldParamName[];
const HOUR = 3_600_000;
const SESSION_GAP = 30 * 60_000;

/** Worlds shared by several tests, generated and staged once each. */
const cache = new Map<string, Promise<IngestedWorld>>();
function world(options: WorldOptions): Promise<IngestedWorld> {
  const key = JSON.stringify(options);
  let w = cache.get(key);
  if (w === undefined) {
    w = ingestWorld(options);
    cache.set(key, w);
  }
  return w;
}

/** Per reader, their treino interactions in time order. */
function byReader(interactions: readonly InteractionRecord[]): Map<string, InteractionRecord[]> {
  const out = new Map<string, InteractionRecord[]>();
  for (const i of interactions) {
    const list = out.get(i.userId) ?? [];
    list.push(i);
    out.set(i.userId, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.timestamp - b.timestamp);
  return out;
}

/** Consecutive reads of a reader less than the session gap apart. */
function sessionPairs(w: IngestedWorld): [string, string][] {
  const pairs: [string, string][] = [];
  for (const reads of byReader(w.interactions).values())
    for (let k = 1; k < reads.length; k++) {
      const a = reads[k - 1] as InteractionRecord;
      const b = reads[k] as InteractionRecord;
      if (b.timestamp - a.timestamp < SESSION_GAP && a.page !== b.page) pairs.push([a.page, b.page]);
    }
  return pairs;
}

const DAY = 86_400_000;

/**
 * How much more often two reads of one reader on different days share a section than two reads of
 * anyone on those same days (1 = readers read like everyone else; the baseline is per pair of days
 * because the mix of fresh articles changes from day to day).
 */
function sectionConcentration(w: IngestedWorld): number {
  const sectionOf = (page: string) => w.articles.get(page)?.section as string;
  const perDay = new Map<number, Map<string, number>>();
  const dayTotal = new Map<number, number>();
  for (const i of w.interactions) {
    const day = Math.floor(i.timestamp / DAY);
    const counts = perDay.get(day) ?? new Map<string, number>();
    counts.set(sectionOf(i.page), (counts.get(sectionOf(i.page)) ?? 0) + 1);
    perDay.set(day, counts);
    dayTotal.set(day, (dayTotal.get(day) ?? 0) + 1);
  }
  const chanceOf = (a: number, b: number) => {
    let c = 0;
    const nb = perDay.get(b) as Map<string, number>;
    for (const [section, n] of perDay.get(a) as Map<string, number>)
      c += (n / (dayTotal.get(a) as number)) * ((nb.get(section) ?? 0) / (dayTotal.get(b) as number));
    return c;
  };
  let same = 0;
  let chance = 0;
  for (const reads of byReader(w.interactions).values()) {
    const sample = reads.slice(0, 40);
    for (let x = 0; x < sample.length; x++)
      for (let y = x + 1; y < sample.length; y++) {
        const a = sample[x] as InteractionRecord;
        const b = sample[y] as InteractionRecord;
        const da = Math.floor(a.timestamp / DAY);
        const db = Math.floor(b.timestamp / DAY);
        if (da === db) continue;
        chance += chanceOf(da, db);
        if (sectionOf(a.page) === sectionOf(b.page)) same++;
      }
  }
  return same / chance;
}

const countingSink = (): { sink: OutputSink; bytes: () => number } => {
  let bytes = 0;
  const write = (text: string) => {
    bytes += text.length;
  };
  return { bytes: () => bytes, sink: { open: () => ({ write, close: () => undefined }) } };
};

describe("world params", () => {
  it("are a pure function of the seed", () => {
    expect(drawWorldParams("a")).toEqual(drawWorldParams("a"));
    expect(drawWorldParams("b")).toEqual(drawWorldParams("b"));
    expect(drawWorldParams("a")).not.toEqual(drawWorldParams("b"));
  });

  it("stay inside their documented ranges and cover them, seed after seed", () => {
    const draws = Array.from({ length: 400 }, (_, k) => drawWorldParams(`seed-${k}`));
    expect(new Set(draws.map((p) => JSON.stringify(p))).size).toBe(draws.length);
    for (const name of NAMES) {
      const range: ParamRange = WORLD_PARAM_RANGES[name];
      const values = draws.map((p) => Number(p[name]));
      expect(Object.keys(draws[0] as WorldParams)).toContain(name);
      for (const v of values) {
        expect(v).toBeGreaterThanOrEqual(range.min);
        expect(v).toBeLessThanOrEqual(range.max);
      }
      // Both ends of every range are reached (within a tenth of the range, or a factor for log scales).
      const lowest = Math.min(...values);
      const highest = Math.max(...values);
      if (range.distribution === "log-uniform") {
        expect(lowest / range.min).toBeLessThan((range.max / range.min) ** 0.1);
        expect(range.max / highest).toBeLessThan((range.max / range.min) ** 0.1);
      } else {
        expect(lowest - range.min).toBeLessThanOrEqual((range.max - range.min) * 0.1);
        expect(range.max - highest).toBeLessThanOrEqual((range.max - range.min) * 0.1);
      }
    }
    const noAffinity = draws.filter((p) => p.affinity === 0).length / draws.length;
    expect(noAffinity).toBeGreaterThan(0.18);
    expect(noAffinity).toBeLessThan(0.32);
    const rereading = draws.filter((p) => p.rereading).length / draws.length;
    expect(rereading).toBeGreaterThan(0.42);
    expect(rereading).toBeLessThan(0.58);
    expect(draws.every((p) => typeof p.rereading === "boolean")).toBe(true);
  });

  it("take overrides inside the ranges and reject any outside, naming them", () => {
    expect(resolveWorldParams("a", { affinity: 0, rereading: false })).toEqual({
      ...drawWorldParams("a"),
      affinity: 0,
      rereading: false,
    });
    expect(() => resolveWorldParams("a", { halfLifeHours: 0.5, affinity: 2 })).toThrow(
      /halfLifeHours must be a number in \[1, 24\].*affinity must be a number in \[0, 1\]/,
    );
    expect(() => resolveWorldParams("a", { unknown: 1 } as Partial<WorldParams>)).toThrow(
      "unknown is not a world parameter",
    );
    expect(() =>
      generateWorld({ users: 10, days: 1, seed: "a", params: { trendShare: -1 } }, memorySink().sink),
    ).toThrow(RangeError);
  });

  it("are the ones docs/quality.md lists under 'The worlds'", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/quality.md"), "utf8");
    const section = doc.split(/^## /m).find((s) => s.startsWith("The worlds"));
    expect(section).toBeDefined();
    const rows = new Map<string, string[]>();
    for (const line of (section as string).split("\n")) {
      const m = /^\| `(\w+)` \|(.*)\|$/.exec(line);
      if (m)
        rows.set(
          m[1] as string,
          (m[2] as string).split("|").map((c) => c.trim()),
        );
    }
    expect([...rows.keys()]).toEqual(NAMES);
    const distribution = (r: ParamRange) =>
      r.distribution === "zero-or-uniform"
        ? `0 with probability ${r.zeroProbability}, else uniform`
        : r.distribution === "coin"
          ? "on (1) or off (0), probability 0.5 each"
          : r.distribution;
    for (const name of NAMES) {
      const range: ParamRange = WORLD_PARAM_RANGES[name];
      const [cells, dist] = rows.get(name) as string[];
      expect({ name, range: cells, distribution: dist }).toEqual({
        name,
        range: `${range.min} – ${range.max}`,
        distribution: distribution(range),
      });
    }
  });
});

describe("generateWorld", () => {
  it("is deterministic: same seed, same bytes and params; another seed, other params and bytes", () => {
    const a = memorySink();
    const b = memorySink();
    const c = memorySink();
    const ea = generateWorld({ users: 400, days: 2, seed: "same" }, a.sink);
    const eb = generateWorld({ users: 400, days: 2, seed: "same" }, b.sink);
    const ec = generateWorld({ users: 400, days: 2, seed: "other" }, c.sink);
    expect([...a.files.entries()]).toEqual([...b.files.entries()]);
    expect(ea).toEqual(eb);
    expect(ea.params).toEqual(drawWorldParams("same"));
    expect(ec.params).toEqual(drawWorldParams("other"));
    expect(ec.params).not.toEqual(ea.params);
    expect(c.files.get("treino/treino-2022-07-01.csv")).not.toEqual(
      a.files.get("treino/treino-2022-07-01.csv"),
    );
    // Turnover follows the params: articles per hour scaled to the readers, over 4 + 2 + 2 days.
    const hours = (4 + 2 + 2) * 24 - 1;
    expect(ea.totals.items).toBe(
      Math.max(100, Math.round(((ea.params.articlesPerHourPer20kReaders * 400) / 20_000) * hours)),
    );
  }, 120_000);

  it("tells its hidden state (articles, bursts, every reader's preferences) without changing the world's files", () => {
    const plain = memorySink();
    const observed = memorySink();
    const worlds: HiddenWorld[] = [];
    const readers: HiddenPreferences[] = [];
    generateWorld({ users: 300, days: 2, seed: "hidden" }, plain.sink);
    const expected = generateWorld(
      {
        users: 300,
        days: 2,
        seed: "hidden",
        onHidden: { world: (w) => worlds.push(w), reader: (r) => readers.push(r) },
      },
      observed.sink,
    );
    expect([...observed.files.entries()]).toEqual([...plain.files.entries()]);
    expect(worlds).toHaveLength(1);
    const hidden = worlds[0] as HiddenWorld;
    expect(hidden.params).toEqual(expected.params);
    expect(hidden.pages).toHaveLength(expected.totals.items);
    expect(hidden.burstArticle).toHaveLength(expected.world.bursts);
    // Every itens page is a hidden article; issue times are sorted.
    const itens = [...plain.files]
      .filter(([path]) => path.startsWith("itens/"))
      .map(([, text]) => text)
      .join("");
    expect(hidden.pages.every((page) => itens.includes(page))).toBe(true);
    expect(hidden.issued.every((t, i) => i === 0 || t >= (hidden.issued[i - 1] as number))).toBe(true);
    // Treino readers and validation-only readers: each validacao reader's preferences were told.
    expect(readers).toHaveLength(300 + expected.world.validationOnlyReaders);
    const told = new Set(readers.map((r) => r.userId));
    const validacao = (plain.files.get("validacao.csv") as string).split("\n").slice(1);
    const userIds = validacao
      .map((line) => line.split(",")[0] as string)
      .filter((id) => /^[0-9a-f]{64}$/.test(id));
    expect(userIds.length).toBeGreaterThan(0);
    expect(userIds.every((id) => told.has(id))).toBe(true);
    for (const r of readers) {
      expect(r.affinity).toBeGreaterThanOrEqual(0);
      expect(r.affinity).toBeLessThanOrEqual(1);
      expect(r.sectionPools.length).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);

  it("writes files the engine's ingestion accepts whole, with the counts of expected.json", async () => {
    const w = await world({ users: 1_500, days: 3, seed: "ingest" });
    expect([...w.files.keys()].filter((p) => p.startsWith("treino/")).sort()).toEqual([
      "treino/treino-2022-07-01.csv",
      "treino/treino-2022-07-02.csv",
      "treino/treino-2022-07-03.csv",
    ]);
    for (const f of w.expected.files) {
      const s = w.staged.get(f.path) as Staged;
      const records =
        s.kind === "treino"
          ? s.interactions.length
          : s.kind === "validacao"
            ? s.validation.length
            : s.articles.length;
      expect({ path: f.path, kind: s.kind, ...s.counts, records }).toEqual({
        path: f.path,
        kind: f.kind,
        rowsIn: f.rowsIn,
        rowsAccepted: f.rowsAccepted,
        rowsQuarantined: 0,
        elementsDropped: f.elementsDropped,
        // Every dropped element of a generated file is an editorial id.
        elementsDroppedByReason: { EDITORIAL_ID: f.elementsDropped },
        records: f.records,
      });
    }
    expect(w.expected.totals.rowsQuarantined).toBe(0);
    expect(w.interactions.length).toBe(w.expected.totals.interactions);
    expect(w.validation.length).toBe(w.expected.totals.validationAccesses);
    expect(w.articles.size).toBe(w.expected.totals.items);
    const perUser: Record<string, number> = {};
    for (const i of w.interactions) perUser[i.userId] = (perUser[i.userId] ?? 0) + 1;
    expect(perUser).toEqual(w.expected.perUser);
    // Every read is of an article that exists and was issued before it; validacao comes after treino.
    const late = [...w.interactions, ...w.validation].filter(
      (i) => (w.articles.get(i.page)?.issued ?? Number.POSITIVE_INFINITY) > i.timestamp,
    );
    expect(late).toEqual([]);
    const lastTreino = Math.max(...w.interactions.map((i) => i.timestamp));
    expect(Math.min(...w.validation.map((v) => v.timestamp))).toBeGreaterThan(lastTreino);
  }, 120_000);

  it("quarantines exactly the malformed rows it says it wrote", async () => {
    const w = await world({ users: 300, days: 2, seed: "bad", malformed: true });
    const quarantined = [...w.staged.values()].reduce((s, st) => s + st.counts.rowsQuarantined, 0);
    expect(quarantined).toBe(w.expected.totals.rowsQuarantined);
    expect(quarantined).toBe(12 + 6 + 9);
    for (const f of w.expected.files)
      expect(
        Object.fromEntries(Object.entries(w.staged.get(f.path)?.byReason ?? {}).filter(([, n]) => n > 0)),
      ).toEqual(f.byReason);
  }, 120_000);

  it("has as many validation-only readers as the drawn share says", async () => {
    for (const seed of ["share-1", "share-2"]) {
      const w = await world({ users: 3_000, days: 2, seed });
      const treinoReaders = new Set(w.interactions.map((i) => i.userId));
      const validationReaders = new Set(w.validation.map((v) => v.userId));
      const newReaders = [...validationReaders].filter((u) => !treinoReaders.has(u)).length;
      expect(newReaders).toBe(w.expected.world.validationOnlyReaders);
      expect(
        Math.abs(newReaders / validationReaders.size - w.expected.params.validationOnlyShare),
      ).toBeLessThan(0.02);
    }
  }, 120_000);

  it("with re-reading off, never repeats a reader's read; with it on, repeats some in treino and validacao", async () => {
    const off = await world({ users: 2_000, days: 3, seed: "reread", params: { rereading: false } });
    const on = await world({
      users: 2_000,
      days: 3,
      seed: "reread",
      params: { rereading: true, rereadShare: 0.2 },
    });
    const repeats = (w: IngestedWorld) => {
      const treino = new Set(w.interactions.map((i) => `${i.userId} ${i.page}`));
      return {
        treinoEntries: w.interactions.length - treino.size,
        revisits: w.interactions.filter((i) => i.pageVisits > 1).length,
        validacao: w.validation.filter((v) => treino.has(`${v.userId} ${v.page}`)).length,
      };
    };
    expect(repeats(off)).toEqual({ treinoEntries: 0, revisits: 0, validacao: 0 });
    const r = repeats(on);
    expect(r.treinoEntries).toBeGreaterThan(0);
    expect(r.revisits).toBeGreaterThan(0);
    expect(r.validacao).toBe(on.expected.world.validationRereads);
    expect(r.validacao / on.validation.length).toBeGreaterThan(0.05);
  }, 120_000);

  it("with affinity 0, a reader's reads follow the global section mix; with strong affinity they concentrate", async () => {
    // Sessions and trends off, so that only affinity can tie a reader's reads together.
    const base = {
      sessionCoherence: 0.05,
      trendShare: 0,
      affinitySpread: 0,
      rereading: false,
      regionWeight: 0.5,
    };
    const options = { users: 2_000, days: 4, seed: "affinity", items: 3_000 };
    const none = await world({ ...options, params: { ...base, affinity: 0 } });
    const strong = await world({ ...options, params: { ...base, affinity: 1 } });
    expect(none.expected.world.reads.affine).toBe(0);
    const n = sectionConcentration(none);
    expect(n).toBeGreaterThan(0.9);
    expect(n).toBeLessThan(1.1);
    expect(sectionConcentration(strong)).toBeGreaterThan(3);
  }, 120_000);

  it("sends more reads to articles under 6 h old when the half-life is short", async () => {
    const share = (w: IngestedWorld) =>
      w.interactions.filter((i) => i.timestamp - (w.articles.get(i.page)?.issued ?? 0) < 6 * HOUR).length /
      w.interactions.length;
    const base = { trendShare: 0, sessionCoherence: 0.05, rereading: false };
    const options = { users: 1_500, days: 3, seed: "decay", items: 3_000 };
    const short = share(await world({ ...options, params: { ...base, halfLifeHours: 1 } }));
    const long = share(await world({ ...options, params: { ...base, halfLifeHours: 24 } }));
    expect(short).toBeGreaterThan(0.85);
    expect(long).toBeLessThan(0.35);
  }, 120_000);

  it("keeps a session on one story when coherence is high: consecutive reads are similar in content", async () => {
    const mean = (w: IngestedWorld) => {
      const pairs = sessionPairs(w);
      const vector = (page: string) => (w.articles.get(page) as { vector: SparseVector }).vector;
      const sims = pairs.map(([a, b]) => cosineSimilarity(vector(a), vector(b)));
      return sims.reduce((s, x) => s + x, 0) / sims.length;
    };
    const base = { storyWordShare: 0.5, storySize: 8, meanSessionReads: 3, trendShare: 0, rereading: false };
    const options = { users: 1_500, days: 3, seed: "story", items: 3_000 };
    const loose = await world({ ...options, params: { ...base, sessionCoherence: 0.05 } });
    const tight = await world({ ...options, params: { ...base, sessionCoherence: 0.9 } });
    expect(mean(tight)).toBeGreaterThan(mean(loose) + 0.15);
  }, 120_000);

  it("has the drawn share of one-visit readers and longer histories when the log-normal says so", async () => {
    const w = await world({
      users: 3_000,
      days: 3,
      seed: "visits",
      params: { historyMedian: 1.5, historySigma: 1.4 },
    });
    const long = await world({
      users: 3_000,
      days: 3,
      seed: "visits",
      params: { historyMedian: 3, historySigma: 2.3 },
    });
    const oneVisit = [...byReader(w.interactions).values()].filter((reads) =>
      reads.every(
        (r, k) => k === 0 || r.timestamp - (reads[k - 1] as InteractionRecord).timestamp < SESSION_GAP,
      ),
    ).length;
    expect(Math.abs(oneVisit / byReader(w.interactions).size - w.expected.params.oneVisitShare)).toBeLessThan(
      0.04,
    );
    expect(long.expected.stats.historySize.mean).toBeGreaterThan(2 * w.expected.stats.historySize.mean);
  }, 120_000);

  it("generates 20,000 readers × 7 days in well under a minute", () => {
    const { sink, bytes } = countingSink();
    const started = Date.now();
    const expected = generateWorld({ users: 20_000, days: 7, seed: "speed" }, sink);
    const seconds = (Date.now() - started) / 1000;
    expect(expected.totals.users).toBe(20_000);
    expect(bytes()).toBeGreaterThan(1_000_000);
    expect(seconds).toBeLessThan(30);
  }, 120_000);
});
