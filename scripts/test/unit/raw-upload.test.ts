import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAppError, RAW_HEADERS } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { formatIngestionSummary, type IngestionRow } from "../../src/data/ingestion-summary.js";
import { planUpload, rawKeyFor } from "../../src/data/raw-upload.js";

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "gplay-upload-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const header = (kind: keyof typeof RAW_HEADERS) => `${RAW_HEADERS[kind].join(",")}\n`;

describe("planUpload", () => {
  it("keys every file by the kind its header names, articles first, whatever the file is called", () => {
    const dir = folder({
      "b.csv": header("treino"),
      "nested/whatever.csv": `\uFEFF${header("itens")}`,
      "validacao.csv": header("validacao").replace("\n", "\r\n"),
      "treino/day-2.csv": header("treino"),
      "notes.txt": "not a csv, not uploaded",
    });
    expect(planUpload(dir).map((f) => [f.key, f.kind])).toEqual([
      ["raw/itens/nested/whatever.csv", "itens"],
      ["raw/treino/b.csv", "treino"],
      ["raw/treino/day-2.csv", "treino"],
      ["raw/validacao/validacao.csv", "validacao"],
    ]);
  });

  it("uploads nothing and names every file whose header is of no G1 kind", () => {
    const dir = folder({ "ok.csv": header("treino"), "a.csv": "a,b\n1,2\n", "b.csv": "" });
    let error: unknown;
    try {
      planUpload(dir);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, "VALIDATION_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/nothing uploaded: 2 file\(s\).*\(a\.csv, b\.csv\)/);
  });

  it("refuses a folder without CSV files and two files that would share a key", () => {
    expect(() => planUpload(folder({ "readme.md": "x" }))).toThrow(/holds no \.csv file/);
    expect(() => planUpload(folder({ "treino/x.csv": header("treino"), "x.csv": header("treino") }))).toThrow(
      /would both go to raw\/treino\/x\.csv/,
    );
  });

  it("does not repeat a folder named after the kind", () => {
    expect(rawKeyFor("treino", "treino/treino-2022-07-01.csv")).toBe("raw/treino/treino-2022-07-01.csv");
    expect(rawKeyFor("itens", "treino/odd.csv")).toBe("raw/itens/treino/odd.csv");
  });
});

describe("formatIngestionSummary", () => {
  const report = {
    sourceId: "abc",
    bucket: "p-raw",
    key: "raw/treino/t.csv",
    etag: "e",
    kind: "treino" as const,
    counts: { rowsIn: 5, rowsAccepted: 3, rowsQuarantined: 2, elementsDropped: 1, itemsWritten: 3 },
    quarantineByReason: { BAD_USER_ID: 2 },
    touched: { readers: 3, articles: 7 },
    partitionKey: "processed/interactions/source=abc/part-00000.parquet",
    quarantineKey: "processed/quarantine/raw/treino/t.csv/abc.jsonl",
    writes: {},
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:01.000Z",
  };

  it("shows rows, accepted, quarantined by reason, readers and articles per file, and failures", () => {
    const rows: IngestionRow[] = [
      { key: "raw/treino/t.csv", status: "succeeded", report },
      { key: "raw/itens/i.csv", status: "failed", error: "UNSUPPORTED_INPUT: invalid UTF-8" },
    ];
    const text = formatIngestionSummary(rows, "p").join("\n");
    expect(text).toMatch(/raw\/treino\/t\.csv\s+treino\s+5\s+3\s+2\s+3\s+7/);
    expect(text).toContain("quarantined by reason: BAD_USER_ID 2");
    expect(text).toContain("s3://p-processed/processed/quarantine/raw/treino/t.csv/abc.jsonl");
    expect(text).toContain("1 editorial (esid:) id(s) dropped");
    expect(text).toMatch(/raw\/itens\/i\.csv\s+FAILED: UNSUPPORTED_INPUT: invalid UTF-8/);
    expect(text).toContain("1 file(s) ingested: 3 row(s) accepted, 2 quarantined; 1 file(s) not ingested");
  });

  it("says when nothing was ingested", () => {
    expect(formatIngestionSummary([], "p")).toEqual(["no ingestion recorded for prefix p yet"]);
  });
});
