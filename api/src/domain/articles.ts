import type { ArticleItem, RecommendationReason, RecommendedItem } from "@gplay/common";

/** What the API keeps in memory about an article: everything but the caption and bookkeeping. */
export type ArticleMeta = Pick<
  ArticleItem,
  "page" | "url" | "title" | "section" | "region" | "issued" | "modified" | "contentType" | "vector"
>;

const HOUR_MS = 3_600_000;

/** An article is fresh when it was published within `maxAgeHours` before the reference time. */
export function isFresh(
  article: Pick<ArticleMeta, "issued">,
  referenceMs: number,
  maxAgeHours: number,
): boolean {
  return article.issued >= referenceMs - maxAgeHours * HOUR_MS && article.issued <= referenceMs + HOUR_MS;
}

/** Each article's issue time as the responses print it, formatted once per article object. */
const issuedText = new WeakMap<ArticleMeta, string>();

function issuedOf(article: ArticleMeta): string {
  let text = issuedText.get(article);
  if (text === undefined) {
    text = new Date(article.issued).toISOString();
    issuedText.set(article, text);
  }
  return text;
}

/** One recommended article as the API returns it. */
export function toRecommendedItem(
  article: ArticleMeta,
  score: number,
  reason: RecommendationReason,
  relatedTo?: string,
): RecommendedItem {
  return {
    page: article.page,
    score,
    title: article.title,
    url: article.url,
    section: article.section,
    region: article.region,
    issued: issuedOf(article),
    reason,
    ...(relatedTo === undefined ? {} : { relatedTo }),
  };
}
