import { QUARANTINE_REASONS, RAW_HEADERS } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import {
  RowCleaner,
  type RowOutcome,
  toIngestionCounts,
  toUserInteractions,
} from "../../src/domain/clean.js";
import { formatCsvRecord } from "../../src/domain/csv.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import { formatItensFields, formatTreinoFields, formatValidacaoFields } from "../../src/domain/raw-format.js";
import { Rng } from "../../src/generator/rng.js";

const rng = new Rng("clean-tests");
const USER = rng.hex(64);
const P1 = rng.uuid();
const P2 = rng.uuid();
const T = 1_657_146_417_045;
const ESID = "esid:conteudo_editorial_g1#materia#https://g1.globo.com/economia/noticia/2022/07/05/x.ghtml";

function treino(overrides: Partial<Record<number, string>> = {}): string[] {
  const fields = formatTreinoFields({
    userId: USER,
    userType: "Non-Logged",
    history: [P1, P2],
    timestampHistory: [T, T + 60_000],
    numberOfClicksHistory: [3, 1],
    timeOnPageHistory: [20_380, 60_000],
    scrollPercentageHistory: [50.3, 18.18],
    pageVisitsCountHistory: [2, 1],
    timestampHistory_new: [T, T + 60_000],
  });
  for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v as string;
  return fields;
}

const clean = (kind: "treino" | "itens" | "validacao", fields: string[]) =>
  new RowCleaner(kind, "raw/test.csv").clean({ fields, line: 7 });

function reasonOf(outcome: RowOutcome): string {
  return outcome.kind === "quarantine" ? outcome.record.reason : "ACCEPTED";
}

describe("treino rows", () => {
  it("accepts a well-formed row as typed interactions of its reader", () => {
    const outcome = clean("treino", treino());
    expect(outcome.kind).toBe("treino");
    if (outcome.kind !== "treino") return;
    expect(outcome.user).toEqual({ userId: USER, userType: "Non-Logged" });
    expect(outcome.interactions).toEqual([
      { page: P1, timestamp: T, clicks: 3, timeOnPageMs: 20_380, scrollPercentage: 50.3, pageVisits: 2 },
      {
        page: P2,
        timestamp: T + 60_000,
        clicks: 1,
        timeOnPageMs: 60_000,
        scrollPercentage: 18.18,
        pageVisits: 1,
      },
    ]);
    expect(outcome.line).toBe(7);
  });

  it.each([
    ["WRONG_FIELD_COUNT", treino().slice(0, 9)],
    ["MISSING_FIELD", treino({ 1: "" })],
    ["MISSING_FIELD", treino({ 5: "" })],
    ["BAD_USER_ID", treino({ 0: "ABC" })],
    ["UNKNOWN_USER_TYPE", treino({ 1: "Guest" })],
    ["BAD_UUID", treino({ 3: `${P1}, not-a-uuid` })],
    ["BAD_UUID", treino({ 3: `${P1}, ${P2.toUpperCase()}` })],
    ["BAD_TIMESTAMP", treino({ 4: `${T}, 2022-07-01` })],
    ["BAD_TIMESTAMP", treino({ 4: `${T}, 12` })],
    ["BAD_TIMESTAMP", treino({ 9: `${T}, x` })],
    ["BAD_NUMBER", treino({ 5: "1, many" })],
    ["BAD_NUMBER", treino({ 7: "50.3, nan" })],
    ["BAD_NUMBER", treino({ 2: "two" })],
    ["NEGATIVE_VALUE", treino({ 6: "20380, -5000" })],
    ["NEGATIVE_VALUE", treino({ 7: "-1.5, 3.0" })],
    ["NEGATIVE_VALUE", treino({ 2: "-2" })],
    ["LIST_LENGTH_MISMATCH", treino({ 5: "1" })],
    ["LIST_LENGTH_MISMATCH", treino({ 9: `${T}` })],
    ["HISTORY_SIZE_MISMATCH", treino({ 2: "5" })],
    ["EMPTY_HISTORY", [USER, "Logged", "0", "", "", "", "", "", "", ""]],
  ])("quarantines %s: %j", (reason, fields) => {
    const outcome = clean("treino", fields);
    expect(reasonOf(outcome)).toBe(reason);
    if (outcome.kind === "quarantine") {
      expect(outcome.record.line).toBe(7);
      expect(outcome.record.fields).toEqual(fields);
      expect(outcome.record.detail.length).toBeGreaterThan(0);
    }
  });

  it("drops editorial esid ids with their aligned values, not the row", () => {
    const fields = treino({
      2: "3",
      3: `${P1}, ${ESID}, ${P2}`,
      4: `${T}, ${T + 1}, ${T + 60_000}`,
      5: "3, 99, 1",
      6: "20380, 1, 60000",
      7: "50.3, 1.0, 18.18",
      8: "2, 1, 1",
      9: `${T}, ${T + 1}, ${T + 60_000}`,
    });
    const cleaner = new RowCleaner("treino", "k");
    const outcome = cleaner.clean({ fields, line: 2 });
    expect(outcome.kind).toBe("treino");
    if (outcome.kind !== "treino") return;
    expect(outcome.elementsDropped).toBe(1);
    expect(outcome.interactions.map((i) => [i.page, i.clicks])).toEqual([
      [P1, 3],
      [P2, 1],
    ]);
    expect(outcome.row.historySize).toBe(2);
    expect(cleaner.counts.elementsDropped).toBe(1);
    // Every dropped element is counted under its reason, and the reasons add up to the total.
    expect(cleaner.counts.droppedByReason).toEqual({ EDITORIAL_ID: 1 });
    expect(toIngestionCounts(cleaner.counts).elementsDroppedByReason).toEqual({ EDITORIAL_ID: 1 });
  });

  it("counts the editorial ids dropped from validacao rows under their reason too", () => {
    const cleaner = new RowCleaner("validacao", "k");
    const fields = formatValidacaoFields({
      userId: USER,
      userType: "Logged",
      history: [P1, ESID, ESID],
      timestampHistory: [T, T + 1, T + 2],
    });
    expect(cleaner.clean({ fields, line: 2 }).kind).toBe("validacao");
    expect(cleaner.counts).toMatchObject({ elementsDropped: 2, droppedByReason: { EDITORIAL_ID: 2 } });
  });

  it("accepts a row of editorial ids only, with no interactions and every element dropped", () => {
    const outcome = clean(
      "treino",
      treino({ 2: "1", 3: ESID, 4: `${T}`, 5: "1", 6: "5000", 7: "1.0", 8: "1", 9: `${T}` }),
    );
    expect(
      outcome.kind === "treino" && outcome.interactions.length === 0 && outcome.elementsDropped === 1,
    ).toBe(true);
  });

  it("keeps outliers raw: scroll far above 100 and thousands of clicks", () => {
    const outcome = clean("treino", treino({ 5: "14600, 1", 7: "2734.12, 18.18" }));
    expect(outcome.kind).toBe("treino");
    if (outcome.kind !== "treino") return;
    expect(outcome.interactions[0]?.clicks).toBe(14_600);
    expect(outcome.interactions[0]?.scrollPercentage).toBe(2734.12);
  });

  it("quarantines an exact repeat of an accepted row as DUPLICATE_ROW, and counts add up", () => {
    const cleaner = new RowCleaner("treino", "k");
    const rows = [treino(), treino({ 1: "Guest" }), treino(), treino({ 0: new Rng("other").hex(64) })];
    const reasons = rows.map((fields, i) => reasonOf(cleaner.clean({ fields, line: i + 2 })));
    expect(reasons).toEqual(["ACCEPTED", "UNKNOWN_USER_TYPE", "DUPLICATE_ROW", "ACCEPTED"]);
    expect(cleaner.counts).toMatchObject({ rowsIn: 4, rowsAccepted: 2, rowsQuarantined: 2, records: 4 });
    expect(cleaner.counts.byReason.DUPLICATE_ROW).toBe(1);
    expect(Object.keys(cleaner.counts.byReason).sort()).toEqual([...QUARANTINE_REASONS].sort());
  });
});

