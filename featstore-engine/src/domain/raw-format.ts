/**
 * The value encodings inside G1 CSV fields, both ways: the parser and the generator share them, so
 * generated files are written exactly as they are read (and the conformance script round-trips
 * real rows through them).
 */

/** treino list columns: one field, values joined by ", ". An empty field is an empty list. */
export function splitTreinoList(field: string): string[] {
  return field.length === 0 ? [] : field.split(", ");
}

export function joinTreinoList(values: readonly string[]): string {
  return values.join(", ");
}

/** Number text as pandas writes a float column (always with a decimal point: 50.0, 18.18). */
export function formatFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

const NUMPY_STRING = /'([^']*)'/g;

/**
 * numpy-printed string array, e.g. `['id1'\n 'id2']`. Returns undefined when the text is not
 * such an array (anything but quoted strings and whitespace between the brackets).
 */
export function parseNumpyStringList(field: string): string[] | undefined {
  const text = field.trim();
  if (text.length < 2 || text[0] !== "[" || text[text.length - 1] !== "]") return undefined;
  const inner = text.slice(1, -1);
  const values: string[] = [];
  let last = 0;
  for (const match of inner.matchAll(NUMPY_STRING)) {
    if (inner.slice(last, match.index).trim() !== "") return undefined;
    values.push(match[1] as string);
    last = (match.index ?? 0) + match[0].length;
  }
  if (inner.slice(last).trim() !== "") return undefined;
  return values;
}

/** numpy-printed integer array, e.g. `[1660533136590 1660672113513]`; undefined when malformed. */
export function parseNumpyNumberList(field: string): string[] | undefined {
  const text = field.trim();
  if (text.length < 2 || text[0] !== "[" || text[text.length - 1] !== "]") return undefined;
  const inner = text.slice(1, -1).trim();
  return inner.length === 0 ? [] : inner.split(/\s+/);
}

/**
 * numpy's array printing (`str(array)`, numpy >= 1.14): elements wrap onto a new line indented by one
 * space when the line would pass 75 - len("]") characters.
 */
const NUMPY_ELEMENT_WIDTH = 74;

function formatNumpyArray(items: readonly string[]): string {
  let out = "[";
  let line = 1; // numpy's hanging indent stands in for "["
  items.forEach((item, i) => {
    if (i > 0) line += 1; // the separator
    if (i > 0 && line + item.length > NUMPY_ELEMENT_WIDTH) {
      out += "\n ";
      line = 1;
    } else if (i > 0) out += " ";
    out += item;
    line += item.length;
  });
  return `${out}]`;
}

/** Formats page ids the way numpy prints a string array (`['a'\n 'b']`). */
export function formatNumpyStringList(values: readonly string[]): string {
  return formatNumpyArray(values.map((v) => `'${v}'`));
}

/** Formats integers the way numpy prints an int64 array (`[1 2]`). */
export function formatNumpyNumberList(values: readonly number[]): string {
  return formatNumpyArray(values.map((v) => String(v)));
}

const ITENS_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2}):(\d{2})$/;

/** `YYYY-MM-DD HH:MM:SS+00:00` (any offset) → epoch ms; undefined when invalid. */
export function parseItensDate(field: string): number | undefined {
  const m = ITENS_DATE.exec(field);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(utc).getUTCDate() !== day) return undefined; // 2022-02-30
  const offsetMinutes = (Number(m[9]) * 60 + Number(m[10])) * (m[8] === "-" ? -1 : 1);
  return utc - offsetMinutes * 60_000;
}

/** epoch ms → `YYYY-MM-DD HH:MM:SS+00:00` (seconds precision, as in the itens files). */
export function formatItensDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2022-08-15T02:57:16.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+00:00`;
}

/** A typed treino row back to its CSV fields (the writer of the generator; round trip of the parser). */
export function formatTreinoFields(row: {
  userId: string;
  userType: string;
  history: readonly string[];
  timestampHistory: readonly number[];
  numberOfClicksHistory: readonly number[];
  timeOnPageHistory: readonly number[];
  scrollPercentageHistory: readonly number[];
  pageVisitsCountHistory: readonly number[];
  timestampHistory_new: readonly number[];
  historySize?: number;
}): string[] {
  return [
    row.userId,
    row.userType,
    String(row.historySize ?? row.history.length),
    joinTreinoList(row.history),
    joinTreinoList(row.timestampHistory.map(String)),
    joinTreinoList(row.numberOfClicksHistory.map(String)),
    joinTreinoList(row.timeOnPageHistory.map(String)),
    joinTreinoList(row.scrollPercentageHistory.map(formatFloat)),
    joinTreinoList(row.pageVisitsCountHistory.map(String)),
    joinTreinoList(row.timestampHistory_new.map(String)),
  ];
}

export function formatValidacaoFields(row: {
  userId: string;
  userType: string;
  history: readonly string[];
  timestampHistory: readonly number[];
}): string[] {
  return [
    row.userId,
    row.userType,
    formatNumpyStringList(row.history),
    formatNumpyNumberList(row.timestampHistory),
  ];
}

export function formatItensFields(row: {
  page: string;
  url: string;
  issued: number;
  modified: number;
  title: string;
  body: string;
  caption: string;
}): string[] {
  return [
    row.page,
    row.url,
    formatItensDate(row.issued),
    formatItensDate(row.modified),
    row.title,
    row.body,
    row.caption,
  ];
}
