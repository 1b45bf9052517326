import { createHash } from "node:crypto";
import {
  type DropReason,
  type ImpressionLogRow,
  type IngestionCounts,
  type Interaction,
  type ItensRow,
  itensRowSchema,
  parseImpressionLogFields,
  QUARANTINE_REASONS,
  type QuarantineReason,
  type QuarantineRecord,
  RAW_HEADERS,
  type RawFileKind,
  type TreinoRow,
  treinoRowSchema,
  type ValidacaoRow,
  validacaoRowSchema,
} from "@gplay/common";
import type { CsvRecord } from "./csv.js";
import { parseItensDate, parseNumpyNumberList, parseNumpyStringList, splitTreinoList } from "./raw-format.js";

export type UserType = "Logged" | "Non-Logged";

/** A reader, as named by a treino or validacao row. */
export interface UserRef {
  userId: string;
  userType: UserType;
}

/** One interaction of the `interactions` dataset: common's `Interaction` plus its reader. */
export type UserInteraction = Interaction & UserRef;

/** One later access of the `validation` dataset. */
export interface ValidationAccess extends UserRef {
  page: string;
  timestamp: number;
}

export interface TreinoOutcome {
  kind: "treino";
  line: number;
  /** The cleaned row: editorial ids and their aligned values removed, historySize adjusted. */
  row: TreinoRow;
  user: UserRef;
  /** In history order (first access). */
  interactions: Interaction[];
  elementsDropped: number;
}

export interface ValidacaoOutcome {
  kind: "validacao";
  line: number;
  row: ValidacaoRow;
  accesses: ValidationAccess[];
  elementsDropped: number;
}

export interface ItensOutcome {
  kind: "itens";
  line: number;
  row: ItensRow;
}

/** One row of the api's impression log (a served list, a shadow list, a click or a client impression). */
export interface ImpressionsOutcome {
  kind: "impressions";
  line: number;
  row: ImpressionLogRow;
}

export interface QuarantineOutcome {
  kind: "quarantine";
  record: QuarantineRecord;
}

export type AcceptedOutcome = TreinoOutcome | ValidacaoOutcome | ItensOutcome | ImpressionsOutcome;
export type RowOutcome = AcceptedOutcome | QuarantineOutcome;

/** Counts of one file; `rowsIn === rowsAccepted + rowsQuarantined` always holds. */
export interface CleanCounts {
  rowsIn: number;
  rowsAccepted: number;
  rowsQuarantined: number;
  elementsDropped: number;
  /** `elementsDropped` by reason; the reasons add up to it. */
  droppedByReason: Record<DropReason, number>;
  /** Interactions (treino), accesses (validacao) or articles (itens) in accepted rows. */
  records: number;
  byReason: Record<QuarantineReason, number>;
}

export function emptyReasonCounts(): Record<QuarantineReason, number> {
  return Object.fromEntries(QUARANTINE_REASONS.map((r) => [r, 0])) as Record<QuarantineReason, number>;
}

/** Editorial page ids in treino histories: they never match an item and are dropped element-wise. */
export const EDITORIAL_ID_PREFIX = "esid:";

