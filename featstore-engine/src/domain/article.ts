import { createHash } from "node:crypto";
import {
  type ArticleItem,
  CONTENT_VECTOR_DIMENSION,
  CONTENT_VECTOR_TOP_K,
  type ContentType,
  hashTerm,
  type ItensRow,
  packContentVector,
  type SparseVector,
  sparseVectorFromWeights,
} from "@gplay/common";

// --- URL categorisation -------------------------------------------------------------------------

/** The 27 Brazilian federative units, as the first path segment of regional G1 URLs. */
export const BRAZILIAN_UFS: ReadonlySet<string> = new Set(
  "ac al ap am ba ce df es go ma mt ms mg pa pb pr pe pi rj rn rs ro rr sc sp se to".split(" "),
);
/** Region of articles outside any state edition. */
export const NATIONAL_REGION = "nacional";

export interface UrlCategory {
  /** National section (`economia`, `pop-arte`, `fantastico`) or the state edition (`campinas-regiao`). */
  section: string;
  /** Lowercase UF (`sp`) or `nacional`. */
  region: string;
  contentType: ContentType;
  /** Path segments between the section and the content marker (`musica`, `eleicoes/2022`), if any. */
  topic: string;
}

const MARKERS: Record<string, ContentType> = {
  noticia: "noticia",
  noticias: "noticia",
  blog: "blog",
  blogs: "blog",
  especial: "especial",
  especiais: "especial",
  "especial-publicitario": "especial",
  quiz: "quiz",
  quizzes: "quiz",
  video: "video",
  videos: "video",
};

/**
 * Section, region and content type from an article URL, e.g.
 * `http://g1.globo.com/sp/campinas-regiao/noticia/2022/08/14/x.ghtml` → campinas-regiao / sp / noticia,
 * `http://g1.globo.com/pop-arte/musica/blog/mauro-ferreira/post/…` → pop-arte / nacional / blog.
 * Unknown shapes give section `outros` and content type `other`; this never throws.
 */
export function categoriseUrl(url: string): UrlCategory {
  let host = "";
  let segments: string[] = [];
  try {
    const parsed = new URL(url);
    host = parsed.hostname.toLowerCase();
    segments = parsed.pathname
      .split("/")
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s).toLowerCase());
  } catch {
    return { section: "outros", region: NATIONAL_REGION, contentType: "other", topic: "" };
  }
  const markerAt = segments.findIndex((s) => s in MARKERS);
  let contentType: ContentType =
    markerAt === -1 ? "other" : (MARKERS[segments[markerAt] as string] as ContentType);
  if (host.startsWith("especiais.") || host.startsWith("interativos.")) contentType = "especial";
  if (host.startsWith("globoplay.") || host.startsWith("video.")) contentType = "video";
  // The path before the marker names the place and the section.
  const head = markerAt === -1 ? segments.slice(0, -1) : segments.slice(0, markerAt);
  const first = head[0];
  const topicOf = (from: number) => (markerAt === -1 ? "" : head.slice(from).join("/"));
  if (first !== undefined && BRAZILIAN_UFS.has(first)) {
    return { section: head[1] ?? first, region: first, contentType, topic: topicOf(2) };
  }
  return { section: first ?? "outros", region: NATIONAL_REGION, contentType, topic: topicOf(1) };
}

// --- Text ---------------------------------------------------------------------------------------

/** Portuguese stop words, accent-folded (the tokenizer folds before it filters). */
export const PORTUGUESE_STOPWORDS: ReadonlySet<string> = new Set(
  (
    "a ao aos aquela aquelas aquele aqueles aquilo as ate com como da das de dela delas dele deles " +
    "depois do dos e ela elas ele eles em entre era eram essa essas esse esses esta estao estas " +
    "estava estavam este estes eu foi foram ha isso isto ja lhe lhes mais mas me mesmo meu meus " +
    "minha minhas muito na nao nas nem no nos nossa nossas nosso nossos num numa o os ou para " +
    "pela pelas pelo pelos por qual quando que quem se sem ser sera seu seus so sua suas tambem " +
    "te tem tinha tu tua tuas um uma umas uns voce voces vos ter sao esta seja sobre apos ainda " +
    "onde pois porque assim cada todo toda todos todas outro outra outros outras havia ser " +
    "diz disse afirmou segundo tambem deve pode vai vao foi sido sendo estar"
  ).split(" "),
);

