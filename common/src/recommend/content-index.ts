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
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return entries.slice(0, k).map(([p]) => p);
}

export class ContentIndex {
  readonly #postings = new Map<number, { page: string; w: number }[]>();

  constructor(
    articles: Iterable<{ page: string; vector?: SparseVector | undefined }>,
    private readonly maxPosting = 1_000,
    private readonly maxQueryTerms = 64,
  ) {
    for (const a of articles) {
      const v = a.vector;
      if (v === undefined) continue;
      for (let k = 0; k < v.indices.length; k++) {
        const bucket = v.indices[k] as number;
        let list = this.#postings.get(bucket);
        if (list === undefined) {
          list = [];
          this.#postings.set(bucket, list);
        }
        list.push({ page: a.page, w: v.values[k] as number });
      }
    }
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
    const scores = new Map<string, number>();
    for (const [bucket, qw] of terms) {
      const list = this.#postings.get(bucket);
      if (list === undefined || list.length > this.maxPosting) continue;
      for (const { page, w } of list) scores.set(page, (scores.get(page) ?? 0) + qw * w);
    }
    return topK(scores, k, exclude);
  }
}
