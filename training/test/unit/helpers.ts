import { HOUR_MS } from "../../src/domain/data.js";
import type { TfLogger } from "../../src/tf/backend.js";

/** The n-th fixture page id (a UUID). */
export const pageId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** A reader's read of page `page` at `hour` hours after the epoch, with fixed signals. */
export const readAt = (page: number, hour: number) => ({
  page: pageId(page),
  timestamp: hour * HOUR_MS,
  clicks: 0,
  timeOnPageMs: 10_000,
  scrollPercentage: 30,
  pageVisits: 1,
});

export interface LogEntry {
  level: "info" | "warn";
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that records what it is given, typed like the part of pino the runtime uses. */
export function recordingLogger(): TfLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record =
    (level: LogEntry["level"]) =>
    (fields: unknown, message?: string): void => {
      entries.push({ level, fields: fields as Record<string, unknown>, message: message ?? "" });
    };
  return { entries, info: record("info") as TfLogger["info"], warn: record("warn") as TfLogger["warn"] };
}
