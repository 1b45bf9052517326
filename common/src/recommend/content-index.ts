/**
 * An inverted index over the content vectors of a set of articles (the fresh pool), for the
 * content-similar candidate tier: accumulates dot products bucket by bucket.
 */
import type { SparseVector } from "../contracts/content-vector.js";

/**
 * Indices of the best `k` of the `n` items with values `values[i]` and tie keys `ties[i]`, best
 * first: value descending, ties by key ascending (the order a full sort gives). One comparison per item
 * against the worst kept and an insertion for the few that beat it, when `k` is under half of `n`; a
 * sort otherwise (insertion would be quadratic). An item for which `skip(i)` holds is left out; `skip`
 * is asked only of items that would enter the kept list, which gives the same list as filtering every
 * item first (an item that would not enter cannot change it) with far fewer calls.
 */
export function selectTopByValue(
  n: number,
  k: number,
  values: ArrayLike<number>,
  ties: ArrayLike<string> | ArrayLike<number>,
  skip?: (i: number) => boolean,
): number[] {
  const top: number[] = [];
  if (k <= 0) return top;
  if (2 * k >= n) {
    for (let i = 0; i < n; i++) if (skip === undefined || !skip(i)) top.push(i);
    top.sort((i, j) => {
      const vi = values[i] as number;
      const vj = values[j] as number;
      if (vi > vj) return -1;
      if (vi < vj) return 1;
      const ti = ties[i] as number;
      const tj = ties[j] as number;
      return ti < tj ? -1 : ti > tj ? 1 : 0;
    });
    if (top.length > k) top.length = k;
    return top;
  }
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const vi = values[i] as number;
    const ti = ties[i] as number;
    if (kept === k) {
      const w = top[k - 1] as number;
      const vw = values[w] as number;
      if (!(vi > vw || (vi === vw && ti < (ties[w] as number)))) continue;
    }
    if (skip?.(i)) continue;
    // Its place by binary search (ties are common, and a tie costs a string comparison), then a shift.
    let lo = 0;
    let hi = kept === k ? k - 1 : kept++;
    const last = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = top[mid] as number;
      const vp = values[p] as number;
      if (vi > vp || (vi === vp && ti < (ties[p] as number))) hi = mid;
      else lo = mid + 1;
    }
    for (let at = last; at > lo; at--) top[at] = top[at - 1] as number;
    top[lo] = i;
  }
  return top;
}

/** Top `k` keys by value (ties by key, ascending), skipping `exclude`. */
export function topK(
  scores: ReadonlyMap<string, number>,
  k: number,
  exclude?: { has(key: string): boolean },
): string[] {
  const keys: string[] = [];
  const values: number[] = [];
  for (const [key, value] of scores) {
    keys.push(key);
    values.push(value);
  }
  const skip = exclude === undefined ? undefined : (i: number) => exclude.has(keys[i] as string);
  return selectTopByValue(keys.length, k, values, keys, skip).map((i) => keys[i] as string);
}

/**
 * Article slots and weights per bucket in flat typed arrays, and the per-query scores in one array
 * indexed by slot (a Map of per-page sums was the candidate stage's hottest loop).
 */
export class ContentIndex {
  readonly #pages: string[] = [];
  /** Bucket → [start, end) of its postings in `#slots` / `#weights`. */
  readonly #ranges = new Map<number, [number, number]>();
  readonly #slots: Int32Array;
  readonly #weights: Float64Array;
  readonly #scores: Float64Array;
  readonly #touched: Int32Array;
  readonly #marked: Uint8Array;

  constructor(
    articles: Iterable<{ page: string; vector?: SparseVector | undefined }>,
    private readonly maxPosting = 1_000,
    private readonly maxQueryTerms = 64,
  ) {
    // Postings in insertion order per bucket: count, lay out, fill.
    const lists = new Map<number, number[]>();
    const weights = new Map<number, number[]>();
    let total = 0;
    for (const a of articles) {
      const v = a.vector;
      if (v === undefined) continue;
      const slot = this.#pages.length;
      this.#pages.push(a.page);
      for (let k = 0; k < v.indices.length; k++) {
        const bucket = v.indices[k] as number;
        let list = lists.get(bucket);
        let ws = weights.get(bucket);
        if (list === undefined || ws === undefined) {
          list = [];
          ws = [];
          lists.set(bucket, list);
          weights.set(bucket, ws);
        }
        list.push(slot);
        ws.push(v.values[k] as number);
        total++;
      }
    }
    this.#slots = new Int32Array(total);
    this.#weights = new Float64Array(total);
    let at = 0;
    for (const [bucket, list] of lists) {
      this.#slots.set(list, at);
      this.#weights.set(weights.get(bucket) as number[], at);
      this.#ranges.set(bucket, [at, at + list.length]);
      at += list.length;
    }
    this.#scores = new Float64Array(this.#pages.length);
    this.#touched = new Int32Array(this.#pages.length);
    this.#marked = new Uint8Array(this.#pages.length);
  }

