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
