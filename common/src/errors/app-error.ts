/**
 * The one error type of the platform. Adapters translate SDK/HTTP failures into it; the API maps
 * `code` to an HTTP status in one place; jobs log it and set a non-zero exit code.
 */
export const APP_ERROR_CODES = [
  "CONFIG_INVALID",
  "VALIDATION_FAILED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "RATE_LIMITED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_INPUT",
  "UPSTREAM_UNAVAILABLE",
  "UPSTREAM_FAILED",
  "TIMEOUT",
  "INTERNAL",
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export interface AppErrorOptions {
  /** The underlying error, kept for logs; never sent to API clients. */
  cause?: unknown;
  /** Structured, non-secret context (ids, keys, counts). */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: AppErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True for failures worth retrying later (the same call may succeed). */
  get transient(): boolean {
    return this.code === "UPSTREAM_UNAVAILABLE" || this.code === "TIMEOUT" || this.code === "RATE_LIMITED";
  }
}

export function isAppError(error: unknown, code?: AppErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(error: unknown, fallbackMessage = "Unexpected internal error"): AppError {
  if (error instanceof AppError) return error;
  return new AppError("INTERNAL", fallbackMessage, { cause: error });
}
