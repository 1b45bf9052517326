import type { TfLogger } from "../../src/tf/backend.js";

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
