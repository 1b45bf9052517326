import {
  type ArticleCategory,
  COVISIT_PAIR_SHIFT,
  type ColdstartList,
  CovisitationAccumulator,
  covisitList,
  InteractionPass,
  POPULARITY_HORIZON_MS,
  PopularityAccumulator,
  type SnapshotRead,
} from "./snapshot.js";

/**
 * How far behind the newest read a snapshot keeps reads for erasures: 24 h more than the longest
 * window, so the lists can be rebuilt exactly unless the erased readers held every read of a whole day.
 */
export const AGGREGATES_RETAIN_MS = 2 * POPULARITY_HORIZON_MS;

/**
 * What a snapshot's cold-start lists are built from, kept beside it so an erasure can subtract readers
 * instead of re-reading the lake: every co-visit count, the reads of the popularity windows (with a
 * margin), and the categories of their pages. No reader id: counts and (page, time) pairs only.
 */
export interface SnapshotAggregates {
  snapshotId: string;
  asOf: number;
  /** Every read after this time is kept (`asOf` - `AGGREGATES_RETAIN_MS` when built in full). */
  readsFrom: number;
  /** Etag of every partition the snapshot covered: the lake must still match for an erasure to use it. */
  etags: Record<string, string>;
  totals: { interactions: number; items: number; validation: number; users: number };
  /** Page names; pairs and reads refer to them by index. */
  pages: string[];
  /** Section and region of the pages that have one, as `[page index, section, region]`. */
  categories: [number, string, string][];
  /** Co-visit counts once per pair: keys `a * 2^22 + b` with a < b, sorted, and their counts. */
  pairKeys: Float64Array;
  pairCounts: Uint32Array;
  /** The reads after `readsFrom`: page index and timestamp. */
  readPages: Uint32Array;
  readTimes: Float64Array;
  /** Erasure hashes of the readers already subtracted from these aggregates (since the last full build). */
  subtracted: string[];
}

/** The aggregates of a full build (the accumulators after every interaction). */
export function aggregatesOf(
  base: Pick<SnapshotAggregates, "snapshotId" | "asOf" | "etags" | "totals">,
  popularity: PopularityAccumulator,
  covisitation: CovisitationAccumulator,
  categoryOf: (page: string) => ArticleCategory | undefined,
): SnapshotAggregates {
  const counts = covisitation.pairCounts();
  const pages = [...counts.pages];
  const index = new Map(pages.map((p, i) => [p, i]));
  const idOf = (page: string) => {
    let id = index.get(page);
    if (id === undefined) {
      id = pages.length;
      index.set(page, id);
      pages.push(page);
    }
    return id;
  };
  const reads = popularity.retained();
  const readPages = Uint32Array.from(reads.pages, idOf);
  const categories: [number, string, string][] = [];
  for (const id of new Set(readPages)) {
    const c = categoryOf(pages[id] as string);
    if (c !== undefined) categories.push([id, c.section, c.region]);
  }
  return {
    ...base,
    readsFrom: base.asOf - AGGREGATES_RETAIN_MS,
    pages,
    categories,
    pairKeys: counts.keys,
    pairCounts: counts.counts,
    readPages,
    readTimes: reads.times,
    subtracted: [],
  };
}

/** A reader's row removed by an erasure from one interactions partition. */
export type RemovedInteraction = SnapshotRead;

export type Subtraction =
  | {
      ok: true;
      aggregates: SnapshotAggregates;
      /** Every popularity list, and the co-visitation lists of the articles whose counts changed. */
      lists: ColdstartList[];
      /** Distinct interactions and readers removed (as the full build counts them). */
      interactions: number;
      users: number;
    }
  | { ok: false; reason: string };

/**
 * Subtracts erased readers from a snapshot's aggregates: their rows, per interactions partition (every
 * partition that held them), deduplicated and grouped by partition in key order exactly as the full
 * build does, come off the co-visit counts and the kept reads. Returns the lists a full build over the
 * scrubbed lake would give for what changed, or why it cannot (then the caller builds in full).
 */