describe("validacao rows", () => {
  const good = () =>
    formatValidacaoFields({
      userId: USER,
      userType: "Logged",
      history: [P1, P2],
      timestampHistory: [T, T + 5],
    });

  it("parses numpy-printed lists, ids across lines", () => {
    const fields = good();
    expect(fields[2]).toBe(`['${P1}'\n '${P2}']`);
    expect(fields[3]).toBe(`[${T} ${T + 5}]`);
    const outcome = clean("validacao", fields);
    expect(outcome.kind).toBe("validacao");
    if (outcome.kind !== "validacao") return;
    expect(outcome.accesses).toEqual([
      { userId: USER, userType: "Logged", page: P1, timestamp: T },
      { userId: USER, userType: "Logged", page: P2, timestamp: T + 5 },
    ]);
  });

  it.each([
    ["WRONG_FIELD_COUNT", [USER, "Logged", `['${P1}']`]],
    ["MISSING_FIELD", [USER, "", `['${P1}']`, `[${T}]`]],
    ["BAD_USER_ID", ["xyz", "Logged", `['${P1}']`, `[${T}]`]],
    ["UNKNOWN_USER_TYPE", [USER, "Anonymous", `['${P1}']`, `[${T}]`]],
    ["BAD_UUID", [USER, "Logged", "['nope']", `[${T}]`]],
    ["BAD_UUID", [USER, "Logged", `${P1}`, `[${T}]`]],
    ["BAD_TIMESTAMP", [USER, "Logged", `['${P1}']`, "[16605331365xx]"]],
    ["LIST_LENGTH_MISMATCH", [USER, "Logged", `['${P1}']`, `[${T} ${T}]`]],
    ["EMPTY_HISTORY", [USER, "Logged", "[]", "[]"]],
  ])("quarantines %s: %j", (reason, fields) => {
    expect(reasonOf(clean("validacao", fields))).toBe(reason);
  });
});

