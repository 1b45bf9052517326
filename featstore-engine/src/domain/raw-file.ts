import { AppError, RAW_HEADERS, type RawFileKind, resolveRawHeader } from "@gplay/common";
import { type CleanCounts, RowCleaner, type RowCleanerOptions, type RowOutcome } from "./clean.js";
import { type CsvRecord, readCsvBatches } from "./csv.js";

export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/**
 * An opened raw file: its kind (from the header) and the rest of its records, in batches, with their
 * fields in the kind's canonical column order (`RAW_HEADERS[kind]`) whatever the file's order.
 */
export interface RawFile {
  kind: RawFileKind;
  header: string[];
  batches: AsyncIterable<CsvRecord[]>;
}

/**
 * Reads the header of a raw G1 file and decides its kind from it (never from the name), mapping the
 * columns by name. Fails with `UNSUPPORTED_INPUT` on an empty file, a header with missing, unknown or
 * repeated columns (named), invalid UTF-8 or a truncated quoted field (the last two while the batches
 * are read).
 */
export async function openRawFile(source: ByteSource, sourceKey = "<input>"): Promise<RawFile> {
  const iterator = readCsvBatches(source, sourceKey)[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  if (first.done)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `${sourceKey}: the file is empty; expected a G1 CSV with a header`,
      {
        details: { sourceKey },
      },
    );
  const [headerRecord, ...rest] = first.value as [CsvRecord, ...CsvRecord[]];
  const mapping = resolveRawHeader(headerRecord.fields);
  if (!mapping.ok)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `${sourceKey}: unknown header ${JSON.stringify(headerRecord.fields.join(",").slice(0, 200))} (${mapping.reason}); expected the columns of treino, itens or validacao, in any order (${Object.values(
        RAW_HEADERS,
      )
        .map((h) => h.join(","))
        .join(" | ")})`,
      { details: { sourceKey } },
    );
  const { kind, columns } = mapping;
  const inOrder = columns.every((column, i) => column === i);
  // A row with another field count is left as it is: the cleaner quarantines it (WRONG_FIELD_COUNT).
  const reorder = (records: CsvRecord[]): CsvRecord[] =>
    inOrder
      ? records
      : records.map((r) =>
          r.fields.length === columns.length
            ? { ...r, fields: columns.map((c) => r.fields[c] as string) }
            : r,
        );
  async function* batches(): AsyncGenerator<CsvRecord[]> {
    if (rest.length > 0) yield reorder(rest);
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield reorder(next.value);
    }
  }
  return { kind, header: headerRecord.fields, batches: batches() };
}

/** A cleaned raw file: outcomes in batches; `counts` is final once the batches are exhausted. */
export interface CleanedFile {
  kind: RawFileKind;
  batches: AsyncIterable<RowOutcome[]>;
  counts: CleanCounts;
}

/** Opens, parses and cleans a raw file, streaming: memory stays bounded by the batch size. */
export async function cleanRawFile(
  source: ByteSource,
  sourceKey = "<input>",
  options: RowCleanerOptions = {},
): Promise<CleanedFile> {
  const file = await openRawFile(source, sourceKey);
  const cleaner = new RowCleaner(file.kind, sourceKey, options);
  async function* batches(): AsyncGenerator<RowOutcome[]> {
    for await (const records of file.batches) yield records.map((r) => cleaner.clean(r));
  }
  return { kind: file.kind, batches: batches(), counts: cleaner.counts };
}