export function subtractReaders(
  before: SnapshotAggregates,
  partitions: readonly { key: string; removed: readonly RemovedInteraction[] }[],
  hashes: readonly string[],
): Subtraction {
  // The erased readers' contributions, computed as the full build computes everyone's.
  const erasedPairs = new CovisitationAccumulator();
  const removedReads = new Map<string, number>();
  const pass = new InteractionPass(erasedPairs, (r) => {
    if (r.timestamp <= before.readsFrom) return;
    const k = `${r.page}\n${r.timestamp}`;
    removedReads.set(k, (removedReads.get(k) ?? 0) + 1);
  });
  for (const part of [...partitions].sort((a, b) => (a.key < b.key ? -1 : 1)))
    pass.addPartition(part.removed.length, (i) => part.removed[i] as RemovedInteraction);

  // Co-visit counts: each erased pair must be there (else the aggregates are not this lake's).
  const pageIds = new Map(before.pages.map((p, i) => [p, i]));
  const pairCounts = before.pairCounts.slice();
  const affected = new Set<number>();
  const erased = erasedPairs.pairCounts();
  for (let i = 0; i < erased.keys.length; i++) {
    const key = erased.keys[i] as number;
    const x = pageIds.get(erased.pages[Math.floor(key / COVISIT_PAIR_SHIFT)] as string);
    const y = pageIds.get(erased.pages[key % COVISIT_PAIR_SHIFT] as string);
    if (x === undefined || y === undefined)
      return { ok: false, reason: "an erased read's page is not in the aggregates" };
    const [a, b] = x < y ? [x, y] : [y, x];
    const at = binarySearch(before.pairKeys, a * COVISIT_PAIR_SHIFT + b);
    const count = erased.counts[i] as number;
    if (at < 0 || (pairCounts[at] as number) < count)
      return { ok: false, reason: "an erased co-visit is not in the aggregates" };
    pairCounts[at] = (pairCounts[at] as number) - count;
    affected.add(a);
    affected.add(b);
  }
  // Pairs down to zero go; the affected articles' neighbours are gathered in one pass. The kept pairs
  // and reads go to typed arrays of the previous sizes (outside the heap, no growth by copies: 2.8 M
  // pairs at full scale), cut to length at the end.
  const keptKeys = new Float64Array(pairCounts.length);
  const keptCounts = new Uint32Array(pairCounts.length);
  let pairs = 0;
  const neighbours = new Map<number, { id: number; count: number }[]>();
  const addNeighbour = (source: number, id: number, count: number) => {
    if (!affected.has(source)) return;
    let list = neighbours.get(source);
    if (list === undefined) {
      list = [];
      neighbours.set(source, list);
    }
    list.push({ id, count });
  };
  for (let i = 0; i < pairCounts.length; i++) {
    const count = pairCounts[i] as number;
    if (count === 0) continue;
    const key = before.pairKeys[i] as number;
    keptKeys[pairs] = key;
    keptCounts[pairs] = count;
    pairs += 1;
    const a = Math.floor(key / COVISIT_PAIR_SHIFT);
    const b = key % COVISIT_PAIR_SHIFT;
    addNeighbour(a, b, count);
    addNeighbour(b, a, count);
  }
  const covisit = [...neighbours].map(([source, list]) => covisitList(before.pages, source, list));

  // Popularity: the kept reads without the erased ones, as of the newest remaining read.
  const readPages = new Uint32Array(before.readPages.length);
  const readTimes = new Float64Array(before.readTimes.length);
  let reads = 0;
  let asOf = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < before.readPages.length; i++) {
    const page = before.pages[before.readPages[i] as number] as string;
    const time = before.readTimes[i] as number;
    const k = `${page}\n${time}`;
    const left = removedReads.get(k);
    if (left !== undefined && left > 0) {
      removedReads.set(k, left - 1);
      continue;
    }
    readPages[reads] = before.readPages[i] as number;
    readTimes[reads] = time;
    reads += 1;
    if (time > asOf) asOf = time;
  }
  if ([...removedReads.values()].some((n) => n > 0))
    return { ok: false, reason: "an erased read is not in the aggregates" };
  if (reads === 0 || asOf - POPULARITY_HORIZON_MS < before.readsFrom)
    return { ok: false, reason: "the erased readers held the newest day of reads" };
  const popularity = new PopularityAccumulator({ retainMs: AGGREGATES_RETAIN_MS });
  for (let i = 0; i < reads; i++)
    popularity.add({
      page: before.pages[readPages[i] as number] as string,
      timestamp: readTimes[i] as number,
    });
  const categories = new Map(
    before.categories.map(([id, section, region]) => [before.pages[id], { section, region }]),
  );
  const lists = [...popularity.build((page) => categories.get(page)), ...covisit];

  return {
    ok: true,
    aggregates: {
      ...before,
      asOf,
      pairKeys: keptKeys.slice(0, pairs),
      pairCounts: keptCounts.slice(0, pairs),
      readPages: readPages.slice(0, reads),
      readTimes: readTimes.slice(0, reads),
      subtracted: [...new Set([...before.subtracted, ...hashes])],
    },
    lists: lists.sort((x, y) => (x.listId < y.listId ? -1 : 1)),
    interactions: pass.interactions,
    users: pass.readers,
  };
}

