/**
 * The packed interaction log stored in a user item. A set keyed by (page, first-access timestamp):
 * merging two logs is a union, so files ingest in any order and re-ingestion changes nothing.
 *
 * Layout (little-endian), version 1:
 *   u8 magic 0x47 ('G') · u8 version · u32 count · then columns of `count` entries:
 *   page 16 B (UUID bytes) · timestamp f64 (epoch ms) · clicks u32 · timeOnPageMs u32 ·
 *   scroll u32 (hundredths of a percent) · pageVisits u32
 * Entries are sorted by (timestamp, page), so equal sets encode to equal bytes.
 */
export interface Interaction {
  page: string;
  timestamp: number;
  clicks: number;
  timeOnPageMs: number;
  scrollPercentage: number;
  pageVisits: number;
}

export const LOG_MAGIC = 0x47;
export const LOG_VERSION = 1;
export const LOG_HEADER_BYTES = 6;
export const LOG_BYTES_PER_INTERACTION = 40;
/** Cap on interactions kept in an item: 8,192 × 40 B = 320 KB, leaving room for the rest of the item. */
export const MAX_LOG_INTERACTIONS = 8_192;

const U32_MAX = 0xffff_ffff;
const clampU32 = (value: number) => Math.min(U32_MAX, Math.max(0, Math.round(value)));

export function interactionKey(i: Pick<Interaction, "page" | "timestamp">): string {
  return `${i.timestamp}|${i.page}`;
}

function compareInteractions(a: Interaction, b: Interaction): number {
  return a.timestamp - b.timestamp || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0);
}

/** Value of each lowercase hex digit by char code (-1: not one). */
const HEX_VALUE = Int8Array.from({ length: 128 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1,
);

/**
 * Writes a lowercase UUID's 16 bytes at `offset`; throws a RangeError on anything else. One pass over
 * char codes: this runs for every interaction the engine encodes (it was a tenth of its CPU as a
 * regular expression plus `parseInt` per byte).
 */
export function uuidToBytes(uuid: string, out: Uint8Array, offset: number): void {
  let ok = uuid.length === 36;
  for (let i = 0, j = offset; ok && i < 36; i += 2, j++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      ok = uuid.charCodeAt(i) === 45;
      i -= 1;
      j -= 1;
      continue;
    }
    const hi = HEX_VALUE[uuid.charCodeAt(i)] ?? -1;
    const lo = HEX_VALUE[uuid.charCodeAt(i + 1)] ?? -1;
    ok = hi >= 0 && lo >= 0;
    out[j] = (hi << 4) | lo;
  }
  if (!ok) throw new RangeError(`not a lowercase UUID: ${uuid}`);
}

const HEX_CODES = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/** The character codes of one UUID, reused by every call (a flat string at once, not 20 concatenations). */
const uuidCodes = new Array<number>(36).fill(0);

export function bytesToUuid(bytes: Uint8Array, offset: number): string {
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidCodes[j++] = 45; // "-"
    const b = bytes[offset + i] as number;
    uuidCodes[j++] = HEX_CODES[b >> 4] as number;
    uuidCodes[j++] = HEX_CODES[b & 15] as number;
  }
  return String.fromCharCode(...uuidCodes);
}

/** Encodes a set of interactions (duplicates by key are merged first, keeping the strongest engagement). */
export function encodeInteractionLog(interactions: readonly Interaction[]): Uint8Array {
  const entries = dedupe(interactions).sort(compareInteractions);
  const n = entries.length;
  const buf = new Uint8Array(LOG_HEADER_BYTES + n * LOG_BYTES_PER_INTERACTION);
  const view = new DataView(buf.buffer);
  buf[0] = LOG_MAGIC;
  buf[1] = LOG_VERSION;
  view.setUint32(2, n, true);
  const pages = LOG_HEADER_BYTES;
  const ts = pages + 16 * n;
  const clicks = ts + 8 * n;
  const time = clicks + 4 * n;
  const scroll = time + 4 * n;
  const visits = scroll + 4 * n;
  entries.forEach((e, i) => {
    uuidToBytes(e.page, buf, pages + 16 * i);
    view.setFloat64(ts + 8 * i, e.timestamp, true);
    view.setUint32(clicks + 4 * i, clampU32(e.clicks), true);
    view.setUint32(time + 4 * i, clampU32(e.timeOnPageMs), true);
    view.setUint32(scroll + 4 * i, clampU32(e.scrollPercentage * 100), true);
    view.setUint32(visits + 4 * i, clampU32(e.pageVisits), true);
  });
  return buf;
}

