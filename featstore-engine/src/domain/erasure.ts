import { erasureHash, forEachReaderIdToken, readerIdTokens } from "@gplay/common";
import { CsvParser, type CsvRecord } from "./csv.js";

/**
 * Pure pieces of erasure: which readers a text names, and the text without the rows of erased readers.
 * The erased set holds ledger hashes (`erasureHash`), so a run may start from hashes alone (the api's
 * requests) and learn the clear ids from the stores it reads.
 */
export class ErasedReaders {
  /** userHash → the clear id, once a store showed it. */
  readonly #hashes: Set<string>;
  readonly #memo = new Map<string, boolean>();
  /** Clear ids met while scanning (the users table and event ids are keyed by them). */
  readonly seen = new Set<string>();

  constructor(hashes: Iterable<string>, clearIds: Iterable<string> = []) {
    this.#hashes = new Set(hashes);
    for (const id of clearIds) if (this.#hashes.has(erasureHash(id))) this.seen.add(id.toLowerCase());
  }

  get size(): number {
    return this.#hashes.size;
  }

  /** The readers' ledger hashes. */
  get hashes(): ReadonlySet<string> {
    return this.#hashes;
  }

  /** Whether an id is one of the erased readers', without counting it as seen in a store. */
  includes(userId: string): boolean {
    return this.#hashes.has(erasureHash(userId.toLowerCase()));
  }

  /** Whether a (64-hex) reader id met in a store belongs to an erased reader; remembers it as seen. */
  has(userId: string): boolean {
    // The id as met first (stores hold lower case): no lower-casing for an id seen before.
    const known = this.#memo.get(userId);
    if (known !== undefined) return known;
    const id = userId.toLowerCase();
    let hit = this.#memo.get(id);
    if (hit === undefined) {
      hit = this.#hashes.has(erasureHash(id));
      this.#memo.set(id, hit);
      if (hit) this.seen.add(id);
    }
    if (id !== userId) this.#memo.set(userId, hit);
    return hit;
  }

  /** Whether a text names an erased reader (common's token scan, stopped at the first one). */
  named(text: string): boolean {
    let found = false;
    forEachReaderIdToken(text, (start, end) => {
      found = this.has(text.slice(start, end));
      return !found;
    });
    return found;
  }

  /** Where the text names an erased reader: the start of each such token, ascending. */
  positions(text: string): number[] {
    const at: number[] = [];
    forEachReaderIdToken(text, (start, end) => {
      if (this.has(text.slice(start, end))) at.push(start);
    });
    return at;
  }

  /** How many erased readers' ids a text holds (every 64-hex token, in any column). */
  occurrences(text: string): number {
    let n = 0;
    for (const token of readerIdTokens(text)) if (this.has(token)) n += 1;
    return n;
  }
}

export interface Scrubbed {
  text: string;
  /** Records (CSV rows or JSON lines) removed. */
  removed: number;
}

/** A reader id as it may appear in any text: 64 hex digits, not part of a longer hex run. */
const READER_ID_TOKEN = /(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/g;

/**
 * A CSV text without the records `drop` picks (the header, record 0, always stays). Kept records keep
 * their exact bytes: each record is cut from the text by its physical lines (a quoted field may span
 * several); `drop` also gets the record's last physical line.
 */
export function scrubCsv(
  text: string,
  drop: (record: CsvRecord, index: number, lastLine: number) => boolean,
): Scrubbed {
  const parser = new CsvParser();
  const records = [...parser.push(text), ...parser.end()];
  const lines = text.split("\n");
  const endsWithNewline = text.endsWith("\n");
  if (endsWithNewline) lines.pop();
  const out: string[] = [];
  let removed = 0;
  records.forEach((record, i) => {
    const from = record.line - 1;
    const to = (records[i + 1]?.line ?? lines.length + 1) - 1;
    if (i > 0 && drop(record, i, to)) removed += 1;
    else out.push(...lines.slice(from, to));
  });
  const body = out.join("\n");
  return { text: endsWithNewline && out.length > 0 ? `${body}\n` : body, removed };
}

/**
 * A CSV text without every record that names an erased reader (in any field). One pass of the token
 * scan finds where the text names one; a text naming none is returned as is (not parsed). Otherwise
 * the records are delimited (not parsed: no field is built) by the parser's own rules, and every record
 * holding such a token is cut out with the blank lines after it; all else keeps its exact bytes. A text
 * whose quoting the parser would refuse goes through `scrubCsv`, which reports it as the parser does.
 */
export function scrubCsvOfReaders(text: string, erased: ErasedReaders): Scrubbed {
  const hits = erased.positions(text);
  if (hits.length === 0) return { text, removed: 0 };
  const out: string[] = [];
  let copied = 0;
  let removed = 0;
  let next = 0;
  let header = true;
  for (let from = 0; from < text.length && next < hits.length; ) {
    const to = csvRecordEnd(text, from);
    if (to === undefined) return scrubCsvByParser(text, erased);
    const blank = to - from <= 2 && /^\r?\n$/.test(text.slice(from, to));
    if (!blank && !header && (hits[next] as number) < to) {
      let cut = to;
      // Blank lines are no records: they go with the record before them (as `scrubCsv` cuts).
      for (;;) {
        if (text.charCodeAt(cut) === LF) cut += 1;
        else if (text.charCodeAt(cut) === CR && text.charCodeAt(cut + 1) === LF) cut += 2;
        else break;
      }
      out.push(text.slice(copied, from));
      copied = cut;
      removed += 1;
      from = cut;
    } else {
      if (!blank) header = false;
      from = to;
    }
    while (next < hits.length && (hits[next] as number) < from) next++;
  }
  out.push(text.slice(copied));
  let body = out.join("");
  // A text without a final newline keeps none when its last record goes.
  if (!text.endsWith("\n") && body.endsWith("\n")) body = body.slice(0, -1);
  return { text: body, removed };
}

/** The same cut through the parser (a text whose quoting `csvRecordEnd` does not follow). */
function scrubCsvByParser(text: string, erased: ErasedReaders): Scrubbed {
  const lines: number[] = [];
  let line = 1;
  let at = 0;
  for (const start of erased.positions(text)) {
    for (let lf = text.indexOf("\n", at); lf !== -1 && lf < start; lf = text.indexOf("\n", lf + 1)) line++;
    at = start;
    if (lines[lines.length - 1] !== line) lines.push(line);
  }
  // Records come in order, so one cursor over the (ascending) lines does.
  let next = 0;
  return scrubCsv(text, (record, _i, lastLine) => {
    while (next < lines.length && (lines[next] as number) < record.line) next++;
    return next < lines.length && (lines[next] as number) <= lastLine;
  });
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Where the CSV record starting at `from` ends (after its LF, or the end of the text), by the rules of
 * `CsvParser` (a field that starts with `"` runs to the next lone quote, `""` escaped, and may span
 * lines; any other field runs to a comma or LF) without building fields; undefined where the parser
 * would refuse the text (a quote left open, a character after a closing quote).
 */
export function csvRecordEnd(text: string, from: number): number | undefined {
  const n = text.length;
  let p = from;
  // The record's first LF outside quotes ends it: found once per line, not once per field.
  let lf = -2;
  for (;;) {
    if (p < n && text.charCodeAt(p) === QUOTE) {
      let q = p + 1;
      for (;;) {
        const close = text.indexOf('"', q);
        if (close === -1) return undefined;
        if (text.charCodeAt(close + 1) === QUOTE) {
          q = close + 2;
          continue;
        }
        p = close + 1;
        break;
      }
      const c = p < n ? text.charCodeAt(p) : -1;
      if (c === COMMA) {
        p += 1;
        continue;
      }
      if (c === LF) return p + 1;
      if (c === CR && text.charCodeAt(p + 1) === LF) return p + 2;
      if (c === -1) return n;
      return undefined;
    }
    if (lf !== -1 && lf < p) lf = text.indexOf("\n", p);
    const comma = text.indexOf(",", p);
    if (comma !== -1 && (lf === -1 || comma < lf)) {
      p = comma + 1;
      continue;
    }
    return lf === -1 ? n : lf + 1;
  }
}

/** A JSON Lines text (quarantine) without the lines that name an erased reader. */
export function scrubJsonLines(text: string, erased: ErasedReaders): Scrubbed {
  const lines = text.split("\n").filter((l) => l.length > 0);
  const kept = lines.filter((l) => erased.occurrences(l) === 0);
  return { text: kept.length === 0 ? "" : `${kept.join("\n")}\n`, removed: lines.length - kept.length };
}

/** A text artifact with every erased reader id replaced (its structure, e.g. JSON, stays valid). */
export function redactReaderIds(text: string, erased: ErasedReaders): Scrubbed {
  let removed = 0;
  const redacted = text.replace(READER_ID_TOKEN, (token) => {
    if (!erased.has(token)) return token;
    removed += 1;
    return "erased-reader";
  });
  return { text: redacted, removed };
}
