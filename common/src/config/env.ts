import { z } from "zod";
import { AppError } from "../errors/app-error.js";

/**
 * Parses a source of environment variables with a zod object schema. On failure, throws one
 * `CONFIG_INVALID` AppError whose message names every bad variable and why.
 * Only a service's `main.ts` passes `process.env` here; nothing else reads the environment.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.map(String).join(".") : "(environment)";
    return { key, message: issue.message };
  });
  const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
  throw new AppError(
    "CONFIG_INVALID",
    `Invalid configuration: ${problems.length} variable(s) to fix:\n${lines.join("\n")}`,
    { details: { variables: problems.map((p) => p.key) } },
  );
}

/** Reusable field helpers, so every service spells the same setting the same way. */
export const envFields = {
  /** A whole number given as a string, with bounds. */
  int: (min: number, max: number) => z.coerce.number().int().min(min).max(max),
  /** "true"/"false"/"1"/"0" as a boolean. */
  bool: () =>
    z
      .enum(["true", "false", "1", "0"], { message: 'expected "true", "false", "1" or "0"' })
      .transform((v) => v === "true" || v === "1"),
  url: () => z.url({ message: "expected an absolute URL" }),
  /** A comma-separated list of non-empty strings. */
  list: () =>
    z.string().transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  logLevel: () => z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
};
