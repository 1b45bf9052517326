/**
 * The one feature builder: training (offline, per split) and the API (online, per request) both
 * call it, so the same reader and article give the same tensors. Pure TypeScript, no tfjs: it
 * returns typed arrays in the layout of `MODEL_INPUTS` (model-bundle.ts), which the caller wraps
 * in tensors (`tf.tensor2d(arrays.numeric, [rows, columns])`), `columns` the context's feature columns
 * (`featureColumns`: the normalisation's features, else `context.columns`, else the default ones).
 *
 * No leakage by construction: a reader's interactions at or after `context.asOf` are ignored, so
 * training can pass a whole log with `asOf` = the split time.
 */

import { type SparseVector, sparseDot } from "../contracts/content-vector.js";
import type { Interaction } from "../contracts/interaction-log.js";
import { decodeInteractionLog } from "../contracts/interaction-log.js";
import {
  DEFAULT_FEATURE_COLUMNS,
  type Normalisation,
  NUMERIC_FEATURE_COUNT,
  NUMERIC_FEATURES,
  type NumericFeature,
  OOV_ID,
  RECENT_READS,
  SHARE_FEATURES,
  SHARE_SCALE,
  type Vocabularies,
} from "../contracts/model-bundle.js";
import type { UserItem } from "../contracts/tables.js";

const HOUR_MS = 3_600_000;

/** The portal's reads in each popularity measure: the sums of every article's. */
export interface PortalReads {
  /** Summed `popularity`. */
  popularity: number;
  /** Summed `popularityScales`, per scale. */
  scales: readonly number[];
}

/** What the builder needs to know about an article. */
export interface ArticleFeatureSource {
  page: string;
  section: string;
  region: string;
  /** Publication time, epoch ms. */
  issued: number;
  /** Unpacked content vector (`unpackContentVector(item.vector)`); absent → similarity 0. */
  vector?: SparseVector | undefined;
}

/** Value → id lookups of a bundle's vocabularies (0 = out of vocabulary). */
export interface VocabularyIndex {
  section: ReadonlyMap<string, number>;
  region: ReadonlyMap<string, number>;
}

/** Everything the features depend on besides the reader and the article list. */
export interface FeatureContext {
  /** "Now": the split time offline, the served world's reference time online. */
  asOf: number;
  /**
   * A reader's interactions before this time make the profile (default `asOf`): training's split
   * worlds leave it at the cut; the served world takes every read in the reader's log.
   */
  readsBefore?: number | undefined;
  article(page: string): ArticleFeatureSource | undefined;
  /** Recency-decayed reads of an article (0 when unknown). */
  popularity(page: string): number;
  /** Its reads decayed with each half-life of `POPULARITY_SCALES_HOURS` (undefined when never read). */
  popularityScales(page: string): readonly number[] | undefined;
  /** Co-visited neighbours of an article with their scores. */
  covisitation(page: string): ReadonlyMap<string, number> | undefined;
  /**
   * The portal's reads since an article's issue time, decayed as its 24 h popularity (`portalExposure`);
   * absent (a context without the portal's reads) → 0.
   */
  exposure?(issued: number): number;
  /** The fresh articles' 24 h reads over their exposure: an article's expected share of the portal's reads. */
  meanReadShare?(): number;
  /**
   * The portal's reads, measured as `popularity` and then as each `popularityScales` (their sums over
   * every article): what the share features divide by; absent → the shares are 0.
   */
  portalReads?(): PortalReads;
  vocab: VocabularyIndex;
  /**
   * Standardisation of the numeric block; `undefined` gives raw values (to compute the stats). Its
   * features are the columns built.
   */
  normalisation?: Normalisation | undefined;
  /** The columns to build when there is no normalisation (default `DEFAULT_FEATURE_COLUMNS`). */
  columns?: readonly NumericFeature[] | undefined;
}

/** The numeric columns `buildModelInputs` builds in `context`, in order. */
export function featureColumns(
  context: Pick<FeatureContext, "normalisation" | "columns">,
): readonly NumericFeature[] {
  return (
    (context.normalisation?.features as readonly NumericFeature[] | undefined) ??
    context.columns ??
    DEFAULT_FEATURE_COLUMNS
  );
}

