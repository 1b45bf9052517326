import { categoriseUrl, mergeUserItem, toArticleItem } from "../domain/index.js";
import type { IngestBuilders } from "./ingest-file.js";

/**
 * Builders whose reader items expire `days` after this write (DynamoDB TTL: inactive readers leave
 * the users table; docs/privacy.md). Every write moves the expiry, so only inactive readers expire.
 */
export function withReaderRetention(builders: IngestBuilders, days: number | undefined): IngestBuilders {
  if (days === undefined) return builders;
  return {
    ...builders,
    userMerge(userId, userType, interactions, now) {
      const merge = builders.userMerge(userId, userType, interactions, now);
      const expiresAt = Math.floor(now.getTime() / 1000) + days * 86_400;
      return (existing) => ({ ...merge(existing), expiresAt });
    },
  };
}

/**
 * The production builders: domain functions bound to the ingestion use case. Article vectors use
 * term frequencies only (no file-level IDF), so an article's vector never depends on which file
 * brought it or in which order files arrived.
 */
export const domainBuilders: IngestBuilders = {
  article(row, source, now) {
    const item = toArticleItem(row, { updatedAt: now.toISOString() });
    const category = categoriseUrl(row.url);
    return {
      item,
      record: {
        page: row.page,
        url: row.url,
        issued: row.issued,
        modified: row.modified,
        title: row.title,
        body: row.body,
        caption: row.caption,
        section: category.section,
        region: category.region,
        contentType: category.contentType,
        source,
      },
    };
  },
  userMerge(userId, userType, interactions, now) {
    const updatedAt = now.toISOString();
    return (existing) => mergeUserItem(existing, { userId, userType, interactions }, updatedAt);
  },
};
