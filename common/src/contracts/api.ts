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

/** `GET /coldstart` query string: the same request, flattened (`recentlyClicked=a,b`). */
export const coldstartQuerySchema = z
  .object({
    k: z.coerce.number().int().min(1).max(API_LIMITS.maxK).default(API_LIMITS.defaultK),
    region: z.string().min(1).max(100).optional(),
    section: z.string().min(1).max(100).optional(),
    recentlyClicked: z
      .string()
      .max(40 * API_LIMITS.maxRecentlyClicked)
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

export const predictResponseSchema = z.object({
  userId: userIdSchema,
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
  modelVersion: z.literal("coldstart"),
  strategy: z.literal("coldstart"),
  snapshotId: z.string().nullable(),
  items: z.array(recommendedItemSchema),
});
export type ColdstartResponse = z.infer<typeof coldstartResponseSchema>;

export const apiEventSchema = z
  .object({
    type: z.enum(["click", "impression"]),
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

export const eventsRequestSchema = z
  .object({ events: z.array(apiEventSchema).min(1).max(API_LIMITS.maxEventsPerRequest) })
  .strict();
export type EventsRequest = z.infer<typeof eventsRequestSchema>;

export const eventsResponseSchema = z.object({
  accepted: z.number().int().nonnegative(),
  clicks: z.number().int().nonnegative(),
  impressions: z.number().int().nonnegative(),
  /** Readers whose read set was updated by this request. */
  readersUpdated: z.number().int().nonnegative(),
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
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