/** A reader summarised from the interaction log (before `asOf`) and article metadata. */
export interface ReaderProfile {
  isLogged: boolean;
  interactions: number;
  engagement: number;
  /** Newest read before asOf (epoch ms), undefined without history. */
  lastTimestamp: number | undefined;
  /** Share of engagement per section / region (sums to 1 over known articles). */
  sectionShare: ReadonlyMap<string, number>;
  regionShare: ReadonlyMap<string, number>;
  /** The `RECENT_READS` newest reads, newest first. */
  recent: readonly string[];
  /** Every page read before asOf (to exclude from recommendations). */
  read: ReadonlySet<string>;
}

/** The model's inputs for `rows` candidate articles, in `MODEL_INPUTS` layout (row-major). */
export interface ModelInputArrays {
  rows: number;
  article_section: Int32Array;
  article_region: Int32Array;
  /** `rows × columns` (the context's `featureColumns`). */
  numeric: Float32Array;
}

/** The numeric columns of inputs (0 without rows). */
export const numericWidth = (inputs: ModelInputArrays): number =>
  inputs.rows === 0 ? 0 : inputs.numeric.length / inputs.rows;

/** The article keys of inputs `buildModelInputs` returned (see `articleKeysOf`). */
const inputKeys = new WeakMap<ModelInputArrays, Int32Array>();

/**
 * Per row of inputs built by `buildModelInputs`, the key of its article's row in the context: rows
 * with one key hold the same `ARTICLE_COLUMNS`, so the forward pass may reuse their products
 * (`KeyedRows`). Undefined for inputs made otherwise (e.g. concatenated).
 */
export function articleKeysOf(inputs: ModelInputArrays): Int32Array | undefined {
  return inputKeys.get(inputs);
}

/**
 * Engagement weight of one interaction: a read counts 1, plus clicks, time on page and scroll
 * (scroll clipped to 100 %), each on a log or unit scale so one outlier cannot dominate.
 */
export function engagementWeight(i: Interaction): number {
  const scroll = Math.min(100, Math.max(0, i.scrollPercentage)) / 100;
  return 1 + 0.5 * Math.log1p(i.clicks) + 0.25 * Math.log1p(i.timeOnPageMs / 10_000) + 0.5 * scroll;
}

/** Builds a vocabulary index from a bundle's vocabularies (`vocab[i]` → `i + 1`). */
export function vocabularyIndex(vocab: Vocabularies): VocabularyIndex {
  return {
    section: new Map(vocab.section.map((s, i) => [s, i + 1])),
    region: new Map(vocab.region.map((r, i) => [r, i + 1])),
  };
}