function binarySearch(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keys[mid] as number;
    if (v === key) return mid;
    if (v < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const MAGIC = "gplay-snapshot-aggregates-1";

/** Binary form (a JSON header, then the typed arrays), to be compressed by the caller. */
export function encodeAggregates(a: SnapshotAggregates): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      magic: MAGIC,
      snapshotId: a.snapshotId,
      asOf: a.asOf,
      readsFrom: a.readsFrom,
      etags: a.etags,
      totals: a.totals,
      pages: a.pages,
      categories: a.categories,
      subtracted: a.subtracted,
      pairs: a.pairKeys.length,
      reads: a.readTimes.length,
    }),
  );
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const size =
    start + 8 * a.pairKeys.length + 8 * a.readTimes.length + 4 * a.pairKeys.length + 4 * a.readPages.length;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let at = start;
  for (const arr of [a.pairKeys, a.readTimes, a.pairCounts, a.readPages]) {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
    at += arr.byteLength;
  }
  return out;
}

/** Reads `encodeAggregates`' bytes back; undefined when they are not aggregates of this format. */
export function decodeAggregates(bytes: Uint8Array): SnapshotAggregates | undefined {
  if (bytes.byteLength < 4) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as Omit<
    SnapshotAggregates,
    "pairKeys" | "pairCounts" | "readPages" | "readTimes"
  > & { magic: string; pairs: number; reads: number };
  if (header.magic !== MAGIC) return undefined;
  // A copy at offset 0, so the typed arrays can view it aligned (a Buffer's `slice` would not copy).
  const body = new Uint8Array(bytes.subarray(Math.ceil((4 + length) / 8) * 8));
  let at = 0;
  const take = <T>(make: (buffer: ArrayBuffer, offset: number, n: number) => T, n: number, width: number) => {
    const view = make(body.buffer, at, n);
    at += n * width;
    return view;
  };
  const pairKeys = take((b, o, n) => new Float64Array(b, o, n), header.pairs, 8);
  const readTimes = take((b, o, n) => new Float64Array(b, o, n), header.reads, 8);
  const pairCounts = take((b, o, n) => new Uint32Array(b, o, n), header.pairs, 4);
  const readPages = take((b, o, n) => new Uint32Array(b, o, n), header.reads, 4);
  const { magic: _magic, pairs: _pairs, reads: _reads, ...rest } = header;
  return { ...rest, pairKeys, readTimes, pairCounts, readPages };
}
