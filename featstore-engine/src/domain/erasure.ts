import { erasureHash, forEachReaderIdToken, readerIdTokens } from "@gplay/common";
import { CsvParser, type CsvRecord, csvRecordEnds } from "./csv.js";
import { ownCopy } from "./own-copy.js";

/**
 * Pure pieces of erasure: which readers a text names, and the text without the rows of erased readers.
 * The erased set holds ledger hashes (`erasureHash`), so a run may start from hashes alone (the api's
 * requests) and learn the clear ids from the stores it reads.
 */
/** Ids the hash path remembers at most (~16 MB of 64-character ids and map entries). */
export const ID_MEMO_LIMIT = 131_072;

export class ErasedReaders {
  /** The readers' ledger hashes (`erasureHash`). */
  readonly #hashes: Set<string>;
  /**
   * An id as met → its own lower-case copy when it is an erased reader's, else false (hash path). At
   * most `ID_MEMO_LIMIT` ids: emptied when full, so the lake's readers (~580 K at full scale, 72 MB as
   * a map) do not set the erasure's memory; an id met again after is hashed again.
   */
  readonly #memo = new Map<string, string | false>();
  /**
   * Every reader's clear id (lower case) → itself, when the caller knows each hash's id: then an id met
   * in a store is looked up as it is, with no hash computed and nothing remembered per id (a batch
   * meets every reader of the lake: ~580 K ids hashed and memoised at full scale).
   */
  readonly #clear: ReadonlyMap<string, string> | undefined;
  /**
   * Clear ids met while scanning (the users table and event ids are keyed by them). Each is a string
   * of its own, never the token as cut from a text: V8 keeps a slice's whole parent string alive, and a
   * batch met in every raw file kept every file's decoded text (#20: a batch of 1,000 readers ran out
   * of the engine's 640 MB heap at full scale).
   */
  readonly seen = new Set<string>();

  /**
   * `clearIds`: ids already met in a store (counted as seen). `known`: ids whose hashes are among
   * `hashes`, known without being met (the ids a request names); used only when they cover every hash.
   */
  constructor(hashes: Iterable<string>, clearIds: Iterable<string> = [], known: Iterable<string> = []) {
    this.#hashes = new Set(hashes);
    for (const id of clearIds)
      if (this.#hashes.has(erasureHash(id))) this.seen.add(ownCopy(id.toLowerCase()));
    const clear = new Map(
      [...known]
        .map((id) => ownCopy(id.toLowerCase()))
        .filter((id) => this.#hashes.has(erasureHash(id)))
        .map((id) => [id, id]),
    );
    this.#clear = clear.size === this.#hashes.size ? clear : undefined;
  }

  /** Ids remembered by the hash path (at most `ID_MEMO_LIMIT`). */
  get remembered(): number {
    return this.#memo.size;
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
    return this.#match(userId) !== undefined;
  }

  /**
   * The erased reader an id met in a store names, as the lower-case string this set keeps (never the
   * id as given, which may be a slice of a whole text), or undefined; remembers it as seen.
   */
  #match(userId: string): string | undefined {
    if (this.#clear !== undefined) {
      // Stores hold lower case: an id is lower-cased only when it is not found as met.
      let own = this.#clear.get(userId);
      if (own === undefined) {
        const lower = userId.toLowerCase();
        if (lower !== userId) own = this.#clear.get(lower);
      }
      if (own !== undefined) this.seen.add(own);
      return own;
    }
    // The id as met first (stores hold lower case): no lower-casing for an id seen before.
    const known = this.#memo.get(userId);
    if (known !== undefined) return known === false ? undefined : known;
    if (this.#memo.size > ID_MEMO_LIMIT - 2) this.#memo.clear();
    const id = userId.toLowerCase();
    let match = this.#memo.get(id);
    if (match === undefined) {
      const own = ownCopy(id);
      match = this.#hashes.has(erasureHash(own)) ? own : false;
      this.#memo.set(own, match);
      if (match !== false) this.seen.add(match);
    }
    if (id !== userId) this.#memo.set(ownCopy(userId), match);
    return match === false ? undefined : match;
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

  /** The erased readers a text names (each once, as first met; every 64-hex token is looked at). */
  readersIn(text: string): string[] {
    const found = new Set<string>();
    forEachReaderIdToken(text, (start, end) => {
      const own = this.#match(text.slice(start, end));
      if (own !== undefined) found.add(own);
    });
    return [...found];
  }

  /** Where the text names an erased reader: the start of each such token, ascending. */
  positions(text: string): number[] {
    return this.locate(text).positions;
  }

  /**
   * One token scan of a text: the erased readers it names (each once, as first met: `readersIn`) and
   * where (the start of each such token, ascending: `positions`), so a text found holding readers is
   * cut (`scrubCsvOfReaders`) without being scanned again.
   */
  locate(text: string): { readers: string[]; positions: number[] } {
    const found = new Set<string>();
    const positions: number[] = [];
    forEachReaderIdToken(text, (start, end) => {
      const own = this.#match(text.slice(start, end));
      if (own === undefined) return;
      found.add(own);
      positions.push(start);
    });
    return { readers: [...found], positions };
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
 * the records are delimited by the parser's own scan (`csvRecordEnds`: no field is built) up to the
 * last hit, and every record holding such a token is cut out with the blank lines after it; all else
 * keeps its exact bytes. Quoting the parser refuses fails as the parser reports it. `hits`: where the
 * text names the readers (`erased.locate(text).positions`), when the caller has scanned it already.
 */
export function scrubCsvOfReaders(
  text: string,
  erased: ErasedReaders,
  hits: readonly number[] = erased.positions(text),
): Scrubbed {
  if (hits.length === 0) return { text, removed: 0 };
  const out: string[] = [];
  let copied = 0;
  let removed = 0;
  let next = 0;
  let header = true;
  let from = 0;
  // Where the cut in progress starts (a dropped record, then the blank lines after it, which go with it
  // as `scrubCsv` cuts them), or -1.
  let cutFrom = -1;
  for (const to of csvRecordEnds(text)) {
    const blank = to - from <= 2 && /^\r?\n$/.test(text.slice(from, to));
    if (cutFrom !== -1 && !blank) {
      out.push(text.slice(copied, cutFrom));
      copied = from;
      cutFrom = -1;
    }
    if (cutFrom === -1) {
      if (next >= hits.length) break;
      if (!blank && !header && (hits[next] as number) < to) {
        cutFrom = from;
        removed += 1;
      } else if (!blank) header = false;
    }
    from = to;
    while (next < hits.length && (hits[next] as number) < from) next++;
  }
  if (cutFrom !== -1) {
    out.push(text.slice(copied, cutFrom));
    copied = from;
  }
  out.push(text.slice(copied));
  let body = out.join("");
  // A text without a final newline keeps none when its last record goes.
  if (!text.endsWith("\n") && body.endsWith("\n")) body = body.slice(0, -1);
  return { text: body, removed };
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
