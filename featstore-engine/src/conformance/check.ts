/**
 * Format conformance of a folder of G1 files: every row parsed with the engine's own reader and
 * cleaner must be accepted and round-trip field by field (typed row → CSV fields) and byte for
 * byte (fields → CSV text).
 */
import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { impressionLogFields, isAppError, type RawFileKind } from "@gplay/common";
import { categoriseUrl } from "../domain/article.js";
import { RowCleaner } from "../domain/clean.js";
import { type CsvRecord, formatCsvRecord } from "../domain/csv.js";
import { openRawFile } from "../domain/raw-file.js";
import { formatItensFields, formatTreinoFields, formatValidacaoFields } from "../domain/raw-format.js";

export const CONFORMANCE_FILES: Record<string, RawFileKind> = {
  "itens-sample.csv": "itens",
  "treino-sample.csv": "treino",
  "validacao-sample.csv": "validacao",
};

export interface FileResult {
  file: string;
  kind: RawFileKind | "?";
  rows: number;
  accepted: number;
  roundTripped: number;
  /** Accepted rows whose editorial ids were dropped: their cleaned form differs from the raw by design. */
  withDroppedElements: number;
  /** itens only: content types found by the URL categoriser (a summary, not a check). */
  contentTypes: Record<string, number>;
  bytesIdentical: boolean;
  failures: string[];
}

function diff(expected: readonly string[], actual: readonly string[]): string | undefined {
  if (expected.length !== actual.length) return `field count ${actual.length} != ${expected.length}`;
  const i = expected.findIndex((e, k) => e !== actual[k]);
  return i === -1 ? undefined : `field ${i} differs after round trip`;
}

export async function checkFile(dir: string, file: string, expectedKind: RawFileKind): Promise<FileResult> {
  const path = join(dir, file);
  const result: FileResult = {
    file,
    kind: "?",
    rows: 0,
    accepted: 0,
    roundTripped: 0,
    withDroppedElements: 0,
    contentTypes: {},
    bytesIdentical: false,
    failures: [],
  };
  try {
    const raw = await openRawFile(createReadStream(path), file);
    result.kind = raw.kind;
    if (raw.kind !== expectedKind)
      result.failures.push(`detected kind ${raw.kind}, expected ${expectedKind}`);
    const cleaner = new RowCleaner(raw.kind, file);
    const records: CsvRecord[] = [];
    for await (const batch of raw.batches) records.push(...batch);
    let text = formatCsvRecord(raw.header);
    for (const record of records) {
      result.rows++;
      text += formatCsvRecord(record.fields);
      const outcome = cleaner.clean(record);
      if (outcome.kind === "quarantine") {
        result.failures.push(
          `line ${record.line}: quarantined ${outcome.record.reason}: ${outcome.record.detail}`,
        );
        continue;
      }
      result.accepted++;
      if (outcome.kind === "itens") {
        const type = categoriseUrl(outcome.row.url).contentType;
        result.contentTypes[type] = (result.contentTypes[type] ?? 0) + 1;
      }
      if ((outcome.kind === "treino" || outcome.kind === "validacao") && outcome.elementsDropped > 0) {
        result.withDroppedElements++;
        continue;
      }
      const fields =
        outcome.kind === "treino"
          ? formatTreinoFields(outcome.row)
          : outcome.kind === "validacao"
            ? formatValidacaoFields(outcome.row)
            : outcome.kind === "impressions"
              ? impressionLogFields(outcome.row)
              : formatItensFields(outcome.row);
      const problem = diff(record.fields, fields);
      if (problem === undefined) result.roundTripped++;
      else result.failures.push(`line ${record.line}: ${problem}`);
    }
    result.bytesIdentical = text === readFileSync(path, "utf8");
    if (!result.bytesIdentical) result.failures.push("re-serialised CSV differs from the file bytes");
    if (result.rows === 0) result.failures.push("no rows");
  } catch (error) {
    result.failures.push(isAppError(error) ? `${error.code}: ${error.message}` : String(error));
  }
  return result;
}

/** Checks every conformance file of a folder. */
export async function checkFolder(dir: string): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const [file, kind] of Object.entries(CONFORMANCE_FILES))
    results.push(await checkFile(dir, file, kind));
  return results;
}
