import { z } from "zod";
import { API_EVENTS_PREFIX } from "./lake.js";
import { RAW_HEADERS } from "./raw-files.js";
import { pageIdSchema, userIdSchema } from "./tables.js";

/**
 * The impression log (issue #19): what the api served, to whom, from which model version and arm,
 * and which clicks it earned. The api batches these rows into `impressions`-kind CSV files under
 * `raw/` (header `RAW_HEADERS.impressions`); the featstore-engine ingests them into the `impressions`
 * dataset of `processed/` (bad rows quarantined with reasons), where the decision job and the
 * snapshot join them. docs/online.md describes the loop.
 */

/**
 * What a row records:
 * - `served`: a list the api answered (`/predict`, `/coldstart`), its pages in rank order.
 * - `shadow`: a list the challenger scored for a request it did not answer (shadow mode): recorded,
 *   never shown, never credited with clicks.
 * - `shown`: a client-side impression (`/events` `type: "impression"`): the pages the client says it
 *   actually displayed, attributed to the served list like a click.
 * - `click`: a click (`/events` `type: "click"`), with the impression it was attributed to (empty when
 *   unattributed).
 */
export const IMPRESSION_EVENT_TYPES = ["served", "shadow", "shown", "click"] as const;
export type ImpressionEventType = (typeof IMPRESSION_EVENT_TYPES)[number];

/** Which arm answered: the registry alias of the version, or none (cold start without a model). */
export const SERVING_ARMS = ["champion", "challenger", "none"] as const;
export type ServingArm = (typeof SERVING_ARMS)[number];

/**
 * How the list was ranked: as `PredictResponse.strategy`, except `model-error` (the arm's model failed
 * and cold start answered: the error-rate guardrail counts these).
 */
export const IMPRESSION_STRATEGIES = ["model", "coldstart", "model-error"] as const;
export type ImpressionStrategy = (typeof IMPRESSION_STRATEGIES)[number];

/**
 * A click (or client impression) without an `impressionId` is credited to the reader's latest served
 * list within this window that holds the clicked page; older lists, or lists without the page, leave
 * it unattributed.
 */
export const ATTRIBUTION_WINDOW_MS = 30 * 60_000;

/** Where the api drops its impression files (inside the api's own raw prefix, so its write grant covers it). */
export const API_IMPRESSIONS_PREFIX = `${API_EVENTS_PREFIX}impressions/`;

/** Separator of the `pages` and `scores` list columns (never inside a page id or a number). */
export const IMPRESSION_LIST_SEPARATOR = "|";

const epochMs = z.number().int().min(946_684_800_000).max(4_102_444_800_000);

/**
 * One row of the impression log, typed. `served`/`shadow` rows carry their own `impressionId`, pages in
 * rank order (position = index + 1) and one score per page; `click`/`shown` rows carry the page(s)
 * acted on, no scores, and the impression they were attributed to (or none), with that impression's
 * version, arm and strategy copied so counts per arm need no join.
 */
export const impressionLogRowSchema = z
  .object({
    eventType: z.enum(IMPRESSION_EVENT_TYPES),
    impressionId: z.uuid().toLowerCase().optional(),
    /** Absent for `/coldstart` lists (no reader named). Same field and form as the click files'. */
    userId: userIdSchema.optional(),
    timestamp: epochMs,
    /** Registry version, "coldstart", or absent for an unattributed click. */
    modelVersion: z
      .string()
      .regex(/^(?:\d{1,9}|coldstart)$/, "BAD_VALUE: modelVersion is a registry version number or coldstart")
      .optional(),
    arm: z.enum(SERVING_ARMS).optional(),
    strategy: z.enum(IMPRESSION_STRATEGIES).optional(),
    pages: z.array(pageIdSchema).max(1_000),
    scores: z.array(z.number()),
    /** Served and shadow lists: how long the arm took to rank (the guardrail's latency). */
    latencyMs: z.number().int().nonnegative().max(3_600_000).optional(),
  })
  .superRefine((row, ctx) => {
    const listed = row.eventType === "served" || row.eventType === "shadow";
    if (listed) {
      if (row.impressionId === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["impressionId"],
          message: "MISSING_FIELD: a served list needs its impressionId",
        });
      if (row.modelVersion === undefined || row.arm === undefined || row.strategy === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["modelVersion"],
          message: "MISSING_FIELD: a served list needs modelVersion, arm and strategy",
        });
      if (row.scores.length !== row.pages.length)
        ctx.addIssue({
          code: "custom",
          path: ["scores"],
          message: "LIST_LENGTH_MISMATCH: one score per page",
        });
    } else {
      if (row.pages.length === 0)
        ctx.addIssue({ code: "custom", path: ["pages"], message: "EMPTY_HISTORY: a click names its page" });
      if (row.scores.length !== 0)
        ctx.addIssue({
          code: "custom",
          path: ["scores"],
          message: "LIST_LENGTH_MISMATCH: a click has no scores",
        });
      if (row.userId === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["userId"],
          message: "MISSING_FIELD: a click names its reader",
        });
    }
  });