/** A reader's profile from their log; interactions at or after `readsBefore` (default `asOf`) are ignored. */
export function readerProfile(
  log: readonly Interaction[],
  userType: UserItem["userType"] | undefined,
  context: Pick<FeatureContext, "asOf" | "readsBefore" | "article">,
): ReaderProfile {
  const until = context.readsBefore ?? context.asOf;
  const before = log.filter((i) => i.timestamp < until);
  before.sort((a, b) => a.timestamp - b.timestamp || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
  const sections = new Map<string, number>();
  const regions = new Map<string, number>();
  let engagement = 0;
  let known = 0;
  for (const i of before) {
    const w = engagementWeight(i);
    engagement += w;
    const a = context.article(i.page);
    if (a === undefined) continue;
    known += w;
    sections.set(a.section, (sections.get(a.section) ?? 0) + w);
    regions.set(a.region, (regions.get(a.region) ?? 0) + w);
  }
  const share = (m: Map<string, number>) => {
    for (const [k, v] of m) m.set(k, known > 0 ? v / known : 0);
    return m;
  };
  const recent: string[] = [];
  const seen = new Set<string>();
  for (let k = before.length - 1; k >= 0 && recent.length < RECENT_READS; k--) {
    const page = (before[k] as Interaction).page;
    if (!seen.has(page)) {
      seen.add(page);
      recent.push(page);
    }
  }
  return {
    isLogged: userType === "Logged",
    interactions: before.length,
    engagement,
    lastTimestamp: before.length > 0 ? (before[before.length - 1] as Interaction).timestamp : undefined,
    sectionShare: share(sections),
    regionShare: share(regions),
    recent,
    read: new Set(before.map((i) => i.page)),
  };
}

/** A reader's profile straight from a users-table item (the serving path). */
export function readerProfileFromItem(
  user: { log: Uint8Array; userType: UserItem["userType"] },
  context: Pick<FeatureContext, "asOf" | "readsBefore" | "article">,
): ReaderProfile {
  return readerProfile(decodeInteractionLog(user.log), user.userType, context);
}

/** The profile of a reader without history (cold start). */
export function emptyReaderProfile(userType?: UserItem["userType"]): ReaderProfile {
  return readerProfile([], userType, { asOf: 0, article: () => undefined });
}

/**
 * A filter of the live `Postings`' buckets: one bit per value of a bucket's low 14 bits (buckets are
 * hashes, so these are uniform), shared by every call and cleared by `release`. Most buckets of a
 * candidate are not among the reader's recent reads', and one bit test in 2 KB (which stays in the L1
 * cache, unlike a bit per bucket of 2^18) settles them without probing the table; a set bit only sends
 * the bucket on to the exact probe.
 */
const FILTER_MASK = (1 << 14) - 1;
const present = new Uint32Array((FILTER_MASK + 1) >>> 5);

/**
 * The arrays of the live `Postings`' table, shared by every call and grown as needed (one index lives
 * at a time, within `buildModelInputs`): no allocation per reader.
 */
const table = {
  cells: new Float64Array(0),
  extraEnd: new Int32Array(0),
  count: new Int32Array(0),
  slots: new Int32Array(0),
  weights: new Float64Array(0),
  /** Per (vector, entry) pair, in order, its table cell. */
  cellOf: new Int32Array(0),
};

/** First table cell probed for a bucket (Fibonacci hashing). */
const homeCell = (bucket: number, mask: number): number => (Math.imul(bucket, 0x9e3779b1) >>> 0) & mask;

/**
 * Fields of a table cell, side by side in `table.cells` (one probe reads one cache line): the bucket
 * (-1 when empty; float64 holds every u32 bucket exactly), the first pair's slot and weight, and where
 * the cell's further pairs start in `slots`/`weights` (-1: none; they end at `extraEnd`). Most buckets
 * of the recent reads belong to one of them, so a hit usually needs no further array.
 */
const CELL = 4;
const KEY = 0;
const SLOT = 1;
const WEIGHT = 2;
const EXTRA = 3;

/**
 * An inverted index over a few sparse vectors: bucket → (vector slot, weight) pairs, in an
 * open-addressing table of typed arrays (a lookup per candidate bucket is the hot loop of the
 * serving path; a Map of arrays took several times longer). A cell's pairs are in slot order.
 */
class Postings {
  /** Table cells in use (a power of two). */
  readonly #capacity: number;
  readonly #cells: Float64Array;
  readonly #extraEnd: Int32Array;
  readonly #slots: Int32Array;
  readonly #weights: Float64Array;
  readonly #mask: number;

  constructor(vectors: readonly SparseVector[]) {
    let total = 0;
    for (const v of vectors) total += v.indices.length;
    let capacity = 16;
    while (capacity < total * 2) capacity *= 2;
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    if (table.extraEnd.length < capacity) {
      table.cells = new Float64Array(capacity * CELL);
      table.extraEnd = new Int32Array(capacity);
      table.count = new Int32Array(capacity);
    }
    if (table.slots.length < total) {
      table.slots = new Int32Array(total);
      table.weights = new Float64Array(total);
    }
    if (table.cellOf.length < total) table.cellOf = new Int32Array(total);
    const cells = table.cells;
    for (let c = 0; c < capacity; c++) cells[c * CELL + KEY] = -1;
    this.#cells = cells;
    this.#extraEnd = table.extraEnd;
    this.#slots = table.slots;
    this.#weights = table.weights;
    // One probe per pair (its cell kept in `cellOf`): count the pairs per cell and mark the bucket;
    // then lay the further pairs' ranges out and fill every cell in slot order.
    const count = table.count.fill(0, 0, capacity);
    const cellOf = table.cellOf;
    const mask = this.#mask;
    const bits = present;
    let e = 0;
    for (const v of vectors)
      for (let k = 0; k < v.indices.length; k++) {
        const bucket = v.indices[k] as number;
        let c = homeCell(bucket, mask);
        for (;;) {
          const key = cells[c * CELL + KEY] as number;
          if (key === bucket) break;
          if (key === -1) {
            cells[c * CELL + KEY] = bucket;
            break;
          }
          c = (c + 1) & mask;
        }
        count[c] = (count[c] as number) + 1;
        cellOf[e++] = c;
        const f = bucket & FILTER_MASK;
        bits[f >>> 5] = (bits[f >>> 5] as number) | (1 << (f & 31));
      }
    const extraEnd = this.#extraEnd;
    let at = 0;
    for (let c = 0; c < capacity; c++) {
      const n = count[c] as number;
      cells[c * CELL + EXTRA] = n > 1 ? at : -1;
      extraEnd[c] = at;
      if (n > 1) at += n - 1;
    }
    // A cell's first pair goes into the cell (its count then set to -1), the others after `EXTRA`.
    e = 0;
    for (let slot = 0; slot < vectors.length; slot++) {
      const v = vectors[slot] as SparseVector;
      for (let k = 0; k < v.indices.length; k++) {
        const c = cellOf[e++] as number;
        const t = c * CELL;
        const w = v.values[k] as number;
        if (count[c] === -1) {
          const p = extraEnd[c] as number;
          this.#slots[p] = slot;
          this.#weights[p] = w;
          extraEnd[c] = p + 1;
        } else {
          cells[t + SLOT] = slot;
          cells[t + WEIGHT] = w;
          count[c] = -1;
        }
      }
    }
  }

  /** dots[slot] += Σ over shared buckets of a's weight × the slot's weight, in a's bucket order. */
  accumulate(a: SparseVector, dots: Float64Array): void {
    // Everything the loop reads held in locals: V8 does not hoist a typed array's length or an
    // object's fields out of a loop that stores to another typed array.
    const indices = a.indices;
    const values = a.values;
    const n = indices.length;
    const cells = this.#cells;
    const mask = this.#mask;
    const extraEnd = this.#extraEnd;
    const slots = this.#slots;
    const weights = this.#weights;
    const bits = present;
    for (let k = 0; k < n; k++) {
      const bucket = indices[k] as number;
      const f = bucket & FILTER_MASK;
      if (((bits[f >>> 5] as number) & (1 << (f & 31))) === 0) continue;
      let c = homeCell(bucket, mask);
      let t = c * CELL;
      let key = cells[t + KEY] as number;
      while (key !== bucket && key !== -1) {
        c = (c + 1) & mask;
        t = c * CELL;
        key = cells[t + KEY] as number;
      }
      if (key === -1) continue;
      const w = values[k] as number;
      const first = cells[t + SLOT] as number;
      dots[first] = (dots[first] as number) + w * (cells[t + WEIGHT] as number);
      const extra = cells[t + EXTRA] as number;
      if (extra < 0) continue;
      const end = extraEnd[c] as number;
      for (let p = extra; p < end; p++) {
        const slot = slots[p] as number;
        dots[slot] = (dots[slot] as number) + w * (weights[p] as number);
      }
    }
  }

  /** Clears this index's bits from the shared scratch; call before another `Postings` is built. */
  release(): void {
    const cells = this.#cells;
    for (let c = 0; c < this.#capacity; c++) {
      const key = cells[c * CELL + KEY] as number;
      if (key !== -1) present[(key & FILTER_MASK) >>> 5] = 0;
    }
  }
}

/**
 * What the numeric features of one reader need for every candidate, computed once per reader: the
 * recent reads' content vectors as an inverted index (bucket → recent read, weight), their norms,
 * and the co-visitation scores summed over the recent reads. Scoring a candidate then costs one
 * pass over its own vector instead of a merge against every recent read.
 *
 * The figures are bit-identical to the direct definition (`cosineSimilarity` against each recent
 * read, co-visitation summed in recent order): products are added in the same ascending-bucket
 * order and divided by the same norms.
 */
class ReaderFeatureState {
  readonly hoursSinceLast: number;
  readonly last: ArticleFeatureSource | undefined;
  /** Per recent read with a vector: its dimension and norm (index = slot). */
  readonly #dimension: number[] = [];
  readonly #norm: number[] = [];
  readonly #postings: Postings;
  readonly #covisit = new Map<string, number>();
  readonly #dots: Float64Array;

  constructor(
    readonly profile: ReaderProfile,
    readonly context: FeatureContext,
  ) {
    this.hoursSinceLast =
      profile.lastTimestamp === undefined ? 0 : Math.max(0, (context.asOf - profile.lastTimestamp) / HOUR_MS);
    this.last = profile.recent[0] === undefined ? undefined : context.article(profile.recent[0]);
    const vectors: SparseVector[] = [];
    for (const r of profile.recent) {
      const neighbours = context.covisitation(r);
      if (neighbours !== undefined)
        for (const [page, score] of neighbours)
          this.#covisit.set(page, (this.#covisit.get(page) ?? 0) + score);
      const rv = context.article(r)?.vector;
      if (rv === undefined) continue;
      vectors.push(rv);
      this.#dimension.push(rv.dimension);
      this.#norm.push(Math.sqrt(sparseDot(rv, rv)));
    }
    this.#postings = new Postings(vectors);
    this.#dots = new Float64Array(vectors.length);
  }

  /** Frees the shared scratch of the reader's index (after the last `crossFeatures`). */
  release(): void {
    this.#postings.release();
  }

  /** The reader's own features (0–4), raw. */
  readerFeatures(out: Float64Array): void {
    const { profile } = this;
    out[0] = Math.log1p(profile.interactions);
    out[1] = Math.log1p(profile.engagement);
    out[2] = profile.isLogged ? 1 : 0;
    out[3] = profile.interactions > 0 ? 1 : 0;
    out[4] = Math.log1p(this.hoursSinceLast);
  }

  /** The reader × article features (13–18) of `page`, raw, written to `out[0 …]`. */
  crossFeatures(page: string, a: ArticleFeatureSource | undefined, norm: number, out: Float64Array): void {
    const { profile } = this;
    let maxSim = 0;
    let sumSim = 0;
    const slots = this.#norm.length;
    if (a?.vector !== undefined && slots > 0) {
      const av = a.vector;
      const dots = this.#dots;
      for (let slot = 0; slot < slots; slot++) dots[slot] = 0;
      this.#postings.accumulate(av, dots);
      for (let slot = 0; slot < slots; slot++) {
        const nb = this.#norm[slot] as number;
        const s =
          av.dimension !== this.#dimension[slot] || norm === 0 || nb === 0
            ? 0
            : (dots[slot] as number) / (norm * nb);
        if (s > maxSim) maxSim = s;
        sumSim += s;
      }
    }
    const last = this.last;
    out[0] = a === undefined ? 0 : (profile.sectionShare.get(a.section) ?? 0);
    out[1] = a === undefined ? 0 : (profile.regionShare.get(a.region) ?? 0);
    out[2] = maxSim;
    out[3] = slots > 0 && a?.vector !== undefined ? sumSim / slots : 0;
    out[4] = Math.log1p(this.#covisit.get(page) ?? 0);
    out[5] = a !== undefined && last !== undefined && last.section === a.section ? 1 : 0;
  }
}

/**
 * Numeric columns: the reader's (0–4), the article's (5–12 and 19), the reader × article ones (13–18).
 * The article's appeal came after the others, so its column follows theirs (bundles before it have 19).
 */
const indicesOf = (prefix: string): number[] =>
  NUMERIC_FEATURES.flatMap((f, k) => (f.startsWith(prefix) ? [k] : []));
/** The reader's columns (`reader_*`, 0–4: `readerFeatures` writes them in this order). */
const READER_FEATURES = indicesOf("reader_").length;
/** The reader × article columns (`ra_*`, contiguous: `crossFeatures` writes them in this order). */
const CROSS_INDICES = indicesOf("ra_");
const CROSS_FEATURES = CROSS_INDICES.length;
const CROSS_FROM = CROSS_INDICES[0] as number;
/** The article-only columns (`article_*`), in the order `articleFeatures` writes them. */
const ARTICLE_INDICES: readonly number[] = indicesOf("article_");
const ARTICLE_FEATURES = ARTICLE_INDICES.length;
const APPEAL = NUMERIC_FEATURES.indexOf("article_log_appeal");
/** The share columns, built only when a context's columns hold one. */
const SHARE_INDICES: readonly number[] = SHARE_FEATURES.map((f) => NUMERIC_FEATURES.indexOf(f));
/** Where `articleFeatures` writes the appeal and the first share (contiguous, in `SHARE_FEATURES` order). */
const APPEAL_OUT = ARTICLE_INDICES.indexOf(NUMERIC_FEATURES.indexOf("article_log_appeal"));
const SHARES_OUT = ARTICLE_INDICES.indexOf(SHARE_INDICES[0] as number);

/** Which of the costlier article columns a context's plan builds. */
interface ArticleExtras {
  appeal: boolean;
  shares: boolean;
}

/**
 * What a context knows of one article for every reader: its source, vocabulary ids, the article-only
 * features (`ARTICLE_INDICES`) as stored in the model inputs (standardised with the context's normalisation, float32)
 * and its vector's norm. Computed on the first request that ranks the article, then reused: the same
 * figures for every reader, so a row costs one lookup instead of ten logarithms, a dot product and
 * eight standardisations.
 */
interface ArticleRow {
  /** Unique per row object: a replaced source gets a new row, so a new key. */
  key: number;
  source: ArticleFeatureSource | undefined;
  section: number;
  region: number;
  scaled: Float32Array;
  norm: number;
}

/**
 * Where a context's features go: per feature (index in `NUMERIC_FEATURES`) its column in the inputs
 * (-1: not built) and its standardisation (mean 0, std 1 without a normalisation, which leaves a value
 * as it is).
 */
interface ColumnPlan {
  width: number;
  at: Int32Array;
  mean: Float64Array;
  std: Float64Array;
  /** The model-input columns that depend on the article alone: its ids and its numeric columns. */
  articleColumns: Readonly<Record<string, readonly number[]>>;
  /** The costlier article columns it builds. */
  extras: ArticleExtras;
}

function columnPlan(context: FeatureContext): ColumnPlan {
  const features = featureColumns(context);
  const at = new Int32Array(NUMERIC_FEATURE_COUNT).fill(-1);
  const mean = new Float64Array(NUMERIC_FEATURE_COUNT);
  const std = new Float64Array(NUMERIC_FEATURE_COUNT).fill(1);
  const norm = context.normalisation;
  features.forEach((f, c) => {
    const k = NUMERIC_FEATURES.indexOf(f);
    if (k < 0) throw new RangeError(`unknown feature column ${f}`);
    at[k] = c;
    if (norm !== undefined) {
      mean[k] = norm.mean[c] as number;
      std[k] = norm.std[c] as number;
    }
  });
  const numeric = ARTICLE_INDICES.map((k) => at[k] as number).filter((c) => c >= 0);
  return {
    width: features.length,
    at,
    mean,
    std,
    articleColumns: { article_section: [0], article_region: [0], numeric },
    extras: {
      appeal: (at[APPEAL] as number) >= 0,
      shares: SHARE_INDICES.some((k) => (at[k] as number) >= 0),
    },
  };
}

let nextArticleKey = 0;

/** Per context, its article rows and the vocabularies, normalisation and columns they were computed with. */
const articleRows = new WeakMap<
  object,
  {
    rows: Map<string, ArticleRow>;
    vocab: VocabularyIndex;
    normalisation: Normalisation | undefined;
    columns: readonly NumericFeature[] | undefined;
    plan: ColumnPlan;
  }
>();

function cacheOf(context: FeatureContext) {
  let cache = articleRows.get(context);
  // A context is not meant to change its vocabularies, normalisation or columns; if one does, start afresh.
  if (
    cache?.vocab !== context.vocab ||
    cache.normalisation !== context.normalisation ||
    cache.columns !== context.columns
  ) {
    cache = {
      rows: new Map(),
      vocab: context.vocab,
      normalisation: context.normalisation,
      columns: context.columns,
      plan: columnPlan(context),
    };
    articleRows.set(context, cache);
  }
  return cache;
}

/** The model-input columns of `context`'s inputs that depend on the article alone (`KeyedRows`). */
export function articleColumns(context: FeatureContext): Readonly<Record<string, readonly number[]>> {
  return cacheOf(context).plan.articleColumns;
}

/** The article-only features (`ARTICLE_INDICES`) of `page` in `context`, raw. */
function articleFeatures(
  context: FeatureContext,
  page: string,
  a: ArticleFeatureSource | undefined,
  out: Float64Array,
  extras: ArticleExtras,
): void {
  const ageHours = a === undefined ? 0 : Math.max(0, (context.asOf - a.issued) / HOUR_MS);
  out[0] = Math.log1p(ageHours);
  out[1] = a === undefined ? 0 : 2 ** (-ageHours / 24);
  out[2] = Math.log1p(context.popularity(page));
  const scales = context.popularityScales(page);
  const p1 = scales?.[0] ?? 0;
  const p24 = scales?.[2] ?? 0;
  out[3] = Math.log1p(p1);
  out[4] = Math.log1p(scales?.[1] ?? 0);
  out[5] = Math.log1p(p24);
  out[6] = Math.log1p(p1) - Math.log1p(p24 / 24);
  out[7] = a === undefined ? 0 : 1;
  // Its reads against what an article of the mean share would have got from the portal's reads since
  // its issue (one pseudo read each side): what separates a good article from one issued at a busy hour.
  if (extras.appeal) {
    const exposure = a === undefined ? 0 : (context.exposure?.(a.issued) ?? 0);
    out[APPEAL_OUT] = Math.log((p24 + 1) / ((context.meanReadShare?.() ?? 0) * exposure + 1));
  }
  // The same reads as shares of the portal's (per SHARE_SCALE reads).
  if (extras.shares) {
    const portal = context.portalReads?.();
    const share = (reads: number, total: number | undefined) =>
      total !== undefined && total > 0 ? Math.log1p((SHARE_SCALE * reads) / total) : 0;
    const s1 = share(p1, portal?.scales[0]);
    const s24 = share(p24, portal?.scales[2]);
    out[SHARES_OUT] = share(context.popularity(page), portal?.popularity);
    out[SHARES_OUT + 1] = s1;
    out[SHARES_OUT + 2] = share(scales?.[1] ?? 0, portal?.scales[1]);
    out[SHARES_OUT + 3] = s24;
    out[SHARES_OUT + 4] = s1 - s24;
  }
}

/** `v` as the model inputs hold feature `k`: standardised by the plan (unchanged without a normalisation). */
const scale = (plan: ColumnPlan, k: number, v: number): number =>
  (v - (plan.mean[k] as number)) / (plan.std[k] as number);

function articleRow(
  context: FeatureContext,
  rows: Map<string, ArticleRow>,
  plan: ColumnPlan,
  page: string,
  a: ArticleFeatureSource | undefined,
): ArticleRow {
  const cached = rows.get(page);
  // A catalogue may replace an article's source (a refresh): the row holds the one it was computed from.
  if (cached !== undefined && cached.source === a) return cached;
  const raw = new Float64Array(ARTICLE_FEATURES);
  articleFeatures(context, page, a, raw, plan.extras);
  const scaled = new Float32Array(ARTICLE_FEATURES);
  for (let k = 0; k < ARTICLE_FEATURES; k++)
    scaled[k] = scale(plan, ARTICLE_INDICES[k] as number, raw[k] as number);
  const row: ArticleRow = {
    key: nextArticleKey++,
    source: a,
    section: a === undefined ? OOV_ID : (context.vocab.section.get(a.section) ?? OOV_ID),
    region: a === undefined ? OOV_ID : (context.vocab.region.get(a.region) ?? OOV_ID),
    scaled,
    norm: a?.vector === undefined ? 0 : Math.sqrt(sparseDot(a.vector, a.vector)),
  };
  rows.set(page, row);
  return row;
}

/**
 * The model inputs of one reader and a list of candidate articles (one row per page, same order).
 * Numeric features are the context's `featureColumns`, standardised with `context.normalisation` when
 * given. Each value is the one
 * the column-by-column definition gives (the same raw figure, standardised in float64, stored as
 * float32): the reader's columns are computed once per call and the article's once per context.
 */
export function buildModelInputs(
  profile: ReaderProfile,
  pages: readonly string[],
  context: FeatureContext,
): ModelInputArrays {
  const rows = pages.length;
  const section = new Int32Array(rows);
  const region = new Int32Array(rows);
  const { rows: cache, plan } = cacheOf(context);
  const { width, at: columnOf } = plan;
  const numeric = new Float32Array(rows * width);
  const reader = new ReaderFeatureState(profile, context);
  const own = new Float64Array(READER_FEATURES);
  reader.readerFeatures(own);
  const readerScaled = new Float32Array(READER_FEATURES);
  for (let k = 0; k < READER_FEATURES; k++) readerScaled[k] = scale(plan, k, own[k] as number);
  const cross = new Float64Array(CROSS_FEATURES);
  const articleKeys = new Int32Array(rows);
  try {
    for (let r = 0; r < rows; r++) {
      const page = pages[r] as string;
      const a = context.article(page);
      const row = articleRow(context, cache, plan, page, a);
      articleKeys[r] = row.key;
      section[r] = row.section;
      region[r] = row.region;
      const at = r * width;
      // Element by element: `set` on a few values costs more than the copy. A feature outside the
      // columns (column -1) is skipped.
      for (let k = 0; k < READER_FEATURES; k++) {
        const c = columnOf[k] as number;
        if (c >= 0) numeric[at + c] = readerScaled[k] as number;
      }
      const scaled = row.scaled;
      for (let k = 0; k < ARTICLE_FEATURES; k++) {
        const c = columnOf[ARTICLE_INDICES[k] as number] as number;
        if (c >= 0) numeric[at + c] = scaled[k] as number;
      }
      reader.crossFeatures(page, a, row.norm, cross);
      for (let k = 0; k < CROSS_FEATURES; k++) {
        const c = columnOf[CROSS_FROM + k] as number;
        if (c >= 0) numeric[at + c] = scale(plan, CROSS_FROM + k, cross[k] as number);
      }
    }
  } finally {
    reader.release();
  }
  const inputs: ModelInputArrays = { rows, article_section: section, article_region: region, numeric };
  inputKeys.set(inputs, articleKeys);
  return inputs;
}

/** Concatenates input arrays (e.g. several readers' rows into one batch; the same columns in each). */
export function concatModelInputs(parts: readonly ModelInputArrays[]): ModelInputArrays {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const widths = new Set(parts.filter((p) => p.rows > 0).map(numericWidth));
  if (widths.size > 1) throw new RangeError("inputs with different feature columns cannot be concatenated");
  const width = [...widths][0] ?? 0;
  const out: ModelInputArrays = {
    rows,
    article_section: new Int32Array(rows),
    article_region: new Int32Array(rows),
    numeric: new Float32Array(rows * width),
  };
  let r = 0;
  for (const p of parts) {
    out.article_section.set(p.article_section, r);
    out.article_region.set(p.article_region, r);
    out.numeric.set(p.numeric, r * width);
    r += p.rows;
  }
  return out;
}

/** Mean and standard deviation of each numeric column of raw (unstandardised) inputs with `features` as columns. */
export function computeNormalisation(
  raw: Float32Array,
  rows: number,
  features: readonly NumericFeature[] = DEFAULT_FEATURE_COLUMNS,
): Normalisation {
  const width = features.length;
  const mean = new Array<number>(width).fill(0);
  const sq = new Array<number>(width).fill(0);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < width; k++) {
      const v = raw[r * width + k] as number;
      mean[k] = (mean[k] as number) + v;
      sq[k] = (sq[k] as number) + v * v;
    }
  const n = Math.max(1, rows);
  const m = mean.map((s) => s / n);
  const std = sq.map((s, k) => {
    const variance = s / n - (m[k] as number) ** 2;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { features: [...features], mean: m, std };
}