describe("itens rows", () => {
  const good = (overrides: Partial<Record<number, string>> = {}) => {
    const fields = formatItensFields({
      page: P1,
      url: "http://g1.globo.com/sp/campinas-regiao/noticia/2022/08/14/um-titulo.ghtml",
      issued: Date.UTC(2022, 7, 15, 2, 57, 16),
      modified: Date.UTC(2022, 7, 15, 2, 57, 17),
      title: "Um título",
      body: 'Linha um\n"Aspas", disse.',
      caption: "",
    });
    for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v as string;
    return fields;
  };

  it("parses dates as UTC epoch ms and keeps text untouched", () => {
    expect(good()[2]).toBe("2022-08-15 02:57:16+00:00");
    const outcome = clean("itens", good());
    expect(outcome.kind === "itens" && outcome.row.issued).toBe(Date.UTC(2022, 7, 15, 2, 57, 16));
    expect(outcome.kind === "itens" && outcome.row.body).toBe('Linha um\n"Aspas", disse.');
  });

  it.each([
    ["WRONG_FIELD_COUNT", good().slice(0, 6)],
    ["MISSING_FIELD", good({ 1: "" })],
    ["BAD_UUID", good({ 0: "pagina-1" })],
    ["BAD_URL", good({ 1: "g1.globo.com/sem-protocolo" })],
    ["BAD_URL", good({ 1: "http://g1 globo.com/x" })],
    ["BAD_DATE", good({ 2: "15/08/2022 02:57" })],
    ["BAD_DATE", good({ 3: "2022-02-30 10:00:00+00:00" })],
  ])("quarantines %s: %j", (reason, fields) => {
    expect(reasonOf(clean("itens", fields))).toBe(reason);
  });
});

describe("cleanRawFile", () => {
  it("streams a whole file: every row accepted or quarantined, counts adding up", async () => {
    const header = formatCsvRecord(RAW_HEADERS.treino);
    const text = header + [treino(), treino({ 2: "9" }), treino()].map(formatCsvRecord).join("");
    const file = await cleanRawFile([text], "raw/treino.csv");
    const outcomes: RowOutcome[] = [];
    for await (const batch of file.batches) outcomes.push(...batch);
    expect(file.kind).toBe("treino");
    expect(outcomes.map(reasonOf)).toEqual(["ACCEPTED", "HISTORY_SIZE_MISMATCH", "DUPLICATE_ROW"]);
    expect(file.counts.rowsIn).toBe(file.counts.rowsAccepted + file.counts.rowsQuarantined);
    expect(outcomes.map((o) => (o.kind === "quarantine" ? o.record.line : o.line))).toEqual([2, 3, 4]);
  });
});

describe("outcome helpers", () => {
  it("turns an accepted treino row into interactions of its reader, and counts into IngestionCounts", () => {
    const cleaner = new RowCleaner("treino", "k");
    const outcome = cleaner.clean({ fields: treino(), line: 2 });
    expect(outcome.kind).toBe("treino");
    if (outcome.kind !== "treino") return;
    expect(toUserInteractions(outcome).map((i) => [i.userId, i.userType, i.page])).toEqual([
      [USER, "Non-Logged", P1],
      [USER, "Non-Logged", P2],
    ]);
    expect(toIngestionCounts(cleaner.counts, 1)).toEqual({
      rowsIn: 1,
      rowsAccepted: 1,
      rowsQuarantined: 0,
      elementsDropped: 0,
      elementsDroppedByReason: { EDITORIAL_ID: 0 },
      itemsWritten: 1,
    });
  });
});

describe("numeric list edge cases (fast scan and exact re-parse agree)", () => {
  it.each([
    ["BAD_NUMBER", { 5: "1,2" }],
    ["BAD_NUMBER", { 5: "1, 2, " }],
    ["BAD_NUMBER", { 5: " 1, 2" }],
    ["BAD_NUMBER", { 5: "1.5, 2" }],
    ["BAD_NUMBER", { 7: "50., 1.0" }],
    ["BAD_NUMBER", { 7: "5e1, 1.0" }],
    ["BAD_TIMESTAMP", { 4: `${T}.5, ${T}` }],
    ["BAD_TIMESTAMP", { 4: `${T}, 99999999999999999` }],
    ["ACCEPTED", { 5: "01, 2" }],
    ["ACCEPTED", { 7: "100, 0.5" }],
  ])("%s for %j", (reason, overrides) => {
    expect(reasonOf(clean("treino", treino(overrides)))).toBe(reason);
  });

  it("reads scroll decimals exactly as written", () => {
    const outcome = clean("treino", treino({ 7: "0.1, 16.46" }));
    expect(outcome.kind === "treino" && outcome.interactions.map((i) => i.scrollPercentage)).toEqual([
      0.1, 16.46,
    ]);
  });
});
