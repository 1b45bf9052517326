import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QUARANTINE_REASONS, type RawFileKind } from "@gplay/common";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { checkFolder } from "../../src/conformance/check.js";
import { categoriseUrl } from "../../src/domain/article.js";
import type { CleanCounts, RowOutcome } from "../../src/domain/clean.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import type { ExpectedAggregates } from "../../src/generator/generate.js";
import { generateInMemory } from "./support.js";

interface Parsed {
  kind: RawFileKind;
  counts: CleanCounts;
  outcomes: RowOutcome[];
}

async function parse(text: string, key: string): Promise<Parsed> {
  const file = await cleanRawFile([text], key);
  const outcomes: RowOutcome[] = [];
  for await (const batch of file.batches) outcomes.push(...batch);
  return { kind: file.kind, counts: file.counts, outcomes };
}

async function parseAll(files: Map<string, string>): Promise<Map<string, Parsed>> {
  const out = new Map<string, Parsed>();
  for (const [path, text] of files) out.set(path, await parse(text, path));
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

describe("generated sample vs the published G1 statistics", () => {
  let expected: ExpectedAggregates;
  let files: Map<string, string>;
  let parsed: Map<string, Parsed>;
  const treino = () => [...parsed.values()].filter((p) => p.kind === "treino");

  beforeAll(async () => {
    ({ expected, files } = generateInMemory({ users: 6_000, seed: "stats", days: 3 }));
    parsed = await parseAll(files);
  }, 60_000);

  it("writes one treino file per day, itens files and validacao.csv, every row accepted", () => {
    expect([...files.keys()].filter((p) => p.startsWith("treino/")).sort()).toEqual([
      "treino/treino-2022-07-01.csv",
      "treino/treino-2022-07-02.csv",
      "treino/treino-2022-07-03.csv",
    ]);
    expect(files.has("validacao.csv")).toBe(true);
    expect([...files.keys()].some((p) => p.startsWith("itens/"))).toBe(true);
    for (const p of parsed.values()) expect(p.counts.rowsQuarantined).toBe(0);
  });

  it("has about 21% Logged readers", () => {
    const types = new Map<string, string>();
    for (const p of treino())
      for (const o of p.outcomes) if (o.kind === "treino") types.set(o.user.userId, o.user.userType);
    const logged = [...types.values()].filter((t) => t === "Logged").length / types.size;
    expect(logged).toBeGreaterThan(0.19);
    expect(logged).toBeLessThan(0.23);
  });

  it("has a heavy-tailed history size: median 2, mean ~14, a max hundreds of times the median", () => {
    const sizes = new Map<string, number>();
    for (const p of treino())
      for (const o of p.outcomes)
        if (o.kind === "treino")
          sizes.set(o.user.userId, (sizes.get(o.user.userId) ?? 0) + o.row.historySize + o.elementsDropped);
    const values = [...sizes.values()];
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(median(values)).toBe(2);
    expect(mean).toBeGreaterThan(10);
    expect(mean).toBeLessThan(18);
    expect(Math.max(...values)).toBeGreaterThan(500);
    expect(expected.stats.historySize.median).toBe(2);
  });

  it("has time on page of at least 5,000 ms with a median near 60,000 ms, and scroll median ~43 with outliers above 100", () => {
    const times: number[] = [];
    const scrolls: number[] = [];
    for (const p of treino())
      for (const o of p.outcomes)
        if (o.kind === "treino")
          for (const i of o.interactions) {
            times.push(i.timeOnPageMs);
            scrolls.push(i.scrollPercentage);
          }
    expect(times.reduce((m, t) => Math.min(m, t), Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(5_000);
    expect(median(times)).toBeGreaterThan(55_000);
    expect(median(times)).toBeLessThan(65_000);
    expect(median(scrolls)).toBeGreaterThan(38);
    expect(median(scrolls)).toBeLessThan(48);
    expect(scrolls.filter((s) => s > 100).length).toBeGreaterThan(0);
    expect(scrolls.reduce((m, t) => Math.max(m, t), 0)).toBeGreaterThan(300);
  });

  it("has ~98% of URLs in the noticia pattern and multi-line bodies with quotes", () => {
    const articles = [...parsed.values()]
      .filter((p) => p.kind === "itens")
      .flatMap((p) => p.outcomes.flatMap((o) => (o.kind === "itens" ? [o.row] : [])));
    expect(articles.length).toBe(expected.totals.items);
    const noticia = articles.filter((a) =>
      /^http:\/\/g1\.globo\.com\/.+\/noticia\/\d{4}\/\d{2}\/\d{2}\/[^/]+\.ghtml$/.test(a.url),
    );
    expect(noticia.length / articles.length).toBeGreaterThan(0.97);
    expect(noticia.length / articles.length).toBeLessThan(0.995);
    const regional = articles.filter((a) =>
      /^http:\/\/g1\.globo\.com\/[a-z]{2}\/[a-z-]+\/noticia\//.test(a.url),
    );
    expect(regional.length / articles.length).toBeGreaterThan(0.4);
    expect(articles.filter((a) => a.body.includes("\n")).length / articles.length).toBeGreaterThan(0.95);
    expect(articles.some((a) => a.body.includes('"'))).toBe(true);
    expect(new Set(articles.map((a) => a.page)).size).toBe(articles.length);
  });

  it("has validation accesses after the training period, at most 5 per reader, mostly to fresh articles", () => {
    const training = treino().flatMap((p) =>
      p.outcomes.flatMap((o) => (o.kind === "treino" ? o.interactions : [])),
    );
    const newestTraining = training.reduce((m, i) => Math.max(m, i.timestamp), 0);
    const validation = parsed.get("validacao.csv") as Parsed;
    const rows = validation.outcomes.flatMap((o) => (o.kind === "validacao" ? [o] : []));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.accesses.length).toBeLessThanOrEqual(5);
      for (const a of r.accesses) expect(a.timestamp).toBeGreaterThan(newestTraining);
    }
    expect(Math.min(...rows.map((r) => r.accesses[0]?.timestamp ?? 0))).toBeGreaterThanOrEqual(
      expected.period.trainEnd,
    );
    expect(expected.stats.validationFreshShare).toBeGreaterThan(0.5);
  });

  it("has editorial esid ids in some histories", () => {
    const dropped = treino().reduce((s, p) => s + p.counts.elementsDropped, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBe(expected.totals.elementsDropped);
  });

  it("matches its expected.json: per-file counts, per-user interactions, items per section/region/type", () => {
    for (const f of expected.files) {
      const p = parsed.get(f.path) as Parsed;
      expect({
        path: f.path,
        kind: p.kind,
        rowsIn: p.counts.rowsIn,
        accepted: p.counts.rowsAccepted,
        records: p.counts.records,
        dropped: p.counts.elementsDropped,
      }).toEqual({
        path: f.path,
        kind: f.kind,
        rowsIn: f.rowsIn,
        accepted: f.rowsAccepted,
        records: f.records,
        dropped: f.elementsDropped,
      });
    }
    const perUser: Record<string, number> = {};
    for (const p of treino())
      for (const o of p.outcomes)
        if (o.kind === "treino" && o.interactions.length > 0)
          perUser[o.user.userId] = (perUser[o.user.userId] ?? 0) + o.interactions.length;
    expect(perUser).toEqual(expected.perUser);
    expect(Object.values(perUser).reduce((s, n) => s + n, 0)).toBe(expected.totals.interactions);
    const bySection: Record<string, number> = {};
    const byRegion: Record<string, number> = {};
    const byType: Record<string, number> = {};
    for (const p of parsed.values())
      for (const o of p.outcomes)
        if (o.kind === "itens") {
          const c = categoriseUrl(o.row.url);
          bySection[c.section] = (bySection[c.section] ?? 0) + 1;
          byRegion[c.region] = (byRegion[c.region] ?? 0) + 1;
          byType[c.contentType] = (byType[c.contentType] ?? 0) + 1;
        }
    expect(bySection).toEqual(expected.itemsBySection);
    expect(byRegion).toEqual(expected.itemsByRegion);
    expect(byType).toEqual(expected.itemsByContentType);
  });

  it("only references articles that exist and were issued before the read", () => {
    const issued = new Map<string, number>();
    for (const p of parsed.values())
      for (const o of p.outcomes) if (o.kind === "itens") issued.set(o.row.page, o.row.issued);
    const bad: string[] = [];
    let checked = 0;
    for (const p of treino())
      for (const o of p.outcomes)
        if (o.kind === "treino")
          for (const i of o.interactions) {
            checked++;
            const at = issued.get(i.page);
            if (at === undefined || at > i.timestamp) bad.push(i.page);
          }
    expect(checked).toBe(expected.totals.interactions);
    expect(bad).toEqual([]);
  });
});

describe("generator", () => {
  it("is deterministic: same seed, same bytes; another seed, other bytes", () => {
    const a = generateInMemory({ users: 300, seed: "same", days: 2 });
    const b = generateInMemory({ users: 300, seed: "same", days: 2 });
    const c = generateInMemory({ users: 300, seed: "other", days: 2 });
    expect([...a.files.entries()]).toEqual([...b.files.entries()]);
    expect(a.expected).toEqual(b.expected);
    expect(a.files.get("treino/treino-2022-07-01.csv")).not.toEqual(
      c.files.get("treino/treino-2022-07-01.csv"),
    );
  });

  it("writes one malformed row per applicable quarantine reason, with known counts", async () => {
    const { expected, files } = generateInMemory({ users: 400, seed: "bad", days: 2, malformed: true });
    const parsed = await parseAll(files);
    const applicable: Record<RawFileKind, string[]> = {
      treino: QUARANTINE_REASONS.filter((r) => r !== "BAD_URL" && r !== "BAD_DATE" && r !== "BAD_VALUE"),
      itens: ["WRONG_FIELD_COUNT", "MISSING_FIELD", "BAD_UUID", "BAD_URL", "BAD_DATE", "DUPLICATE_ROW"],
      validacao: [
        "WRONG_FIELD_COUNT",
        "MISSING_FIELD",
        "BAD_USER_ID",
        "UNKNOWN_USER_TYPE",
        "BAD_UUID",
        "BAD_TIMESTAMP",
        "LIST_LENGTH_MISMATCH",
        "EMPTY_HISTORY",
        "DUPLICATE_ROW",
      ],
      impressions: [], // the generator writes no impression logs (the api does)
    };
    const firstOfKind = new Set<string>();
    for (const f of expected.files) {
      const p = parsed.get(f.path) as Parsed;
      const actual = Object.fromEntries(Object.entries(p.counts.byReason).filter(([, n]) => n > 0));
      expect(actual).toEqual(f.byReason);
      expect(p.counts.rowsQuarantined).toBe(f.rowsQuarantined);
      expect(p.counts.rowsIn).toBe(p.counts.rowsAccepted + p.counts.rowsQuarantined);
      if (f.rowsQuarantined > 0 && !firstOfKind.has(f.kind)) {
        firstOfKind.add(f.kind);
        expect(Object.keys(actual).sort()).toEqual([...applicable[f.kind]].sort());
        expect(Object.values(actual).every((n) => n === 1)).toBe(true);
      }
    }
    expect([...firstOfKind].sort()).toEqual(["itens", "treino", "validacao"]);
    const quarantined = [...parsed.values()].reduce((s, p) => s + p.counts.rowsQuarantined, 0);
    expect(quarantined).toBe(expected.totals.rowsQuarantined);
    expect(quarantined).toBe(12 + 6 + 9);
  });

  it("writes files that pass the conformance check (accepted, round-tripped, byte-identical)", async () => {
    const { files } = generateInMemory({ users: 200, seed: "conf", days: 1 });
    const dir = mkdtempSync(join(tmpdir(), "g1-conformance-"));
    try {
      writeFileSync(join(dir, "treino-sample.csv"), files.get("treino/treino-2022-07-01.csv") as string);
      writeFileSync(join(dir, "validacao-sample.csv"), files.get("validacao.csv") as string);
      writeFileSync(join(dir, "itens-sample.csv"), files.get("itens/itens-2022-07-01.csv") as string);
      const results = await checkFolder(dir);
      expect(results.map((r) => [r.file, r.failures])).toEqual([
        ["itens-sample.csv", []],
        ["treino-sample.csv", []],
        ["validacao-sample.csv", []],
      ]);
      expect(
        results.every(
          (r) => r.rows > 0 && r.roundTripped + r.withDroppedElements === r.rows && r.bytesIdentical,
        ),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
