import { isAppError } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { CsvParser, csvRecordEnds, formatCsvRecord, readCsvBatches } from "../../src/domain/csv.js";
import { openRawFile } from "../../src/domain/raw-file.js";
import { chunked } from "./support.js";

async function records(source: Iterable<Uint8Array | string>) {
  const out = [];
  for await (const batch of readCsvBatches(source)) out.push(...batch);
  return out;
}

const TEXT = 'a,b,c\n1,"multi\nline ""quoted"" body","x, y"\n2,,"end"\n"3","",plain\n';

describe("CsvParser", () => {
  it("parses multi-line quoted fields, doubled-quote escapes and empty fields, with source lines", async () => {
    const rows = await records([TEXT]);
    expect(rows).toEqual([
      { fields: ["a", "b", "c"], line: 1 },
      { fields: ["1", 'multi\nline "quoted" body', "x, y"], line: 2 },
      { fields: ["2", "", "end"], line: 4 },
      { fields: ["3", "", "plain"], line: 5 },
    ]);
  });

  it("gives the same records whatever the chunk boundaries", async () => {
    const whole = await records([TEXT]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(await records(chunked(TEXT, size))).toEqual(whole);
  });

  it("accepts CRLF line ends, a missing final newline and skips blank lines", async () => {
    const rows = await records(['a,b\r\n1,"x\r\ny"\r\n\r\n2,3']);
    expect(rows.map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["1", "x\r\ny"],
      ["2", "3"],
    ]);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it("decodes multi-byte UTF-8 split across chunks", async () => {
    const rows = await records(chunked("t\nAção é “notícia”\n", 1));
    expect(rows[1]?.fields).toEqual(["Ação é “notícia”"]);
  });

  it("fails clearly when the file ends inside a quoted field (truncated)", async () => {
    const error = await records(['a,b\n1,"never closed\nmore text']).catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
    expect(String((error as Error).message)).toMatch(/truncated.*line 2|line 2.*truncated/);
  });

  it("fails clearly on garbage after a closing quote", async () => {
    const error = await records(['a,b\n"x"y,1\n']).catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
  });

  it("rejects bytes that are not UTF-8 (a Latin-1 export)", async () => {
    const latin1 = Uint8Array.from([0x61, 0x0a, 0x61, 0xe7, 0xe3, 0x6f, 0x0a]); // "ação" in Latin-1
    const error = await records([latin1]).catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
    expect((error as Error).message).toMatch(/UTF-8/);
  });

  it("rejects a file ending in an incomplete UTF-8 sequence", async () => {
    const error = await records([Uint8Array.from([0x61, 0x0a, 0xc3])]).catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
  });

  it("formats fields like pandas (quotes only when needed) and parses its own output back", () => {
    const fields = ["plain", "with, comma", 'with "quote"', "multi\nline", ""];
    const text = formatCsvRecord(fields);
    expect(text).toBe('plain,"with, comma","with ""quote""","multi\nline",\n');
    const parser = new CsvParser();
    expect([...parser.push(text), ...parser.end()].map((r) => r.fields)).toEqual([fields]);
  });
});

describe("csvRecordEnds (record boundaries by the parser's own scan)", () => {
  /** The text cut at the offsets: each piece one record (or one blank line). */
  const pieces = (text: string) => {
    const out: string[] = [];
    let from = 0;
    for (const to of csvRecordEnds(text)) {
      out.push(text.slice(from, to));
      from = to;
    }
    return out;
  };

  it("ends each record after its LF or CRLF, a quoted field spanning lines inside its record", () => {
    expect(pieces(TEXT)).toEqual([
      "a,b,c\n",
      '1,"multi\nline ""quoted"" body","x, y"\n',
      '2,,"end"\n',
      '"3","",plain\n',
    ]);
    expect(pieces('a,b\r\n1,"x\r\ny"\r\n\r\n\n2,3')).toEqual([
      "a,b\r\n",
      '1,"x\r\ny"\r\n',
      "\r\n",
      "\n",
      "2,3",
    ]);
  });

  it("delimits exactly the records the parser returns, blank lines apart", async () => {
    const texts = [TEXT, 'a,b\r\n1,"x\r\ny"\r\n\r\n2,3', 'h\n"",x\n\n"a""b",\n,\n'];
    for (const text of texts) {
      const parsed = (await records([text])).map((r) => r.fields);
      const delimited = await Promise.all(
        pieces(text)
          .filter((piece) => !/^\r?\n$/.test(piece))
          .map(async (piece) => (await records([piece])).map((r) => r.fields)),
      );
      expect(delimited.flat()).toEqual(parsed);
    }
  });

  it("scans lazily and fails as the parser does on quoting it refuses", () => {
    const ends = csvRecordEnds('a\nb\n"x"y\n');
    expect([ends.next().value, ends.next().value]).toEqual([2, 4]);
    let error: unknown;
    try {
      ends.next();
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
    expect(String((error as Error).message)).toMatch(/closing quote at line 3/);
    expect(() => [...csvRecordEnds('a\n"open\nmore')]).toThrow(/inside a quoted field opened at line 2/);
  });
});

describe("openRawFile", () => {
  it("detects the kind from the header, BOM included, never from the name", async () => {
    const file = await openRawFile(["\uFEFFpage,url,issued,modified,title,body,caption\n"], "treino.csv");
    expect(file.kind).toBe("itens");
  });

  it("fails clearly on an unknown header", async () => {
    const error = await openRawFile(["id,name\n1,x\n"], "raw/x.csv").catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
    expect((error as Error).message).toMatch(/unknown header/);
  });

  it("fails clearly on an empty file", async () => {
    const error = await openRawFile([""], "raw/empty.csv").catch((e: unknown) => e);
    expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
    expect((error as Error).message).toMatch(/empty/);
  });
});
