import { z } from "zod";
import { pageIdSchema, userIdSchema, userTypeSchema } from "./tables.js";

/**
 * The recommendation API's request and response bodies. The api service validates with these, its
 * OpenAPI document is generated from them, and clients (bench, demo) share the inferred types.
 */

export const API_LIMITS = {
  maxK: 100,
  defaultK: 10,
  maxExclude: 1_000,
  maxRecentlyClicked: 50,
  maxEventsPerRequest: 500,
} as const;

/** Where the reader is reading: narrows cold start and candidate generation. */
export const apiContextSchema = z
  .object({
    region: z.string().min(1).max(100).optional(),
    section: z.string().min(1).max(100).optional(),
  })
  .strict();
export type ApiContext = z.infer<typeof apiContextSchema>;

const kSchema = z.number().int().min(1).max(API_LIMITS.maxK).default(API_LIMITS.defaultK);

export const predictRequestSchema = z
  .object({
    userId: userIdSchema,
    k: kSchema,
    exclude: z.array(pageIdSchema).max(API_LIMITS.maxExclude).optional(),
    context: apiContextSchema.optional(),
  })
  .strict();
export type PredictRequest = z.infer<typeof predictRequestSchema>;

export const coldstartRequestSchema = z
  .object({
    k: kSchema,
    context: apiContextSchema.optional(),
    recentlyClicked: z.array(pageIdSchema).max(API_LIMITS.maxRecentlyClicked).optional(),
    exclude: z.array(pageIdSchema).max(API_LIMITS.maxExclude).optional(),
  })
  .strict();
export type ColdstartRequest = z.infer<typeof coldstartRequestSchema>;

/** An RFC 9562 UUID as `pageIdSchema` (zod's uuid) accepts it: version 1-8, variant 10xx. */
const UUID_TEXT = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}";

/**
 * `recentlyClicked` in a query string: up to `maxRecentlyClicked` page ids separated by commas (spaces
 * around them allowed). The document states this pattern, so it accepts exactly what the server does.
 */
export const RECENTLY_CLICKED_PATTERN = new RegExp(
  `^ *${UUID_TEXT}(?: *, *${UUID_TEXT}){0,${API_LIMITS.maxRecentlyClicked - 1}} *$`,
);

/** The page ids of a `recentlyClicked` query value that matches `RECENTLY_CLICKED_PATTERN`. */
export function splitRecentlyClicked(value: string): string[] {
  return value.split(",").map((s) => s.trim());
}

/** `GET /coldstart` query string: the same request, flattened (`recentlyClicked=a,b`). */
export const coldstartQuerySchema = z
  .object({
    k: z.coerce.number().int().min(1).max(API_LIMITS.maxK).default(API_LIMITS.defaultK),
    region: z.string().min(1).max(100).optional(),
    section: z.string().min(1).max(100).optional(),
    recentlyClicked: z
      .string()
      .regex(
        RECENTLY_CLICKED_PATTERN,
        `recentlyClicked must be 1 to ${API_LIMITS.maxRecentlyClicked} page ids separated by commas`,
      )
      .optional(),
  })
  .strict();
export type ColdstartQuery = z.infer<typeof coldstartQuerySchema>;

/** Why an article is in a list: the candidate source that produced it. */
export const RECOMMENDATION_REASONS = [
  "co-visited",
  "content-similar",
  "popular-section",
  "popular-region",
  "popular-global",
  "fresh-section",
  "popular-any-age",
  "newest",
] as const;
export type RecommendationReason = (typeof RECOMMENDATION_REASONS)[number];

export const recommendedItemSchema = z.object({
  page: pageIdSchema,
  score: z.number(),
  title: z.string(),
  url: z.string(),
  section: z.string(),
  region: z.string(),
  /** ISO 8601 publication time. */
  issued: z.iso.datetime(),
  reason: z.enum(RECOMMENDATION_REASONS),
  /** For `co-visited`: the article read or clicked that this one was read together with. */
  relatedTo: pageIdSchema.optional(),
});
export type RecommendedItem = z.infer<typeof recommendedItemSchema>;

/** Why /predict did not rank with a model. */
export const PREDICT_FALLBACKS = ["no-model", "unknown-reader", "model-error"] as const;
export type PredictFallback = (typeof PREDICT_FALLBACKS)[number];

/** Names one served list; a click may quote it (`/events` `impressionId`) to be credited to it. */
const impressionIdSchema = z.uuid().toLowerCase();

export const predictResponseSchema = z.object({
  userId: userIdSchema,
  /** The served list's id in the impression log (contracts/impressions.ts). */
  impressionId: impressionIdSchema,
  /** Registry version of the model that ranked the list; null when cold start answered. */
  modelVersion: z.string().nullable(),
  strategy: z.enum(["model", "coldstart"]),
  fallback: z.enum(PREDICT_FALLBACKS).nullable(),
  /** Cold-start snapshot the candidates came from (null before the first load). */
  snapshotId: z.string().nullable(),
  items: z.array(recommendedItemSchema),
});
export type PredictResponse = z.infer<typeof predictResponseSchema>;

export const coldstartResponseSchema = z.object({
  impressionId: impressionIdSchema,
  modelVersion: z.literal("coldstart"),
  strategy: z.literal("coldstart"),
  snapshotId: z.string().nullable(),
  items: z.array(recommendedItemSchema),
});
export type ColdstartResponse = z.infer<typeof coldstartResponseSchema>;

