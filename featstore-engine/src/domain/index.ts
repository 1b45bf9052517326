/**
 * The featstore-engine's pure core: no I/O, no SDK. The app layer feeds it bytes (any Node Readable
 * or async iterable of chunks) and writes what it returns.
 *
 * - Reading: `openRawFile` / `cleanRawFile` (strict UTF-8, kind from the header, streaming CSV with
 *   line numbers) → `RowOutcome`s (typed rows or `QuarantineRecord`s) and `CleanCounts`.
 * - Articles: `categoriseUrl`, `cleanText`/`tokenize`, hashed TF-IDF (`articleTermCounts`,
 *   `DocumentFrequencies`, `tfidfVector`), `toArticleItem(s)`, `contentHash`, freshness.
 * - Merges: `isNewerArticle` / `upsertArticles`, `mergeUserItem` / `buildUserItem`, `excludedPages`,
 *   `dynamoItemSizeBytes`.
 * - Snapshot aggregates: `PopularityAccumulator` (cold-start lists), `CovisitationAccumulator`, the
 *   `InteractionPass` that deduplicates partitions (in a `NumberSet` of interaction hashes
 *   and a `ReaderIdSet` of packed reader ids).
 */
export * from "./article.js";
export * from "./clean.js";
export * from "./csv.js";
export * from "./merge.js";
export * from "./number-set.js";
export * from "./own-copy.js";
export * from "./raw-file.js";
export * from "./raw-format.js";
export * from "./reader-id-set.js";
export * from "./snapshot.js";
export * from "./snapshot-aggregates.js";
