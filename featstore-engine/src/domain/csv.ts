import { AppError } from "@gplay/common";

/** One CSV record with the 1-based line of its first physical line in the source. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Incremental RFC 4180 parser (the pandas/Python `csv` dialect of the G1 files): comma separator,
 * `"` quoting with `""` escapes, LF or CRLF record ends, newlines inside quoted fields. Push text
 * chunks, collect complete records; `end()` flushes the last record and fails on a quoted field
 * left open (a truncated file). A hand-written state machine: measured ~2–3× faster than csv-parse
 * on treino files (see the featstore-engine report), and it tracks the source line of every record.
 */
export class CsvParser {
  private buffer = "";
  /** Line number of `buffer[0]`. */
  private line = 1;
  private ended = false;

  constructor(private readonly sourceKey = "<input>") {}

  /** Adds text and returns the records completed by it. */
  push(text: string): CsvRecord[] {
    if (this.ended) throw new Error("CsvParser: push after end");
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text;
    return this.drain(false);
  }

  /** Flushes the final record (a file need not end with a newline). */
  end(): CsvRecord[] {
    this.ended = true;
    return this.drain(true);
  }

  private drain(eof: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    const s = this.buffer;
    const n = s.length;
    let pos = 0;
    let line = this.line;
    while (pos < n) {
      const startLine = line;
      const fields: string[] = [];
      const p = scanRecord(s, pos, eof, this.sourceKey, startLine, fields);
      if (p === NEED_MORE) break;
      line = countLines(s, pos, p, line);
      pos = p;
      // Blank lines carry no record.
      if (!(fields.length === 1 && fields[0] === "")) out.push({ fields, line: startLine });
    }
    this.buffer = pos === 0 ? s : s.slice(pos);
    this.line = line;
    return out;
  }
}

/**
 * Where each record of a whole text ends (the offset after its LF or CRLF, or the text's end), in
 * order, blank lines included (as records of their own): `CsvParser`'s own scan, without building a
 * field, so a cut by these offsets keeps every byte of the records it keeps. Lazy: a caller that stops
 * early scans no further. Fails as the parser does on quoting it refuses.
 */
export function* csvRecordEnds(text: string, sourceKey = "<input>"): Generator<number> {
  for (let pos = 0; pos < text.length; ) {
    pos = scanRecord(text, pos, true, sourceKey, undefined, undefined);
    yield pos;
  }
}

/** `scanRecord`'s answer when the record runs past the text and more may come. */
const NEED_MORE = -1;

/**
 * Scans the record starting at `pos`: fields until an unquoted LF (or CRLF) or, with `eof`, the end
 * of text. Returns the offset after it, or NEED_MORE (only without `eof`). Fields are appended to
 * `fields` when given. `line` is the record's first line for error messages (counted from the text's
 * start when undefined: only on the error path).
 */
function scanRecord(
  s: string,
  pos: number,
  eof: boolean,
  sourceKey: string,
  line: number | undefined,
  fields: string[] | undefined,
): number {
  const n = s.length;
  let p = pos;
  // The record's first LF at or after `p` outside quotes: found once per line, not once per field.
  let lf = -2;
  for (;;) {
    if (p < n && s.charCodeAt(p) === QUOTE) {
      // Quoted field: runs to the next lone quote; `""` is an escaped quote.
      let value = "";
      let q = p + 1;
      let closed = false;
      for (;;) {
        const next = s.indexOf('"', q);
        if (next === -1) break;
        if (next + 1 < n && s.charCodeAt(next + 1) === QUOTE) {
          if (fields !== undefined) value += s.slice(q, next + 1);
          q = next + 2;
          continue;
        }
        if (next + 1 >= n && !eof) break; // the quote may be the first half of `""` in the next chunk
        if (fields !== undefined) value += s.slice(q, next);
        q = next + 1;
        closed = true;
        break;
      }
      if (!closed) {
        if (!eof) return NEED_MORE;
        throw new AppError(
          "UNSUPPORTED_INPUT",
          `${sourceKey}: file ends inside a quoted field opened at line ${errorLine(s, pos, p, line)}; the file is truncated or its quoting is broken`,
          { details: { sourceKey, line: errorLine(s, pos, p, line) } },
        );
      }
      fields?.push(value);
      p = q;
      const c = p < n ? s.charCodeAt(p) : -1;
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === LF || (c === CR && p + 1 < n && s.charCodeAt(p + 1) === LF)) return p + (c === CR ? 2 : 1);
      if (c === CR && p + 1 >= n && !eof) return NEED_MORE;
      if (c === -1) return eof ? n : NEED_MORE;
      throw new AppError(
        "UNSUPPORTED_INPUT",
        `${sourceKey}: unexpected character after a closing quote at line ${errorLine(s, pos, p, line)}; fix the CSV quoting`,
        { details: { sourceKey, line: errorLine(s, pos, p, line) } },
      );
    }
    // Unquoted field: runs to a comma or LF.
    if (lf !== -1 && lf < p) lf = s.indexOf("\n", p);
    const comma = s.indexOf(",", p);
    const q = comma !== -1 && (lf === -1 || comma < lf) ? comma : lf === -1 ? n : lf;
    if (q >= n && !eof) return NEED_MORE;
    if (fields !== undefined) {
      let end = q;
      if (q < n && s.charCodeAt(q) === LF && end > p && s.charCodeAt(end - 1) === CR) end--;
      fields.push(s.slice(p, end));
    }
    if (q < n && s.charCodeAt(q) === COMMA) {
      p = q + 1;
      continue;
    }
    return q < n ? q + 1 : n;
  }
}

