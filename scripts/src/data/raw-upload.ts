/**
 * Puts a folder of G1 files under `raw/` of an environment's raw bucket, with the key layout
 * docs/data.md describes: `raw/<kind>/<path inside the folder>`, the kind read from each file's header
 * (as the featstore-engine decides it), never from its name. Every file is checked before the first
 * one is uploaded, so a folder with one unknown file uploads nothing.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  AppError,
  detectRawFileKind,
  RAW_FILE_KINDS,
  RAW_HEADERS,
  RAW_PREFIX,
  type RawFileKind,
} from "@gplay/common";

/** One local file and where it goes. */
export interface PlannedFile {
  path: string;
  key: string;
  kind: RawFileKind;
  bytes: number;
}

/** Articles first, then the reads that name them, then the later accesses (the natural arrival order). */
const KIND_ORDER: Record<RawFileKind, number> = { itens: 0, treino: 1, validacao: 2, impressions: 3 };

/** The first line of a file, without reading all of it (raw files can be large). */
function firstLine(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, n).toString("utf8");
    const end = text.search(/\r?\n/);
    return end < 0 ? text : text.slice(0, end);
  } finally {
    closeSync(fd);
  }
}

/** The header's column names (headers are plain names; quotes around them are tolerated). */
export function headerFields(line: string): string[] {
  return line.split(",").map((f) => f.trim().replace(/^"(.*)"$/, "$1"));
}

/**
 * The key of a file of `kind` at `relativePath` inside the uploaded folder: `raw/<kind>/<relativePath>`,
 * without repeating the kind when the folder already has a directory of that name
 * (`treino/treino-2022-08-10.csv` → `raw/treino/treino-2022-08-10.csv`).
 */
export function rawKeyFor(kind: RawFileKind, relativePath: string): string {
  const parts = relativePath.split(sep).join("/").split("/");
  const rest = parts[0] === kind && parts.length > 1 ? parts.slice(1) : parts;
  return `${RAW_PREFIX}${kind}/${rest.join("/")}`;
}

function listCsvFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listCsvFiles(path);
      return name.toLowerCase().endsWith(".csv") ? [path] : [];
    });
}

/**
 * Plans the upload of every `.csv` under `dir`. Throws `VALIDATION_FAILED` naming every file whose
 * header is of no G1 kind (and uploads nothing), or when the folder holds no CSV file at all.
 */
export function planUpload(dir: string): PlannedFile[] {
  let files: string[];
  try {
    files = listCsvFiles(dir);
  } catch (error) {
    throw new AppError("VALIDATION_FAILED", `cannot read the folder ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (files.length === 0)
    throw new AppError(
      "VALIDATION_FAILED",
      `${dir} holds no .csv file; expected G1 files (see docs/data.md)`,
    );
  const planned: PlannedFile[] = [];
  const unknown: string[] = [];
  for (const path of files) {
    const kind = detectRawFileKind(headerFields(firstLine(path)));
    const rel = relative(dir, path);
    if (kind === undefined) unknown.push(rel);
    else planned.push({ path, key: rawKeyFor(kind, rel), kind, bytes: statSync(path).size });
  }
  if (unknown.length > 0)
    throw new AppError(
      "VALIDATION_FAILED",
      `nothing uploaded: ${unknown.length} file(s) have no G1 header (${unknown.join(", ")}); the first line must be one of: ${RAW_FILE_KINDS.map(
        (k) => `${k}: ${RAW_HEADERS[k].join(",")}`,
      ).join(" | ")} (docs/data.md)`,
    );
  const keys = new Map<string, string>();
  for (const f of planned) {
    const other = keys.get(f.key);
    if (other !== undefined)
      throw new AppError(
        "VALIDATION_FAILED",
        `nothing uploaded: ${other} and ${f.path} would both go to ${f.key}`,
      );
    keys.set(f.key, f.path);
  }
  return planned.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.key.localeCompare(b.key));
}

export interface UploadedFile extends PlannedFile {
  etag: string;
  /** False when the same bytes were already at that key (no new object version, no new ingestion). */
  uploaded: boolean;
}

/** S3's ETag of a single-part upload: the MD5 of the bytes, quoted. */
function md5Etag(body: Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

/**
 * Uploads the planned files in order, skipping a file whose bytes are already at its key (so a re-run
 * creates no new object version and re-ingests nothing). Calls `onFile` after each file.
 */
export async function uploadPlanned(
  s3: S3Client,
  bucket: string,
  plan: readonly PlannedFile[],
  onFile: (file: UploadedFile, index: number) => void = () => undefined,
): Promise<UploadedFile[]> {
  const done: UploadedFile[] = [];
  for (const [index, file] of plan.entries()) {
    const body = readFileSync(file.path);
    const etag = md5Etag(body);
    const existing = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: file.key })).then(
      (h) => h.ETag,
      () => undefined,
    );
    let result: UploadedFile;
    if (existing === etag) result = { ...file, etag, uploaded: false };
    else {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: body, ContentType: "text/csv" }),
      );
      result = { ...file, etag: put.ETag ?? etag, uploaded: true };
    }
    done.push(result);
    onFile(result, index);
  }
  return done;
}
