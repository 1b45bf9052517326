import { z } from "zod";
import type { RawFileKind } from "./lake.js";
import { pageIdSchema, userIdSchema, userTypeSchema } from "./tables.js";

/**
 * The raw G1 files (docs/data.md: the format as accepted, with examples; docs/contracts.md). A file's kind is
 * decided by its header, never its name.
 */
export const RAW_HEADERS = {
  treino: [
    "userId",
    "userType",
    "historySize",
    "history",
    "timestampHistory",
    "numberOfClicksHistory",
    "timeOnPageHistory",
    "scrollPercentageHistory",
    "pageVisitsCountHistory",
    "timestampHistory_new",
  ],
  itens: ["page", "url", "issued", "modified", "title", "body", "caption"],
  validacao: ["userId", "userType", "history", "timestampHistory"],
  impressions: [
    "eventType",
    "impressionId",
    "userId",
    "timestamp",
    "modelVersion",
    "arm",
    "strategy",
    "pages",
    "scores",
    "latencyMs",
  ],
} as const satisfies Record<RawFileKind, readonly string[]>;

/**
 * How a file's header maps onto a kind: `columns[i]` is the file's column holding `RAW_HEADERS[kind][i]`
 * (columns are matched by name, in any order); or why no kind matches (missing, unknown or repeated
 * columns, named).
 */
export type RawHeaderMapping =
  | { ok: true; kind: RawFileKind; columns: number[] }
  | { ok: false; reason: string };

/** Maps a header onto the kind whose columns it names exactly (in any order). */
export function resolveRawHeader(header: readonly string[]): RawHeaderMapping {
  const names = header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
  const repeated = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
  if (repeated.length > 0)
    return { ok: false, reason: repeated.map((name) => `column ${name} twice`).join(", ") };
  const candidates = (Object.entries(RAW_HEADERS) as [RawFileKind, readonly string[]][]).map(
    ([kind, expected]) => ({
      kind,
      expected,
      missing: expected.filter((name) => !names.includes(name)),
      unknown: names.filter((name) => !expected.includes(name)),
    }),
  );
  const closest = candidates.reduce((best, c) =>
    c.missing.length + c.unknown.length < best.missing.length + best.unknown.length ? c : best,
  );
  if (closest.missing.length === 0 && closest.unknown.length === 0)
    return { ok: true, kind: closest.kind, columns: closest.expected.map((name) => names.indexOf(name)) };
  const problems = [
    ...closest.missing.map((name) => `missing column ${name}`),
    ...closest.unknown.map((name) => `unknown column ${name}`),
  ];
  return { ok: false, reason: `closest to the ${closest.kind} header: ${problems.join(", ")}` };
}

/** Detects the kind of a file from its header fields (any column order); undefined when none matches. */
export function detectRawFileKind(header: readonly string[]): RawFileKind | undefined {
  const mapping = resolveRawHeader(header);
  return mapping.ok ? mapping.kind : undefined;
}

/** Why a row was quarantined. Closed set: reports and tests count by these codes. */
export const QUARANTINE_REASONS = [
  "WRONG_FIELD_COUNT",
  "MISSING_FIELD",
  "BAD_USER_ID",
  "UNKNOWN_USER_TYPE",
  "BAD_UUID",
  "BAD_TIMESTAMP",
  "BAD_NUMBER",
  "NEGATIVE_VALUE",
  "LIST_LENGTH_MISMATCH",
  "HISTORY_SIZE_MISMATCH",
  "EMPTY_HISTORY",
  "BAD_URL",
  "BAD_DATE",
  "DUPLICATE_ROW",
  "BAD_VALUE",
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** One quarantined row, as written (JSON Lines) under `processed/quarantine/<source key>/`. */
export const quarantineRecordSchema = z.object({
  sourceKey: z.string(),
  /** 1-based line of the row's first physical line in the source file. */
  line: z.number().int().positive(),
  reason: z.enum(QUARANTINE_REASONS),
  detail: z.string(),
  /** The row's raw fields, as parsed from CSV. */
  fields: z.array(z.string()),
});
export type QuarantineRecord = z.infer<typeof quarantineRecordSchema>;

const epochMs = z.number().int().min(946_684_800_000).max(4_102_444_800_000); // 2000-01-01 .. 2100-01-01
const nonNegativeInt = z.number().int().nonnegative();

/** A treino row after its list columns were split and typed (engagement lists aligned by index). */
export const treinoRowSchema = z
  .object({
    userId: userIdSchema,
    userType: userTypeSchema,
    historySize: nonNegativeInt,
    history: z.array(z.string().min(1)),
    timestampHistory: z.array(epochMs),
    numberOfClicksHistory: z.array(nonNegativeInt),
    timeOnPageHistory: z.array(nonNegativeInt),
    scrollPercentageHistory: z.array(z.number().nonnegative()),
    pageVisitsCountHistory: z.array(nonNegativeInt),
    timestampHistory_new: z.array(epochMs),
  })
  .superRefine((row, ctx) => {
    const n = row.history.length;
    const lists = [
      row.timestampHistory,
      row.numberOfClicksHistory,
      row.timeOnPageHistory,
      row.scrollPercentageHistory,
      row.pageVisitsCountHistory,
      row.timestampHistory_new,
    ];
    if (lists.some((l) => l.length !== n))
      ctx.addIssue({ code: "custom", message: "LIST_LENGTH_MISMATCH: list columns differ in length" });
    else if (row.historySize !== n)
      ctx.addIssue({ code: "custom", message: "HISTORY_SIZE_MISMATCH: historySize differs from the lists" });
  });
export type TreinoRow = z.infer<typeof treinoRowSchema>;

export const validacaoRowSchema = z
  .object({
    userId: userIdSchema,
    userType: userTypeSchema,
    history: z.array(pageIdSchema).min(1),
    timestampHistory: z.array(epochMs).min(1),
  })
  .refine((r) => r.history.length === r.timestampHistory.length, {
    message: "LIST_LENGTH_MISMATCH: history and timestampHistory differ in length",
  });
export type ValidacaoRow = z.infer<typeof validacaoRowSchema>;

export const itensRowSchema = z.object({
  page: pageIdSchema,
  url: z.string().regex(/^https?:\/\/\S+$/, "BAD_URL: not an http(s) URL"),
  issued: epochMs,
  modified: epochMs,
  title: z.string(),
  body: z.string(),
  caption: z.string(),
});
export type ItensRow = z.infer<typeof itensRowSchema>;