/** The line of offset `p` in a record starting at `pos` on `line` (counted from the start when undefined). */
function errorLine(s: string, pos: number, p: number, line: number | undefined): number {
  return countLines(s, pos, p, line ?? countLines(s, 0, pos, 1));
}

function countLines(s: string, from: number, to: number, line: number): number {
  let l = line;
  let i = s.indexOf("\n", from);
  while (i !== -1 && i < to) {
    l++;
    i = s.indexOf("\n", i + 1);
  }
  return l;
}

/** Length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The allowed range of the byte after a lead byte (WHATWG: no overlongs, surrogates or > U+10FFFF). */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/**
 * Where `bytes` (starting at a sequence boundary) stop being UTF-8: the index of the first byte that
 * starts an invalid sequence, or of a sequence cut off by the end; undefined when all is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    const n = sequenceLength(lead);
    if (n === 0) return i;
    for (let k = 1; k < n; k++) {
      const b = bytes[i + k];
      const [lo, hi] = k === 1 ? secondByteRange(lead) : [0x80, 0xbf];
      if (b === undefined || b < lo || b > hi) return i;
    }
    i += n;
  }
  return undefined;
}

/** How many bytes at the end of `bytes` start a sequence the next chunk completes (0 to 3). */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if (b >= 0x80 && b <= 0xbf) continue; // a continuation byte: look further back
    const n = sequenceLength(b);
    return n > back ? back : 0;
  }
  return 0;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Decodes bytes as strict UTF-8: any invalid sequence fails the whole file with `UNSUPPORTED_INPUT`
 * naming the offset of the first bad byte (a Latin-1 export must be re-encoded before upload, not
 * silently mangled).
 */
export async function* decodeUtf8(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  sourceKey = "<input>",
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  /** Bytes before the current chunk; `pending` are the last of them, a sequence the chunk continues. */
  let offset = 0;
  let pending = new Uint8Array(0);
  const fail = (cause: unknown, chunk: Uint8Array): never => {
    // The decoder says only that something is wrong: find the byte, from the pending sequence's start.
    const start = offset - pending.length;
    const byteOffset =
      start + (firstInvalidUtf8(concatBytes(pending, chunk)) ?? pending.length + chunk.length);
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `${sourceKey}: not valid UTF-8 at byte ${byteOffset}; re-encode the file as UTF-8 before uploading`,
      { cause, details: { sourceKey, byteOffset } },
    );
  };
  for await (const chunk of source) {
    if (typeof chunk === "string") {
      yield chunk;
      continue;
    }
    let text = "";
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch (error) {
      fail(error, chunk);
    }
    const window = concatBytes(pending, chunk.subarray(Math.max(0, chunk.length - 3)));
    pending = window.slice(window.length - incompleteTail(window));
    offset += chunk.byteLength;
    if (text.length > 0) yield text;
  }
  let tail = "";
  try {
    tail = decoder.decode();
  } catch (error) {
    fail(error, new Uint8Array(0));
  }
  if (tail.length > 0) yield tail;
}

/** Streams CSV records (in batches, to keep per-record async overhead off the hot path). */
export async function* readCsvBatches(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  sourceKey = "<input>",
): AsyncGenerator<CsvRecord[]> {
  const parser = new CsvParser(sourceKey);
  for await (const text of decodeUtf8(source, sourceKey)) {
    const records = parser.push(text);
    if (records.length > 0) yield records;
  }
  const last = parser.end();
  if (last.length > 0) yield last;
}

const NEEDS_QUOTES = /[",\n\r]/;

/** Formats one field the way pandas' `to_csv` (QUOTE_MINIMAL) does. */
export function formatCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Formats one record, LF-terminated. */
export function formatCsvRecord(fields: readonly string[]): string {
  return `${fields.map(formatCsvField).join(",")}\n`;
}