/** A client-chosen event id: printable ASCII without spaces, at most 128 characters. */
export const eventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, "eventId must be 1-128 printable ASCII characters without spaces");

/** One event of a `/events` body. Later kinds of events add fields here. */
export const apiEventSchema = z
  .object({
    /**
     * `click`: the reader opened `page`. `impression`: the client displayed `page` (a client-side
     * impression of a served list, recorded as a `shown` row of the impression log).
     */
    type: z.enum(["click", "impression"]),
    /**
     * The served list this event belongs to (a response's `impressionId`); without it the event is
     * credited to the reader's latest list holding the page within `ATTRIBUTION_WINDOW_MS`. Any id
     * this api never served to this reader (malformed ones included) leaves the event unattributed,
     * never refused: the click itself is still recorded.
     */
    impressionId: eventIdSchema.toLowerCase().optional(),
    /** Chosen by the client; a retry carrying the same id (for the same reader) adds nothing. */
    eventId: eventIdSchema.optional(),
    userId: userIdSchema,
    page: pageIdSchema,
    /** Epoch milliseconds; the server's receipt time when absent. */
    timestamp: z.number().int().min(946_684_800_000).max(4_102_444_800_000).optional(),
    timeOnPageMs: z.number().int().nonnegative().max(86_400_000).optional(),
    scrollPercentage: z.number().nonnegative().max(10_000).optional(),
    /** Known only for logged-in readers; new readers default to "Non-Logged". */
    userType: userTypeSchema.optional(),
  })
  .strict();
export type ApiEvent = z.infer<typeof apiEventSchema>;

/**
 * The `/events` body: 1 to 500 events, each an object checked on its own against `apiEventSchema`:
 * the valid ones are recorded, the others reported in the response's `rejected` by index. The
 * document says so (each item is an event, or any other object, which is then rejected), so a batch
 * with a bad event is a valid request. Later kinds of events add fields to `apiEventSchema` only.
 */
export const eventsRequestSchema = z
  .object({
    events: z
      .array(z.union([apiEventSchema, z.looseObject({})]))
      .min(1)
      .max(API_LIMITS.maxEventsPerRequest),
  })
  .strict();
export type EventsRequest = z.infer<typeof eventsRequestSchema>;

/** A validation problem, by field path from the body (`body.events.3.page`). */
export const fieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

/** An event refused by `/events`: its index in the request and what is wrong with it. */
export const eventRejectionSchema = z.object({
  index: z.number().int().nonnegative(),
  issues: z.array(fieldIssueSchema).min(1),
});
export type EventRejection = z.infer<typeof eventRejectionSchema>;

export type ParsedEventsRequest =
  | { success: true; events: { index: number; event: ApiEvent }[]; rejected: EventRejection[] }
  | { success: false; error: z.ZodError };

/**
 * Validates a `/events` body before anything is written: the envelope as a whole, then each event on
 * its own, so the good events can be accepted and the bad ones reported by index.
 */
export function parseEventsRequest(body: unknown): ParsedEventsRequest {
  const envelope = eventsRequestSchema.safeParse(body);
  if (!envelope.success) return { success: false, error: envelope.error };
  const events: { index: number; event: ApiEvent }[] = [];
  const rejected: EventRejection[] = [];
  envelope.data.events.forEach((raw, index) => {
    const parsed = apiEventSchema.safeParse(raw);
    if (parsed.success) events.push({ index, event: parsed.data });
    else
      rejected.push({
        index,
        issues: parsed.error.issues.map((issue) => ({
          path: ["body", "events", index, ...issue.path].map(String).join("."),
          message: issue.message,
        })),
      });
  });
  return { success: true, events, rejected };
}

export const eventsResponseSchema = z.object({
  /** Events recorded by this request (not counting duplicates nor rejected ones). */
  accepted: z.number().int().nonnegative(),
  clicks: z.number().int().nonnegative(),
  impressions: z.number().int().nonnegative(),
  /** Readers whose read set was updated by this request. */
  readersUpdated: z.number().int().nonnegative(),
  /** Events whose `eventId` was already recorded (a retry): they added nothing. */
  duplicates: z.number().int().nonnegative(),
  /** Recorded events credited to a served list (by `impressionId`, or the reader's latest list within the window). */
  attributed: z.number().int().nonnegative(),
  /** Recorded events credited to none: no list within the window, or an unknown or foreign `impressionId`. */
  unattributed: z.number().int().nonnegative(),
  /** Events refused, by index in the request; the others were recorded. */
  rejected: z.array(eventRejectionSchema),
  modelVersion: z.string().nullable(),
});
export type EventsResponse = z.infer<typeof eventsResponseSchema>;

export const healthResponseSchema = z.object({ status: z.literal("ok") });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

const checkSchema = z.object({ ok: z.boolean(), detail: z.string() });
export const readyResponseSchema = z.object({
  ready: z.boolean(),
  modelVersion: z.string().nullable(),
  checks: z.object({ model: checkSchema, featureStore: checkSchema, draining: checkSchema }),
});
export type ReadyResponse = z.infer<typeof readyResponseSchema>;

/** Every error body. `issues` lists validation problems by field path; never a stack trace. */
export const errorResponseSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    issues: z.array(fieldIssueSchema).optional(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
