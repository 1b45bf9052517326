import { type AwsClients, lakeBucketNames } from "@gplay/common";
import { formatIngestionSummary, type IngestionRow, waitForIngestions } from "./ingestion-summary.js";
import { planUpload, type UploadedFile, uploadPlanned } from "./raw-upload.js";

export interface UploadFolderOptions {
  /** Wait for the ingestions and print their summary (default true). */
  wait?: boolean;
  timeoutMs?: number;
  /** One progress line (the demo prefixes its clock; the CLI prints as is). */
  log: (line: string) => void;
}

export interface UploadFolderResult {
  files: UploadedFile[];
  /** Undefined when not waited for. */
  rows?: IngestionRow[];
}

const size = (bytes: number) =>
  bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;

/**
 * The one path from a local folder to an ingestion summary: plan (every header checked first), upload
 * with a line per file, then wait for the featstore-engine's marker of each object version with a line
 * per finished file, and print the summary table.
 */
export async function uploadFolder(
  clients: AwsClients,
  prefix: string,
  dir: string,
  options: UploadFolderOptions,
): Promise<UploadFolderResult> {
  const plan = planUpload(dir);
  const bucket = lakeBucketNames(prefix).raw;
  const n = plan.length;
  options.log(`uploading ${n} file(s) from ${dir} to s3://${bucket}/`);
  const files = await uploadPlanned(clients.s3, bucket, plan, (f, i) =>
    options.log(
      `  [${i + 1}/${n}] ${f.key}  ${f.kind}, ${size(f.bytes)}  ${f.uploaded ? "uploaded" : "unchanged (same bytes already there; not ingested again)"}`,
    ),
  );
  if (options.wait === false) return { files };

  options.log(`waiting for the featstore-engine to ingest them (EventBridge → SQS → task)`);
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  let hinted = false;
  const started = Date.now();
  const rows = await waitForIngestions(clients, prefix, files, {
    timeoutMs,
    onChange: (row, done) => {
      if (row.status === "succeeded")
        options.log(
          `  [${done}/${n}] ${row.key}  ingested: ${row.report.counts.rowsAccepted} accepted, ${row.report.counts.rowsQuarantined} quarantined`,
        );
      else if (row.status === "failed" || row.status === "refused")
        options.log(`  [${done}/${n}] ${row.key}  ${row.status.toUpperCase()}: ${row.error ?? ""}`);
    },
    onPass: (current) => {
      if (hinted || Date.now() - started < 30_000 || current.some((r) => r.status !== "waiting")) return;
      hinted = true;
      options.log(
        `  nothing picked up after 30 s: is a task runner consuming the ingest queue? (pnpm stack runner --prefix ${prefix} --queue ingest)`,
      );
    },
  });
  options.log("ingestion summary:");
  for (const line of formatIngestionSummary(rows, prefix)) options.log(`  ${line}`);
  return { files, rows };
}