export type ImpressionLogRow = z.infer<typeof impressionLogRowSchema>;

/** The CSV fields of one row, in `RAW_HEADERS.impressions` order (lists joined by `|`, absent = empty). */
export function impressionLogFields(row: ImpressionLogRow): string[] {
  return [
    row.eventType,
    row.impressionId ?? "",
    row.userId ?? "",
    String(row.timestamp),
    row.modelVersion ?? "",
    row.arm ?? "",
    row.strategy ?? "",
    row.pages.join(IMPRESSION_LIST_SEPARATOR),
    row.scores.map(String).join(IMPRESSION_LIST_SEPARATOR),
    row.latencyMs === undefined ? "" : String(row.latencyMs),
  ];
}

/**
 * Parses CSV fields (in `RAW_HEADERS.impressions` order) into a row: empty optional fields become
 * absent, lists are split, numbers parsed; the result is checked by `impressionLogRowSchema`.
 */
export function parseImpressionLogFields(fields: readonly string[]) {
  const at = (column: (typeof RAW_HEADERS.impressions)[number]) =>
    fields[RAW_HEADERS.impressions.indexOf(column)] ?? "";
  const opt = (column: (typeof RAW_HEADERS.impressions)[number]) => at(column) || undefined;
  const list = (value: string) => (value === "" ? [] : value.split(IMPRESSION_LIST_SEPARATOR));
  const int = (value: string) => (/^\d+$/.test(value) ? Number(value) : value);
  const latencyMs = at("latencyMs");
  return impressionLogRowSchema.safeParse({
    eventType: at("eventType"),
    impressionId: opt("impressionId"),
    userId: opt("userId"),
    timestamp: int(at("timestamp")),
    modelVersion: opt("modelVersion"),
    arm: opt("arm"),
    strategy: opt("strategy"),
    pages: list(at("pages")),
    scores: list(at("scores")).map((v) => (/^-?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i.test(v) ? Number(v) : v)),
    latencyMs: latencyMs === "" ? undefined : int(latencyMs),
  });
}

/** The `impressions` dataset in `processed/`: one record per row of the log (lists kept joined). */
export interface ImpressionRecord {
  eventType: ImpressionEventType;
  impressionId: string;
  userId: string;
  timestamp: number;
  modelVersion: string;
  arm: string;
  strategy: string;
  /** Pages joined by `|` (rank order for served lists). */
  pages: string;
  /** Scores joined by `|`. */
  scores: string;
  /** How many pages the row names. */
  items: number;
  /** Ranking time of a served/shadow list; -1 when not recorded. */
  latencyMs: number;
  source: string;
}

/** A parsed row as the processed record of one source file. */
export function toImpressionRecord(row: ImpressionLogRow, source: string): ImpressionRecord {
  return {
    eventType: row.eventType,
    impressionId: row.impressionId ?? "",
    userId: row.userId ?? "",
    timestamp: row.timestamp,
    modelVersion: row.modelVersion ?? "",
    arm: row.arm ?? "",
    strategy: row.strategy ?? "",
    pages: row.pages.join(IMPRESSION_LIST_SEPARATOR),
    scores: row.scores.map(String).join(IMPRESSION_LIST_SEPARATOR),
    items: row.pages.length,
    latencyMs: row.latencyMs ?? -1,
    source,
  };
}
