/**
 * What the featstore-engine made of each raw file: its processed marker (the ingestions table) and its
 * report (`processed/ingestions/<sourceId>.json`), read back and printed as one table. Used by
 * `pnpm upload`, `pnpm ingestions` and the demo; docs/data.md explains the columns.
 */
import { GetItemCommand, paginateScan } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  type AwsClients,
  type IngestionReport,
  ingestionReportSchema,
  lakeBucketNames,
  sourceId,
  tableNames,
} from "@gplay/common";

/** One raw object version and what became of it. */
export type IngestionRow =
  | { key: string; status: "succeeded"; report: IngestionReport }
  | { key: string; status: "started" | "failed" | "refused" | "waiting"; error?: string };

interface Marker {
  key: string;
  status: string;
  reportKey?: string;
  error?: string;
  startedAt?: string;
}

type AttributeMap = Record<string, { S?: string } | undefined>;

function markerOf(item: AttributeMap): Marker {
  const text = (name: string) => item[name]?.S;
  return {
    key: text("key") ?? "?",
    status: text("status") ?? "?",
    ...(text("reportKey") === undefined ? {} : { reportKey: text("reportKey") }),
    ...(text("error") === undefined ? {} : { error: text("error") }),
    ...(text("startedAt") === undefined ? {} : { startedAt: text("startedAt") }),
  };
}

async function readReport(clients: AwsClients, prefix: string, reportKey: string): Promise<IngestionReport> {
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: lakeBucketNames(prefix).processed, Key: reportKey }),
  );
  return ingestionReportSchema.parse(JSON.parse(await (object.Body?.transformToString() ?? "{}")));
}

async function rowOf(clients: AwsClients, prefix: string, marker: Marker): Promise<IngestionRow> {
  if (marker.status === "succeeded" && marker.reportKey !== undefined)
    return {
      key: marker.key,
      status: "succeeded",
      report: await readReport(clients, prefix, marker.reportKey),
    };
  const status = marker.status === "failed" || marker.status === "refused" ? marker.status : "started";
  return { key: marker.key, status, ...(marker.error === undefined ? {} : { error: marker.error }) };
}

/** The state of one uploaded object version (`waiting` while no task has picked it up). */
export async function ingestionOf(
  clients: AwsClients,
  prefix: string,
  object: { key: string; etag: string },
): Promise<IngestionRow> {
  const id = sourceId(lakeBucketNames(prefix).raw, object.key, object.etag);
  const item = await clients.dynamodb.send(
    new GetItemCommand({ TableName: tableNames(prefix).ingestions, Key: { sourceId: { S: id } } }),
  );
  return item.Item === undefined
    ? { key: object.key, status: "waiting" }
    : rowOf(clients, prefix, markerOf(item.Item as AttributeMap));
}

/** Every ingestion of the environment, newest version of each key first, in key order. */
export async function listIngestions(clients: AwsClients, prefix: string): Promise<IngestionRow[]> {
  const markers: Marker[] = [];
  for await (const page of paginateScan(
    { client: clients.dynamodb },
    { TableName: tableNames(prefix).ingestions },
  ))
    for (const item of page.Items ?? []) markers.push(markerOf(item as AttributeMap));
  markers.sort((a, b) => a.key.localeCompare(b.key) || (b.startedAt ?? "").localeCompare(a.startedAt ?? ""));
  return Promise.all(markers.map((m) => rowOf(clients, prefix, m)));
}

/**
 * Waits until every object has a final state (succeeded or failed), calling `onChange` when one
 * changes. Resolves with the rows in the given order; objects still unfinished at the deadline stay
 * `waiting`/`started` (the caller says what that means).
 */
export async function waitForIngestions(
  clients: AwsClients,
  prefix: string,
  objects: readonly { key: string; etag: string }[],
  options: {
    timeoutMs: number;
    pollMs?: number;
    onChange?: (row: IngestionRow, done: number) => void;
    /** After each pass over the unfinished objects. */
    onPass?: (rows: readonly IngestionRow[]) => void;
  },
): Promise<IngestionRow[]> {
  const rows = new Map<string, IngestionRow>();
  const deadline = Date.now() + options.timeoutMs;
  const final = (r: IngestionRow | undefined) =>
    r !== undefined && (r.status === "succeeded" || r.status === "failed" || r.status === "refused");
  for (;;) {
    for (const object of objects) {
      if (final(rows.get(object.key))) continue;
      const row = await ingestionOf(clients, prefix, object);
      const before = rows.get(object.key)?.status;
      rows.set(object.key, row);
      if (row.status !== before) options.onChange?.(row, [...rows.values()].filter(final).length);
    }
    options.onPass?.([...rows.values()]);
    if (objects.every((o) => final(rows.get(o.key))) || Date.now() > deadline)
      return objects.map((o) => rows.get(o.key) ?? { key: o.key, status: "waiting" });
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

const pad = (text: string, width: number) => text.padEnd(width);
const num = (n: number | undefined, width: number) => (n === undefined ? "-" : String(n)).padStart(width);

/**
 * The summary as text lines: one line per file (rows in, accepted, quarantined, readers and articles
 * touched), then the quarantine reasons and where the quarantined rows are, then failures.
 */
export function formatIngestionSummary(rows: readonly IngestionRow[], prefix: string): string[] {
  if (rows.length === 0) return [`no ingestion recorded for prefix ${prefix} yet`];
  const width = Math.max(4, ...rows.map((r) => r.key.length));
  const lines = [
    `${pad("file", width)}  ${pad("kind", 9)} ${"rows".padStart(7)} ${"accepted".padStart(9)} ${"quarantined".padStart(12)} ${"readers".padStart(8)} ${"articles".padStart(9)}`,
  ];
  const processed = lakeBucketNames(prefix).processed;
  for (const row of rows) {
    if (row.status !== "succeeded") {
      const what =
        row.status === "failed" || row.status === "refused"
          ? `${row.status === "refused" ? "REFUSED" : "FAILED"}: ${row.error ?? "no error recorded"} (nothing of it was stored)`
          : row.status === "started"
            ? "being ingested…"
            : "not ingested yet (is a task runner consuming the ingest queue?)";
      lines.push(`${pad(row.key, width)}  ${what}`);
      continue;
    }
    const r = row.report;
    lines.push(
      `${pad(row.key, width)}  ${pad(r.kind, 9)} ${num(r.counts.rowsIn, 7)} ${num(r.counts.rowsAccepted, 9)} ${num(r.counts.rowsQuarantined, 12)} ${num(r.touched?.readers, 8)} ${num(r.touched?.articles, 9)}`,
    );
    const reasons = Object.entries(r.quarantineByReason).filter(([, n]) => (n ?? 0) > 0);
    if (reasons.length > 0)
      lines.push(
        `${" ".repeat(width)}    quarantined by reason: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(", ")}`,
        `${" ".repeat(width)}    rows and details: s3://${processed}/${r.quarantineKey ?? "?"}`,
      );
    if (r.counts.elementsDropped > 0)
      lines.push(
        `${" ".repeat(width)}    ${r.counts.elementsDropped} editorial (esid:) id(s) dropped inside accepted rows`,
      );
  }
  const ok = rows.flatMap((r) => (r.status === "succeeded" ? [r.report.counts] : []));
  const failed = rows.length - ok.length;
  lines.push(
    `${ok.length} file(s) ingested: ${ok.reduce((n, c) => n + c.rowsAccepted, 0)} row(s) accepted, ${ok.reduce((n, c) => n + c.rowsQuarantined, 0)} quarantined${failed > 0 ? `; ${failed} file(s) not ingested` : ""}`,
  );
  return lines;
}
