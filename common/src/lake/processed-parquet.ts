import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { ImpressionRecord } from "../contracts/impressions.js";
import type { ProcessedDataset } from "../contracts/lake.js";
import type { ContentType, UserItem } from "../contracts/tables.js";

/**
 * The one Parquet codec of `processed/`: the engine encodes partitions with it, training and tools
 * decode them. Column names and types follow `PROCESSED_COLUMNS` (lake.ts); epoch-ms columns are INT64.
 */
export interface InteractionRecord {
  userId: string;
  userType: UserItem["userType"];
  page: string;
  timestamp: number;
  clicks: number;
  timeOnPageMs: number;
  scrollPercentage: number;
  pageVisits: number;
  source: string;
}

export interface ValidationRecord {
  userId: string;
  userType: UserItem["userType"];
  page: string;
  timestamp: number;
  source: string;
}

export interface ArticleRecord {
  page: string;
  url: string;
  issued: number;
  modified: number;
  title: string;
  body: string;
  caption: string;
  section: string;
  region: string;
  contentType: ContentType;
  source: string;
}

export interface ProcessedRecords {
  interactions: InteractionRecord;
  validation: ValidationRecord;
  items: ArticleRecord;
  impressions: ImpressionRecord;
}

type ColumnKind = "STRING" | "INT64" | "INT32" | "DOUBLE";

const COLUMNS: {
  [D in ProcessedDataset]: readonly (readonly [keyof ProcessedRecords[D] & string, ColumnKind])[];
} = {
  interactions: [
    ["userId", "STRING"],
    ["userType", "STRING"],
    ["page", "STRING"],
    ["timestamp", "INT64"],
    ["clicks", "INT32"],
    ["timeOnPageMs", "INT64"],
    ["scrollPercentage", "DOUBLE"],
    ["pageVisits", "INT32"],
    ["source", "STRING"],
  ],
  validation: [
    ["userId", "STRING"],
    ["userType", "STRING"],
    ["page", "STRING"],
    ["timestamp", "INT64"],
    ["source", "STRING"],
  ],
  items: [
    ["page", "STRING"],
    ["url", "STRING"],
    ["issued", "INT64"],
    ["modified", "INT64"],
    ["title", "STRING"],
    ["body", "STRING"],
    ["caption", "STRING"],
    ["section", "STRING"],
    ["region", "STRING"],
    ["contentType", "STRING"],
    ["source", "STRING"],
  ],
  impressions: [
    ["eventType", "STRING"],
    ["impressionId", "STRING"],
    ["userId", "STRING"],
    ["timestamp", "INT64"],
    ["modelVersion", "STRING"],
    ["arm", "STRING"],
    ["strategy", "STRING"],
    ["pages", "STRING"],
    ["scores", "STRING"],
    ["items", "INT32"],
    ["latencyMs", "INT32"],
    ["source", "STRING"],
  ],
};

function column(kind: ColumnKind, values: ArrayLike<unknown>) {
  switch (kind) {
    case "INT64":
      // Decoded INT64 columns arrive as bigints, records hold numbers: both encode the same.
      return values instanceof BigInt64Array
        ? values
        : BigInt64Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v));
    case "INT32":
      return Int32Array.from(values as ArrayLike<number>);
    case "DOUBLE":
      return Float64Array.from(values as ArrayLike<number>);
    case "STRING":
      return Array.isArray(values) ? (values as string[]) : Array.from(values as ArrayLike<string>);
  }
}

/** The column names of a dataset's partitions, in their order in the file. */
export function processedColumnNames(dataset: ProcessedDataset): string[] {
  return COLUMNS[dataset].map(([name]) => name);
}

/**
 * Encodes one partition from its columns (every column of the dataset, of equal length; INT64 as
 * numbers or bigints): the same bytes as `encodeProcessedParquet` of the same rows, with no row object.
 */
export function encodeProcessedColumns(
  dataset: ProcessedDataset,
  columns: Readonly<Record<string, ArrayLike<unknown>>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const columnData = COLUMNS[dataset].map(([name, kind]) => {
    const values = columns[name];
    if (values === undefined) throw new Error(`encodeProcessedColumns(${dataset}): no column ${name}`);
    return { name, type: kind, nullable: false, data: column(kind, values) };
  });
  const buffer = parquetWriteBuffer({
    columnData,
    rowGroupSize: 100_000,
    kvMetadata: [
      { key: "gplay.dataset", value: dataset },
      ...Object.entries(metadata).map(([key, value]) => ({ key, value })),
    ],
    createdBy: "gplay-featstore-engine",
  });
  return new Uint8Array(buffer);
}

/** Encodes one partition. An empty partition is valid (schema only). */
export function encodeProcessedParquet<D extends ProcessedDataset>(
  dataset: D,
  rows: readonly ProcessedRecords[D][],
  metadata: Record<string, string> = {},
): Uint8Array {
  const columns = Object.fromEntries(
    COLUMNS[dataset].map(([name]) => [
      name,
      rows.map((r) => (r as unknown as Record<string, unknown>)[name]),
    ]),
  );
  return encodeProcessedColumns(dataset, columns, metadata);
}

/** Decodes one partition back into records (INT64 columns become numbers: epoch ms fit exactly). */
export async function decodeProcessedParquet<D extends ProcessedDataset>(
  dataset: D,
  bytes: Uint8Array,
): Promise<ProcessedRecords[D][]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  const int64 = COLUMNS[dataset].filter(([, kind]) => kind === "INT64").map(([name]) => name);
  for (const row of rows) for (const name of int64) row[name] = Number(row[name]);
  return rows as unknown as ProcessedRecords[D][];
}

/** Row count of a partition from its footer, without decoding the data. */
export function parquetRowCount(bytes: Uint8Array): number {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return Number(parquetMetadata(file).num_rows);
}