const TAG = /<[^>]*>/g;
const ENTITY = /&(?:[a-z]+|#\d+);/gi;
const COMBINING = /[\u0300-\u036f]/g;

/** Markup and entities removed, lowercase, accents folded, whitespace collapsed. */
export function cleanText(text: string): string {
  return text
    .replace(TAG, " ")
    .replace(ENTITY, " ")
    .normalize("NFD")
    .replace(COMBINING, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** Content terms: cleaned text split on non-alphanumerics, stop words, 1-letter words and pure numbers out. */
export function tokenize(text: string): string[] {
  return cleanText(text)
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !PORTUGUESE_STOPWORDS.has(t) && !/^\d+$/.test(t));
}

/** Hashed term counts of an article (title counted twice: it says what the article is about). */
export function articleTermCounts(
  article: Pick<ItensRow, "title" | "body" | "caption">,
  dimension = CONTENT_VECTOR_DIMENSION,
): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (text: string, weight: number) => {
    for (const term of tokenize(text)) {
      const bucket = hashTerm(term, dimension);
      counts.set(bucket, (counts.get(bucket) ?? 0) + weight);
    }
  };
  add(article.title, 2);
  add(article.caption, 1);
  add(article.body, 1);
  return counts;
}

/**
 * Document frequencies over hashed buckets: mergeable (sum), so per-file tables combine in any order.
 * With no documents every IDF is 1 and vectors are plain sublinear TF.
 */
export class DocumentFrequencies {
  documents = 0;
  readonly df: Uint32Array;

  constructor(readonly dimension = CONTENT_VECTOR_DIMENSION) {
    this.df = new Uint32Array(dimension);
  }

  add(buckets: Iterable<number>): void {
    this.documents++;
    for (const b of buckets) this.df[b] = (this.df[b] as number) + 1;
  }

  merge(other: DocumentFrequencies): void {
    if (other.dimension !== this.dimension)
      throw new RangeError("document frequencies of different dimensions");
    this.documents += other.documents;
    for (let i = 0; i < this.dimension; i++) this.df[i] = (this.df[i] as number) + (other.df[i] as number);
  }

  /** Smoothed IDF, as scikit-learn: ln((1 + N) / (1 + df)) + 1. */
  idf(bucket: number): number {
    return this.documents === 0 ? 1 : Math.log((1 + this.documents) / (1 + (this.df[bucket] as number))) + 1;
  }
}

/** TF-IDF (sublinear TF: 1 + ln tf), top-K buckets, L2-normalised. */
export function tfidfVector(
  counts: ReadonlyMap<number, number>,
  df?: DocumentFrequencies,
  topK = CONTENT_VECTOR_TOP_K,
): SparseVector {
  const weights = new Map<number, number>();
  for (const [bucket, tf] of counts) weights.set(bucket, (1 + Math.log(tf)) * (df?.idf(bucket) ?? 1));
  return sparseVectorFromWeights(weights, topK, df?.dimension ?? CONTENT_VECTOR_DIMENSION);
}

// --- Articles -----------------------------------------------------------------------------------

/** Identity of an article's content: ties of `modified` are broken by it, so merges are order-free. */
export function contentHash(row: ItensRow): string {
  return createHash("sha256")
    .update(JSON.stringify([row.page, row.url, row.issued, row.modified, row.title, row.body, row.caption]))
    .digest("hex")
    .slice(0, 32);
}

export interface ArticleItemOptions {
  /** ISO time of the write. */
  updatedAt: string;
  df?: DocumentFrequencies;
  /** Epoch seconds for DynamoDB's TTL. */
  expiresAt?: number;
}

/** An itens row as the `items` table item (without the body: the vector carries its content). */
export function toArticleItem(
  row: ItensRow,
  options: ArticleItemOptions,
  termCounts: ReadonlyMap<number, number> = articleTermCounts(row, options.df?.dimension),
): ArticleItem {
  const category = categoriseUrl(row.url);
  return {
    page: row.page,
    url: row.url,
    title: row.title.trim(),
    caption: row.caption.trim(),
    issued: row.issued,
    modified: row.modified,
    section: category.section,
    region: category.region,
    contentType: category.contentType,
    contentHash: contentHash(row),
    vector: packContentVector(tfidfVector(termCounts, options.df)),
    updatedAt: options.updatedAt,
    ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
  };
}

/**
 * Builds the items of a batch with IDF from the batch itself merged into `df` (pass a shared table
 * to accumulate across files). Two passes over the rows, so rows are held in memory: batch them.
 */
export function toArticleItems(
  rows: readonly ItensRow[],
  options: ArticleItemOptions,
): { items: ArticleItem[]; df: DocumentFrequencies } {
  const df = options.df ?? new DocumentFrequencies();
  const counts = rows.map((r) => articleTermCounts(r, df.dimension));
  for (const c of counts) df.add(c.keys());
  const items = rows.map((row, i) => toArticleItem(row, { ...options, df }, counts[i]));
  return { items, df };
}

/** Age of an article in hours at `asOf` (negative when issued after it). */
export function articleAgeHours(article: { issued: number }, asOf: number): number {
  return (asOf - article.issued) / 3_600_000;
}

/** Freshness in (0, 1]: halves every `halfLifeHours`; 0 for an article issued after `asOf`. */
export function articleFreshness(article: { issued: number }, asOf: number, halfLifeHours = 24): number {
  const age = articleAgeHours(article, asOf);
  if (age < 0) return 0;
  return 2 ** (-age / halfLifeHours);
}