/** Lowercase RFC 4122 UUID (the log encoding needs lowercase; zod's uuid needs version/variant). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const USER_ID = /^[0-9a-f]{64}$/;
const UNSIGNED_INT = /^\d+$/;
const UNSIGNED_DECIMAL = /^\d+(?:\.\d+)?$/;
const NEGATIVE_NUMBER = /^-\d+(?:\.\d+)?$/;
const MIN_EPOCH_MS = 946_684_800_000;
const MAX_EPOCH_MS = 4_102_444_800_000;
const USER_TYPES: ReadonlySet<string> = new Set(["Logged", "Non-Logged"]);

export function isPageId(value: string): boolean {
  return UUID.test(value);
}

/** A row-level fault: the whole row goes to quarantine with this reason. */
class RowFault extends Error {
  constructor(
    readonly reason: QuarantineReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const fault = (reason: QuarantineReason, detail: string): never => {
  throw new RowFault(reason, detail);
};

function parseEpochMs(value: string, column: string, index?: number): number {
  const at = index === undefined ? column : `${column}[${index}]`;
  if (!UNSIGNED_INT.test(value) || value.length > 16)
    fault("BAD_TIMESTAMP", `${at} is not an epoch-millisecond integer: ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < MIN_EPOCH_MS || n > MAX_EPOCH_MS) fault("BAD_TIMESTAMP", `${at} is out of range: ${value}`);
  return n;
}

function parseCount(value: string, column: string, index?: number): number {
  if (UNSIGNED_INT.test(value)) return Number(value);
  const at = index === undefined ? column : `${column}[${index}]`;
  if (NEGATIVE_NUMBER.test(value)) fault("NEGATIVE_VALUE", `${at} is negative: ${value}`);
  return fault("BAD_NUMBER", `${at} is not a non-negative integer: ${JSON.stringify(value)}`);
}

function parseDecimal(value: string, column: string, index: number): number {
  if (UNSIGNED_DECIMAL.test(value)) return Number(value);
  if (NEGATIVE_NUMBER.test(value)) fault("NEGATIVE_VALUE", `${column}[${index}] is negative: ${value}`);
  return fault("BAD_NUMBER", `${column}[${index}] is not a number: ${JSON.stringify(value)}`);
}

function checkUser(userId: string, userType: string): UserRef {
  if (!USER_ID.test(userId)) fault("BAD_USER_ID", `userId is not 64 lowercase hex characters: ${userId}`);
  if (!USER_TYPES.has(userType))
    fault("UNKNOWN_USER_TYPE", `userType must be Logged or Non-Logged, got ${JSON.stringify(userType)}`);
  return { userId, userType: userType as UserType };
}

/** Maps a zod failure of a common schema to a reason (schema messages start with a reason code). */
function schemaFault(issues: readonly { message: string; path: readonly PropertyKey[] }[]): never {
  const issue = issues[0];
  const message = issue?.message ?? "schema check failed";
  const prefixed = QUARANTINE_REASONS.find((r) => message.startsWith(`${r}:`));
  const column = String(issue?.path[0] ?? "");
  const byColumn: Record<string, QuarantineReason> = {
    userId: "BAD_USER_ID",
    userType: "UNKNOWN_USER_TYPE",
    page: "BAD_UUID",
    history: "BAD_UUID",
    pages: "BAD_UUID",
    impressionId: "BAD_UUID",
    scores: "BAD_NUMBER",
    latencyMs: "BAD_NUMBER",
    eventType: "BAD_VALUE",
    arm: "BAD_VALUE",
    strategy: "BAD_VALUE",
    modelVersion: "BAD_VALUE",
    url: "BAD_URL",
    issued: "BAD_DATE",
    modified: "BAD_DATE",
  };
  const reason =
    prefixed ?? byColumn[column] ?? (column.startsWith("timestamp") ? "BAD_TIMESTAMP" : "BAD_NUMBER");
  return fault(reason, `${column}: ${message}`);
}

interface NumericColumn {
  name: string;
  kind: "epoch" | "count" | "decimal";
}

const NUMERIC_COLUMNS: readonly NumericColumn[] = [
  { name: "timestampHistory", kind: "epoch" },
  { name: "numberOfClicksHistory", kind: "count" },
  { name: "timeOnPageHistory", kind: "count" },
  { name: "scrollPercentageHistory", kind: "decimal" },
  { name: "pageVisitsCountHistory", kind: "count" },
  { name: "timestampHistory_new", kind: "epoch" },
];

/**
 * Fast path for a ", "-joined list of unsigned numbers: one scan, no substrings for integers (the
 * treino hot loop allocated most of its garbage there). Returns undefined on anything irregular,
 * and the caller re-parses with `parseNumberList` to name the exact fault.
 */
function scanNumberList(field: string, column: NumericColumn): number[] | undefined {
  const out: number[] = [];
  const n = field.length;
  let i = 0;
  while (i < n) {
    const start = i;
    let value = 0;
    while (i < n) {
      const c = field.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 15) return undefined;
    if (i < n && field.charCodeAt(i) === 46) {
      if (column.kind !== "decimal") return undefined;
      const dot = i++;
      while (i < n && field.charCodeAt(i) >= 48 && field.charCodeAt(i) <= 57) i++;
      if (i === dot + 1) return undefined;
      value = Number(field.slice(start, i));
    }
    if (column.kind === "epoch" && (digits > 16 || value < MIN_EPOCH_MS || value > MAX_EPOCH_MS))
      return undefined;
    out.push(value);
    if (i === n) break;
    if (field.charCodeAt(i) !== 44 || field.charCodeAt(i + 1) !== 32 || i + 2 === n) return undefined;
    i += 2;
  }
  return out;
}

/** Exact (slow) path: splits the list and validates each element, faulting with its reason. */
function parseNumberList(field: string, column: NumericColumn): number[] {
  return splitTreinoList(field).map((value, i) =>
    column.kind === "epoch"
      ? parseEpochMs(value, column.name, i)
      : column.kind === "count"
        ? parseCount(value, column.name, i)
        : parseDecimal(value, column.name, i),
  );
}

const TREINO_LISTS = [
  "history",
  "timestampHistory",
  "numberOfClicksHistory",
  "timeOnPageHistory",
  "scrollPercentageHistory",
  "pageVisitsCountHistory",
  "timestampHistory_new",
] as const;

function cleanTreino(fields: string[], line: number, schemaCheck: boolean): Omit<TreinoOutcome, "kind"> {
  const [userId, userType, historySizeText, ...lists] = fields as [string, string, string, ...string[]];
  if (userId === "" || userType === "" || historySizeText === "")
    fault("MISSING_FIELD", "userId, userType and historySize are required");
  if (lists.every((l) => l === "")) fault("EMPTY_HISTORY", "the row has no history");
  const emptyList = lists.indexOf("");
  if (emptyList !== -1) fault("MISSING_FIELD", `${TREINO_LISTS[emptyList]} is empty`);
  const user = checkUser(userId, userType);
  const historySize = parseCount(historySizeText, "historySize");
  const history = splitTreinoList(lists[0] as string);
  const [ts, clicks, time, scroll, visits, tsNew] = NUMERIC_COLUMNS.map(
    (column, k) =>
      scanNumberList(lists[k + 1] as string, column) ?? parseNumberList(lists[k + 1] as string, column),
  ) as [number[], number[], number[], number[], number[], number[]];
  const n = history.length;
  for (const [i, list] of [ts, clicks, time, scroll, visits, tsNew].entries()) {
    if (list.length !== n)
      fault(
        "LIST_LENGTH_MISMATCH",
        `history has ${n} values but ${TREINO_LISTS[i + 1]} has ${list.length}; the lists must align`,
      );
  }
  if (historySize !== n)
    fault("HISTORY_SIZE_MISMATCH", `historySize is ${historySize} but the lists hold ${n}`);

  const row: TreinoRow = {
    userId: user.userId,
    userType: user.userType,
    historySize: 0,
    history: [],
    timestampHistory: [],
    numberOfClicksHistory: [],
    timeOnPageHistory: [],
    scrollPercentageHistory: [],
    pageVisitsCountHistory: [],
    timestampHistory_new: [],
  };
  const interactions: Interaction[] = [];
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const page = history[i] as string;
    // Values of every element were validated, dropped ones included: a corrupt row is corrupt.
    const timestamp = ts[i] as number;
    const c = clicks[i] as number;
    const t = time[i] as number;
    const s = scroll[i] as number;
    const v = visits[i] as number;
    const tn = tsNew[i] as number;
    if (page.startsWith(EDITORIAL_ID_PREFIX)) {
      dropped++;
      continue;
    }
    if (!UUID.test(page)) fault("BAD_UUID", `history[${i}] is not a page id: ${JSON.stringify(page)}`);
    row.history.push(page);
    row.timestampHistory.push(timestamp);
    row.numberOfClicksHistory.push(c);
    row.timeOnPageHistory.push(t);
    row.scrollPercentageHistory.push(s);
    row.pageVisitsCountHistory.push(v);
    row.timestampHistory_new.push(tn);
    interactions.push({ page, timestamp, clicks: c, timeOnPageMs: t, scrollPercentage: s, pageVisits: v });
  }
  // A row of editorial ids only is well-formed: accepted with no interactions, its elements dropped.
  row.historySize = interactions.length;
  if (schemaCheck) {
    const parsed = treinoRowSchema.safeParse(row);
    if (!parsed.success) schemaFault(parsed.error.issues);
  }
  return { line, row, user, interactions, elementsDropped: dropped };
}

function cleanValidacao(
  fields: string[],
  line: number,
  schemaCheck: boolean,
): Omit<ValidacaoOutcome, "kind"> {
  const [userId, userType, historyText, tsText] = fields as [string, string, string, string];
  if (userId === "" || userType === "") fault("MISSING_FIELD", "userId and userType are required");
  if (historyText === "" && tsText === "") fault("EMPTY_HISTORY", "the row has no accesses");
  if (historyText === "" || tsText === "")
    fault("MISSING_FIELD", "history and timestampHistory are required");
  const user = checkUser(userId, userType);
  const history = parseNumpyStringList(historyText);
  if (history === undefined) fault("BAD_UUID", `history is not a numpy list of page ids: ${historyText}`);
  const stamps = parseNumpyNumberList(tsText);
  if (stamps === undefined) fault("BAD_TIMESTAMP", `timestampHistory is not a numpy list: ${tsText}`);
  const ids = history as string[];
  const times = stamps as string[];
  if (ids.length === 0 && times.length === 0) fault("EMPTY_HISTORY", "the row has no accesses");
  if (ids.length !== times.length)
    fault("LIST_LENGTH_MISMATCH", `history has ${ids.length} ids but timestampHistory has ${times.length}`);
  const row: ValidacaoRow = {
    userId: user.userId,
    userType: user.userType,
    history: [],
    timestampHistory: [],
  };
  const accesses: ValidationAccess[] = [];
  let dropped = 0;
  for (let i = 0; i < ids.length; i++) {
    const page = ids[i] as string;
    const timestamp = parseEpochMs(times[i] as string, "timestampHistory", i);
    if (page.startsWith(EDITORIAL_ID_PREFIX)) {
      dropped++;
      continue;
    }
    if (!UUID.test(page)) fault("BAD_UUID", `history[${i}] is not a page id: ${JSON.stringify(page)}`);
    row.history.push(page);
    row.timestampHistory.push(timestamp);
    accesses.push({ ...user, page, timestamp });
  }
  if (accesses.length === 0) fault("EMPTY_HISTORY", `all ${dropped} ids are editorial (esid:) ids`);
  if (schemaCheck) {
    const parsed = validacaoRowSchema.safeParse(row);
    if (!parsed.success) schemaFault(parsed.error.issues);
  }
  return { line, row, accesses, elementsDropped: dropped };
}

const HTTP_URL = /^https?:\/\/\S+$/;

function cleanItens(fields: string[], line: number, schemaCheck: boolean): Omit<ItensOutcome, "kind"> {
  const [page, url, issuedText, modifiedText, title, body, caption] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (page === "" || url === "" || issuedText === "" || modifiedText === "")
    fault("MISSING_FIELD", "page, url, issued and modified are required");
  if (!UUID.test(page)) fault("BAD_UUID", `page is not a UUID: ${JSON.stringify(page)}`);
  if (!HTTP_URL.test(url) || !URL.canParse(url))
    fault("BAD_URL", `url is not an http(s) URL: ${JSON.stringify(url)}`);
  const issued = parseItensDate(issuedText);
  if (issued === undefined) fault("BAD_DATE", `issued is not YYYY-MM-DD HH:MM:SS+00:00: ${issuedText}`);
  const modified = parseItensDate(modifiedText);
  if (modified === undefined) fault("BAD_DATE", `modified is not YYYY-MM-DD HH:MM:SS+00:00: ${modifiedText}`);
  const row: ItensRow = {
    page,
    url,
    issued: issued as number,
    modified: modified as number,
    title,
    body,
    caption,
  };
  if (schemaCheck) {
    const parsed = itensRowSchema.safeParse(row);
    if (!parsed.success) schemaFault(parsed.error.issues);
  }
  return { line, row };
}

/**
 * An impression-log row: checked by common's schema alone (the api wrote it with the same contract;
 * the hand checks above exist for the G1 files' volume and quirks).
 */
function cleanImpressions(fields: string[], line: number): Omit<ImpressionsOutcome, "kind"> {
  const parsed = parseImpressionLogFields(fields);
  if (!parsed.success) schemaFault(parsed.error.issues);
  return { line, row: (parsed as { data: ImpressionLogRow }).data };
}

export interface RowCleanerOptions {
  /** Re-check every accepted row with common's zod schema (default true; the hand checks come first). */
  schemaCheck?: boolean;
}

/**
 * Cleans the rows of one file: every row is either accepted (typed) or quarantined with a reason,
 * and the counts add up. Stateful only for duplicate detection (an exact repeat of an accepted row).
 */
export class RowCleaner {
  readonly counts: CleanCounts = {
    rowsIn: 0,
    rowsAccepted: 0,
    rowsQuarantined: 0,
    elementsDropped: 0,
    droppedByReason: { EDITORIAL_ID: 0 },
    records: 0,
    byReason: emptyReasonCounts(),
  };
  private readonly seen = new Set<string>();
  private readonly width: number;
  private readonly schemaCheck: boolean;

  constructor(
    readonly kind: RawFileKind,
    readonly sourceKey: string,
    options: RowCleanerOptions = {},
  ) {
    this.width = RAW_HEADERS[kind].length;
    this.schemaCheck = options.schemaCheck ?? true;
  }

  clean(record: CsvRecord): RowOutcome {
    this.counts.rowsIn++;
    const { fields, line } = record;
    try {
      if (fields.length !== this.width)
        fault(
          "WRONG_FIELD_COUNT",
          `expected ${this.width} fields for a ${this.kind} row, got ${fields.length}`,
        );
      let outcome: AcceptedOutcome;
      let records: number;
      let dropped = 0;
      if (this.kind === "treino") {
        const o = cleanTreino(fields, line, this.schemaCheck);
        outcome = { kind: "treino", ...o };
        records = o.interactions.length;
        dropped = o.elementsDropped;
      } else if (this.kind === "validacao") {
        const o = cleanValidacao(fields, line, this.schemaCheck);
        outcome = { kind: "validacao", ...o };
        records = o.accesses.length;
        dropped = o.elementsDropped;
      } else if (this.kind === "impressions") {
        outcome = { kind: "impressions", ...cleanImpressions(fields, line) };
        records = 1;
      } else {
        outcome = { kind: "itens", ...cleanItens(fields, line, this.schemaCheck) };
        records = 1;
      }
      const key = createHash("sha1").update(fields.join("\u0000")).digest("base64").slice(0, 20);
      if (this.seen.has(key)) fault("DUPLICATE_ROW", "an identical row was already accepted from this file");
      this.seen.add(key);
      this.counts.rowsAccepted++;
      this.counts.records += records;
      this.counts.elementsDropped += dropped;
      // The only elements dropped from an accepted row are editorial (esid:) ids.
      this.counts.droppedByReason.EDITORIAL_ID += dropped;
      return outcome;
    } catch (error) {
      if (!(error instanceof RowFault)) throw error;
      this.counts.rowsQuarantined++;
      this.counts.byReason[error.reason]++;
      return {
        kind: "quarantine",
        record: { sourceKey: this.sourceKey, line, reason: error.reason, detail: error.detail, fields },
      };
    }
  }
}

/** The rows of the `interactions` dataset from an accepted treino row. */
export function toUserInteractions(outcome: TreinoOutcome): UserInteraction[] {
  return outcome.interactions.map((i) => ({
    ...i,
    userId: outcome.user.userId,
    userType: outcome.user.userType,
  }));
}

/** A file's counts in the shape of common's `IngestionCounts` (the ingestion marker and report). */
export function toIngestionCounts(counts: CleanCounts, itemsWritten = 0): IngestionCounts {
  return {
    rowsIn: counts.rowsIn,
    rowsAccepted: counts.rowsAccepted,
    rowsQuarantined: counts.rowsQuarantined,
    elementsDropped: counts.elementsDropped,
    elementsDroppedByReason: { ...counts.droppedByReason },
    itemsWritten,
  };
}