  /** The `k` articles most similar to the sum of `vectors` (skipping `exclude`). */
  nearest(vectors: readonly SparseVector[], k: number, exclude: { has(key: string): boolean }): string[] {
    if (vectors.length === 0 || k <= 0) return [];
    const { buckets, qws, terms: count } = sumQuery(vectors);
    // The heaviest query terms only (ties by bucket), and no stop-word-like bucket: bounded work per reader.
    const terms = selectTopByValue(count, this.maxQueryTerms, qws, buckets);
    const scores = this.#scores;
    const touched = this.#touched;
    const slots = this.#slots;
    const weights = this.#weights;
    const marked = this.#marked;
    let n = 0;
    for (const t of terms) {
      const qw = qws[t] as number;
      const range = this.#ranges.get(buckets[t] as number);
      if (range === undefined || range[1] - range[0] > this.maxPosting) continue;
      for (let p = range[0]; p < range[1]; p++) {
        const slot = slots[p] as number;
        const before = scores[slot] as number;
        // A slot enters the list once; its sum is built in the same order as a per-page map's.
        if (marked[slot] === 0) {
          marked[slot] = 1;
          touched[n++] = slot;
        }
        scores[slot] = before + qw * (weights[p] as number);
      }
    }
    // The best `k` touched slots not excluded, by score then page (the order of `topK`); the scores'
    // scratch is cleared for the next query.
    const pages = this.#pages;
    const candidates = new Array<string>(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const slot = touched[i] as number;
      candidates[i] = pages[slot] as string;
      values[i] = scores[slot] as number;
      scores[slot] = 0;
      marked[slot] = 0;
    }
    return selectTopByValue(n, k, values, candidates, (i) => exclude.has(candidates[i] as string)).map(
      (i) => candidates[i] as string,
    );
  }
}

/** The query's scratch: an open-addressing table bucket → term, shared by every call (grown as needed). */
const query = {
  cells: new Float64Array(0),
  term: new Int32Array(0),
  buckets: new Float64Array(0),
  qws: new Float64Array(0),
};

/**
 * The sum of `vectors` as parallel arrays of terms (bucket, weight) in first-seen order: each weight
 * summed in the order of the vectors and their entries (the sums a Map gave, bit for bit), in typed
 * arrays instead of a Map of a few hundred entries built per reader.
 */
function sumQuery(vectors: readonly SparseVector[]): {
  buckets: Float64Array;
  qws: Float64Array;
  terms: number;
} {
  let total = 0;
  for (const v of vectors) total += v.indices.length;
  let capacity = 16;
  while (capacity < total * 2) capacity *= 2;
  if (query.cells.length < capacity) {
    query.cells = new Float64Array(capacity);
    query.term = new Int32Array(capacity);
  }
  if (query.buckets.length < total) {
    query.buckets = new Float64Array(total);
    query.qws = new Float64Array(total);
  }
  const { cells, term, buckets, qws } = query;
  cells.fill(-1, 0, capacity);
  const mask = capacity - 1;
  let terms = 0;
  for (const v of vectors)
    for (let i = 0; i < v.indices.length; i++) {
      const bucket = v.indices[i] as number;
      let c = (Math.imul(bucket, 0x9e3779b1) >>> 0) & mask;
      for (;;) {
        const key = cells[c] as number;
        if (key === bucket) {
          const t = term[c] as number;
          qws[t] = (qws[t] as number) + (v.values[i] as number);
          break;
        }
        if (key === -1) {
          cells[c] = bucket;
          term[c] = terms;
          buckets[terms] = bucket;
          // 0 + w, as the Map's `(get ?? 0) + w` (turns a -0 weight into +0 alike).
          qws[terms] = 0 + (v.values[i] as number);
          terms++;
          break;
        }
        c = (c + 1) & mask;
      }
    }
  return { buckets, qws, terms };
}
