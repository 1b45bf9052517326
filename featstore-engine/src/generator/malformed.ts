import type { QuarantineReason } from "@gplay/common";
import { formatCsvRecord } from "../domain/csv.js";
import {
  formatFloat,
  formatNumpyNumberList,
  formatNumpyStringList,
  joinTreinoList,
} from "../domain/raw-format.js";
import type { ExpectedAggregates, FileStats } from "./output.js";
import type { Rng } from "./rng.js";

/**
 * Malformed rows: one per applicable quarantine reason, with ids of no generated reader, appended to
 * the first file of each kind when a data set is generated with `malformed`.
 */

function treinoFields(
  rng: Rng,
  start: number,
  page: string,
  overrides: Partial<
    Record<
      "userId" | "userType" | "historySize" | "history" | "ts" | "clicks" | "time" | "scroll" | "visits",
      string
    >
  >,
): string[] {
  const t = start + 3_600_000;
  const page2 = rng.uuid();
  const ts = joinTreinoList([String(t), String(t + 60_000)]);
  return [
    overrides.userId ?? rng.hex(64),
    overrides.userType ?? "Logged",
    overrides.historySize ?? "2",
    overrides.history ?? joinTreinoList([page, page2]),
    overrides.ts ?? ts,
    overrides.clicks ?? "1, 2",
    overrides.time ?? "60000, 45000",
    overrides.scroll ?? joinTreinoList([formatFloat(43.5), formatFloat(12)]),
    overrides.visits ?? "1, 1",
    overrides.ts ?? ts,
  ];
}

function writeMalformedTreino(
  file: FileStats,
  duplicateOf: string[] | undefined,
  rng: Rng,
  start: number,
  page: string,
): void {
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", treinoFields(rng, start, page, {}).slice(0, 9)],
    ["MISSING_FIELD", treinoFields(rng, start, page, { userType: "" })],
    ["BAD_USER_ID", treinoFields(rng, start, page, { userId: `user-${rng.hex(8)}` })],
    ["UNKNOWN_USER_TYPE", treinoFields(rng, start, page, { userType: "Guest" })],
    ["BAD_UUID", treinoFields(rng, start, page, { history: joinTreinoList([page, "not-a-page-id"]) })],
    [
      "BAD_TIMESTAMP",
      treinoFields(rng, start, page, { ts: joinTreinoList(["2022-07-01T10:00:00Z", String(start)]) }),
    ],
    ["BAD_NUMBER", treinoFields(rng, start, page, { clicks: "1, many" })],
    ["NEGATIVE_VALUE", treinoFields(rng, start, page, { time: "60000, -5000" })],
    ["LIST_LENGTH_MISMATCH", treinoFields(rng, start, page, { clicks: "1" })],
    ["HISTORY_SIZE_MISMATCH", treinoFields(rng, start, page, { historySize: "5" })],
    ["EMPTY_HISTORY", [rng.hex(64), "Non-Logged", "0", "", "", "", "", "", "", ""]],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
  if (duplicateOf !== undefined) file.quarantined("DUPLICATE_ROW", formatCsvRecord(duplicateOf));
}

export function writeMalformedItens(file: FileStats, duplicateOf: string[], rng: Rng): void {
  const row = (overrides: Partial<Record<0 | 1 | 2 | 3, string>>): string[] => {
    const fields = [
      rng.uuid(),
      "http://g1.globo.com/sp/sao-paulo/noticia/2022/07/01/teste.ghtml",
      "2022-07-01 10:00:00+00:00",
      "2022-07-01 10:00:00+00:00",
      "Título",
      "Corpo\nem duas linhas",
      "Legenda",
    ];
    for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v;
    return fields;
  };
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", row({}).slice(0, 6)],
    ["MISSING_FIELD", row({ 1: "" })],
    ["BAD_UUID", row({ 0: "pagina-123" })],
    ["BAD_URL", row({ 1: "g1.globo.com/sem-protocolo" })],
    ["BAD_DATE", row({ 2: "01/07/2022 10:00" })],
    ["DUPLICATE_ROW", duplicateOf],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
}

function writeMalformedValidacao(
  file: FileStats,
  duplicateOf: string[] | undefined,
  rng: Rng,
  trainEnd: number,
  page: string,
): void {
  const row = (overrides: Partial<Record<0 | 1 | 2 | 3, string>>): string[] => {
    const fields = [
      rng.hex(64),
      "Logged",
      formatNumpyStringList([page]),
      formatNumpyNumberList([trainEnd + 60_000]),
    ];
    for (const [k, v] of Object.entries(overrides)) fields[Number(k)] = v;
    return fields;
  };
  const bad: [QuarantineReason, string[]][] = [
    ["WRONG_FIELD_COUNT", row({}).slice(0, 3)],
    ["MISSING_FIELD", row({ 1: "" })],
    ["BAD_USER_ID", row({ 0: "ABC" })],
    ["UNKNOWN_USER_TYPE", row({ 1: "Anonymous" })],
    ["BAD_UUID", row({ 2: "['nao-e-uuid']" })],
    ["BAD_TIMESTAMP", row({ 3: "[16605331365xx]" })],
    ["LIST_LENGTH_MISMATCH", row({ 3: formatNumpyNumberList([trainEnd + 1, trainEnd + 2]) })],
    ["EMPTY_HISTORY", row({ 2: "[]", 3: "[]" })],
  ];
  for (const [reason, fields] of bad) file.quarantined(reason, formatCsvRecord(fields));
  if (duplicateOf !== undefined) file.quarantined("DUPLICATE_ROW", formatCsvRecord(duplicateOf));
}

/**
 * The malformed treino rows (in the first treino file) and validacao rows, appended after every
 * reader: `firstTreino`/`firstValidacao` are accepted rows to duplicate, `page` an existing article.
 */
export function writeMalformedReaderRows(
  files: { treino: FileStats; validacao: FileStats },
  firstRows: { treino: string[] | undefined; validacao: string[] | undefined },
  rng: Rng,
  period: ExpectedAggregates["period"],
  page: string,
): void {
  writeMalformedTreino(files.treino, firstRows.treino, rng, period.trainStart, page);
  writeMalformedValidacao(files.validacao, firstRows.validacao, rng, period.trainEnd, page);
}
