import { z } from "zod";
import { RAW_FILE_KINDS } from "./lake.js";

/**
 * The online feature store: DynamoDB tables, on-demand, each with a TTL attribute. Their key
 * schemas are data here so the Pulumi program and the local stack create identical tables.
 */
export interface TableDefinition {
  /** Suffix after the resource prefix: `${prefix}-${suffix}`. */
  suffix: string;
  partitionKey: { name: string; type: "S" | "N" | "B" };
  ttlAttribute: string;
  purpose: string;
}

export const TTL_ATTRIBUTE = "expiresAt";

export const TABLES = {
  users: {
    suffix: "users",
    partitionKey: { name: "userId", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "Readers with history: the merged interaction log (packed) and order-independent stats.",
  },
  items: {
    suffix: "items",
    partitionKey: { name: "page", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "News articles: metadata, categories from the URL and a hashed TF-IDF content vector.",
  },
  coldstart: {
    suffix: "coldstart",
    partitionKey: { name: "listId", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "Snapshot tables: popularity lists (global/section/region × window) and co-visitation.",
  },
  ingestions: {
    suffix: "ingestions",
    partitionKey: { name: "sourceId", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "One row per source object version: the processed marker and its counts.",
  },
  eventIds: {
    suffix: "event-ids",
    partitionKey: { name: "eventKey", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "Client event ids the api has seen (reader id # event id), so a retried /events adds nothing.",
  },
  erasures: {
    suffix: "erasures",
    partitionKey: { name: "userHash", type: "S" },
    ttlAttribute: TTL_ATTRIBUTE,
    purpose: "The erasure ledger: hashed ids of erased readers and when (never expires; docs/privacy.md).",
  },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;
export type TableNames = Record<TableName, string>;

export function tableNames(prefix: string): TableNames {
  return {
    users: `${prefix}-${TABLES.users.suffix}`,
    items: `${prefix}-${TABLES.items.suffix}`,
    coldstart: `${prefix}-${TABLES.coldstart.suffix}`,
    ingestions: `${prefix}-${TABLES.ingestions.suffix}`,
    eventIds: `${prefix}-${TABLES.eventIds.suffix}`,
    erasures: `${prefix}-${TABLES.erasures.suffix}`,
  };
}

/** DynamoDB's hard item size limit, and the budget we keep for a user item. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

const binary = z.instanceof(Uint8Array);
const epochMs = z.number().int().nonnegative();
/**
 * Ids are accepted in any case and lower-cased here, once, before anything stores, compares or encodes
 * them (the packed log encodes lower-case UUIDs; an upper-case exclude would otherwise match nothing).
 */
export const userIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "userId must be 64 hex characters")
  .toLowerCase();
export const pageIdSchema = z.uuid().toLowerCase();
export const userTypeSchema = z.enum(["Logged", "Non-Logged"]);

/**
 * A reader. `log` is the whole merged interaction log, packed by `interaction-log.ts` (40 bytes per
 * interaction: 7,004 interactions take 280 KB, inside the 400 KB item limit). When a reader passes
 * `MAX_LOG_INTERACTIONS`, the oldest interactions leave the log and their pages enter `evicted`, a
 * Bloom filter, so the full history is still excluded from recommendations.
 * Written with a conditional check on `version` (optimistic concurrency).
 */
export const userItemSchema = z.object({
  userId: userIdSchema,
  userType: userTypeSchema,
  version: z.number().int().nonnegative(),
  updatedAt: z.iso.datetime(),
  interactionCount: z.number().int().nonnegative(),
  firstTimestamp: epochMs,
  lastTimestamp: epochMs,
  log: binary,
  evictedCount: z.number().int().nonnegative().default(0),
  evicted: binary.optional(),
  expiresAt: z.number().int().optional(),
});
export type UserItem = z.infer<typeof userItemSchema>;

/** Content categories derived from the article URL. */
export const contentTypeSchema = z.enum(["noticia", "blog", "especial", "quiz", "video", "other"]);
export type ContentType = z.infer<typeof contentTypeSchema>;

/**
 * A news article. Upserted by page; the later `modified` wins (ties broken by `contentHash`), so
 * files merge in any order. `vector` is a packed sparse hashed TF-IDF vector (see content-vector.ts).
 */
export const articleItemSchema = z.object({
  page: pageIdSchema,
  url: z.string(),
  title: z.string(),
  caption: z.string().default(""),
  issued: epochMs,
  modified: epochMs,
  section: z.string(),
  region: z.string(),
  contentType: contentTypeSchema,
  contentHash: z.string(),
  vector: binary,
  updatedAt: z.iso.datetime(),
  expiresAt: z.number().int().optional(),
});
export type ArticleItem = z.infer<typeof articleItemSchema>;

/** Windows of the popularity lists, in hours. */
export const POPULARITY_WINDOWS_HOURS = [1, 6, 24] as const;
export type PopularityWindow = (typeof POPULARITY_WINDOWS_HOURS)[number];

/** Ids of the coldstart table's rows. */
export const coldstartListId = {
  popular: (scope: "global" | `section:${string}` | `region:${string}`, windowHours: PopularityWindow) =>
    `popular#${scope}#${windowHours}h`,
  covisit: (page: string) => `covisit#${page}`,
};

export const rankedEntrySchema = z.object({ page: pageIdSchema, score: z.number() });
export type RankedEntry = z.infer<typeof rankedEntrySchema>;

/** One cold-start list or one article's co-visitation neighbours, as of a snapshot. */
export const coldstartItemSchema = z.object({
  listId: z.string().min(1),
  snapshotId: z.string().min(1),
  asOf: epochMs,
  entries: z.array(rankedEntrySchema).max(500),
  updatedAt: z.iso.datetime(),
  expiresAt: z.number().int().optional(),
});
export type ColdstartItem = z.infer<typeof coldstartItemSchema>;

/**
 * Why an element of an accepted row was dropped (the row itself is kept). Closed set, counted per file:
 * `EDITORIAL_ID` — an `esid:` editorial id in a history, which names no article and never matches an item.
 */
export const DROP_REASONS = ["EDITORIAL_ID"] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const ingestionCountsSchema = z.object({
  rowsIn: z.number().int().nonnegative(),
  rowsAccepted: z.number().int().nonnegative(),
  rowsQuarantined: z.number().int().nonnegative(),
  elementsDropped: z.number().int().nonnegative(),
  /** `elementsDropped` by reason (they add up to it); absent in rows written before reasons were kept. */
  elementsDroppedByReason: z.partialRecord(z.enum(DROP_REASONS), z.number().int().nonnegative()).optional(),
  itemsWritten: z.number().int().nonnegative(),
});
export type IngestionCounts = z.infer<typeof ingestionCountsSchema>;

/**
 * Outcomes of an ingestion attempt: `started` (in progress, or the task died), `succeeded`, `failed`
 * (a write failed; re-runs converge) and `refused` (the file itself is unusable: unknown header, not
 * UTF-8, truncated; nothing was written).
 */
export const INGESTION_STATUSES = ["started", "succeeded", "failed", "refused"] as const;
export type IngestionStatus = (typeof INGESTION_STATUSES)[number];

/**
 * One row per source object version, whatever the outcome of its last attempt: the processed marker
 * (`status: "succeeded"` makes a re-delivered event a no-op). `kind` is absent when the file was refused
 * before its kind was known.
 */
export const ingestionItemSchema = z.object({
  sourceId: z.string().min(1),
  bucket: z.string(),
  key: z.string(),
  etag: z.string(),
  /** Absent on the row of a file refused as a whole (unknown header, invalid UTF-8…). */
  kind: z.enum(RAW_FILE_KINDS).optional(),
  status: z.enum(INGESTION_STATUSES),
  attempts: z.number().int().positive(),
  /**
   * While `started`: how many of the file's readers (in file order) are committed. A re-run of the same
   * object version skips them without reading them.
   */
  usersCommitted: z.number().int().nonnegative().optional(),
  counts: ingestionCountsSchema.optional(),
  reportKey: z.string().optional(),
  error: z.string().optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  /**
   * Set when an erasure rewrote this version's rows: the version's bytes hold erased readers, so a
   * re-delivery of them is scrubbed again (docs/privacy.md).
   */
  erasedAt: z.iso.datetime().optional(),
  expiresAt: z.number().int().optional(),
});
export type IngestionItem = z.infer<typeof ingestionItemSchema>;

/** How long a client event id is remembered: retries later than this are new events. */
export const EVENT_ID_TTL_SECONDS = 7 * 24 * 3600;

/** A seen client event id (the event-ids table); `eventKey` is `eventKey(userId, eventId)`. */
export const seenEventItemSchema = z.object({
  eventKey: z.string().min(1),
  seenAt: z.iso.datetime(),
  expiresAt: z.number().int(),
});
export type SeenEventItem = z.infer<typeof seenEventItemSchema>;

/** The event-ids table's key: scoped by reader, so two readers' client ids never collide. */
export function eventKey(userId: string, eventId: string): string {
  return `${userId}#${eventId}`;
}