/** Decodes a packed log; throws a RangeError on anything that is not a valid version-1 log. */
export function decodeInteractionLog(buf: Uint8Array): Interaction[] {
  if (buf.length < LOG_HEADER_BYTES || buf[0] !== LOG_MAGIC) throw new RangeError("not an interaction log");
  if (buf[1] !== LOG_VERSION) throw new RangeError(`unsupported interaction log version ${buf[1]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getUint32(2, true);
  if (buf.length !== LOG_HEADER_BYTES + n * LOG_BYTES_PER_INTERACTION)
    throw new RangeError(`interaction log of ${n} entries has ${buf.length} bytes`);
  const pages = LOG_HEADER_BYTES;
  const ts = pages + 16 * n;
  const clicks = ts + 8 * n;
  const time = clicks + 4 * n;
  const scroll = time + 4 * n;
  const visits = scroll + 4 * n;
  const out: Interaction[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      page: bytesToUuid(buf, pages + 16 * i),
      timestamp: view.getFloat64(ts + 8 * i, true),
      clicks: view.getUint32(clicks + 4 * i, true),
      timeOnPageMs: view.getUint32(time + 4 * i, true),
      scrollPercentage: view.getUint32(scroll + 4 * i, true) / 100,
      pageVisits: view.getUint32(visits + 4 * i, true),
    };
  }
  return out;
}

/** Reads only the page ids of a packed log (the API's exclusion set), without decoding the rest. */
export function logPages(buf: Uint8Array): Set<string> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getUint32(2, true);
  const pages = new Set<string>();
  for (let i = 0; i < n; i++) pages.add(bytesToUuid(buf, LOG_HEADER_BYTES + 16 * i));
  return pages;
}

/**
 * Set union of interaction logs. The same (page, timestamp) seen twice keeps the larger engagement
 * values, which makes the union commutative, associative and idempotent.
 */
export function mergeInteractions(...logs: readonly (readonly Interaction[])[]): Interaction[] {
  return dedupe(logs.flat()).sort(compareInteractions);
}

function dedupe(interactions: readonly Interaction[]): Interaction[] {
  const byKey = new Map<string, Interaction>();
  for (const i of interactions) {
    const key = interactionKey(i);
    const seen = byKey.get(key);
    byKey.set(
      key,
      seen === undefined
        ? { ...i }
        : {
            page: i.page,
            timestamp: i.timestamp,
            clicks: Math.max(seen.clicks, i.clicks),
            timeOnPageMs: Math.max(seen.timeOnPageMs, i.timeOnPageMs),
            scrollPercentage: Math.max(seen.scrollPercentage, i.scrollPercentage),
            pageVisits: Math.max(seen.pageVisits, i.pageVisits),
          },
    );
  }
  return [...byKey.values()];
}

/** Splits a merged log at the cap: the newest `max` stay, the rest are evicted (their pages go to the Bloom filter). */
export function capLog(
  sorted: readonly Interaction[],
  max = MAX_LOG_INTERACTIONS,
): { kept: Interaction[]; evicted: Interaction[] } {
  if (sorted.length <= max) return { kept: [...sorted], evicted: [] };
  return { kept: sorted.slice(sorted.length - max), evicted: sorted.slice(0, sorted.length - max) };
}
