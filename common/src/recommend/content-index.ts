/**
 * An inverted index over the content vectors of a set of articles (the fresh pool), for the
 * content-similar candidate tier: accumulates dot products bucket by bucket.
 */
import type { SparseVector } from "../contracts/content-vector.js";

/** Top `k` keys by value (ties by key, ascending), skipping `exclude`. */
export function topK(
  scores: ReadonlyMap<string, number>,
  k: number,
  exclude?: { has(key: string): boolean },
): string[] {
  const entries: [string, number][] = [];
  for (const e of scores) if (!exclude?.has(e[0])) entries.push(e);
  if (k <= 0) return [];
  if (entries.length <= 4 * k) {
    entries.sort(byValueThenKey);
    return entries.slice(0, k).map(([p]) => p);
  }
  // Few kept out of many: selection (one comparison per entry against the worst kept), the sort's order.
  const top: [string, number][] = [];
  for (const e of entries) {
    if (top.length === k && byValueThenKey(e, top[k - 1] as [string, number]) >= 0) continue;
    let at = top.length === k ? k - 1 : top.length;
    while (at > 0 && byValueThenKey(e, top[at - 1] as [string, number]) < 0) {
      top[at] = top[at - 1] as [string, number];
      at--;
    }
    top[at] = e;
  }
  return top.map(([p]) => p);
}

/** Higher value first, then the smaller key (keys of one map are distinct). */
const byValueThenKey = (a: [string, number], b: [string, number]): number =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : 1);

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
    const query = new Map<number, number>();
    for (const v of vectors)
      for (let i = 0; i < v.indices.length; i++)
        query.set(v.indices[i] as number, (query.get(v.indices[i] as number) ?? 0) + (v.values[i] as number));
    // The heaviest query terms only, and no stop-word-like bucket: bounded work per reader.
    const terms = [...query].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, this.maxQueryTerms);
    const scores = this.#scores;
    const touched = this.#touched;
    const slots = this.#slots;
    const weights = this.#weights;
    const marked = this.#marked;
    let n = 0;
    for (const [bucket, qw] of terms) {
      const range = this.#ranges.get(bucket);
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
    const found = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const slot = touched[i] as number;
      found.set(this.#pages[slot] as string, scores[slot] as number);
      scores[slot] = 0;
      marked[slot] = 0;
    }
    return topK(found, k, exclude);
  }
}
