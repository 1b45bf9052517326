import { encodeProcessedColumns, type ProcessedDataset, processedColumnNames } from "@gplay/common";
import { parquetRead } from "hyparquet";

/**
 * Decodes some columns of a partition as arrays, without row objects (INT64 columns stay bigint): what
 * the snapshot reads of interactions, and erasure of a partition it scans for readers.
 */
export async function readColumns(
  bytes: Uint8Array,
  columns: readonly string[],
): Promise<{ rows: number; values: Record<string, unknown[] | undefined> }> {
  // A buffer that is a whole ArrayBuffer is read in place (hyparquet only reads it); a view is copied.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const file = (
    whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer;
  const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  await parquetRead({
    file,
    columns: [...columns],
    onChunk: ({ columnName, columnData, rowStart }) => {
      let list = chunks.get(columnName);
      if (list === undefined) {
        list = [];
        chunks.set(columnName, list);
      }
      list.push({ rowStart, data: columnData as ArrayLike<unknown> });
    },
  });
  const out: { rows: number; values: Record<string, unknown[] | undefined> } = { rows: 0, values: {} };
  for (const name of columns) {
    const list = (chunks.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    const values: unknown[] = [];
    for (const c of list) for (let i = 0; i < c.data.length; i++) values.push(c.data[i]);
    out.values[name] = values;
    out.rows = values.length;
  }
  return out;
}

/** A partition filtered column by column: its bytes, and the values of the rows it dropped. */
export interface FilteredPartition {
  bytes: Uint8Array;
  /** Rows kept. */
  rows: number;
  /** The dropped rows' values, per column, in file order (INT64 as bigint). */
  dropped: Record<string, unknown[]>;
}

/**
 * One partition without the rows whose `userId` `drop` picks (a row without a string `userId` is
 * kept), decoded as columns and encoded again from column slices: no row object is built. Gives the
 * same bytes as decoding the rows, filtering them and encoding what is kept (`encodeProcessedParquet`),
 * so the rows kept, their order and the schema are unchanged.
 */
export async function filterPartitionRows(
  dataset: ProcessedDataset,
  bytes: Uint8Array,
  drop: (userId: string) => boolean,
  metadata: Record<string, string> = {},
): Promise<FilteredPartition> {
  const names = processedColumnNames(dataset);
  const { rows, values } = await readColumns(bytes, names);
  const userId = values.userId ?? [];
  const keep = new Uint8Array(rows);
  let kept = 0;
  for (let i = 0; i < rows; i++) {
    const id = userId[i];
    if (typeof id !== "string" || !drop(id)) {
      keep[i] = 1;
      kept += 1;
    }
  }
  const columns: Record<string, unknown[]> = {};
  const dropped: Record<string, unknown[]> = {};
  for (const name of names) {
    const all = values[name] ?? [];
    const out = new Array<unknown>(kept);
    const gone: unknown[] = [];
    for (let i = 0, k = 0; i < rows; i++) {
      if (keep[i] === 1) out[k++] = all[i];
      else gone.push(all[i]);
    }
    columns[name] = out;
    dropped[name] = gone;
    // The decoded column is no longer needed: let it go before the next one is sliced.
    values[name] = undefined;
  }
  return { bytes: encodeProcessedColumns(dataset, columns, metadata), rows: kept, dropped };
}
