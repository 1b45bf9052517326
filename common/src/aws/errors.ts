import { AppError, type AppErrorCode } from "../errors/app-error.js";

interface SdkErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  code?: string;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket", "ResourceNotFoundException"]);
const CONFLICT = new Set(["ConditionalCheckFailedException", "TransactionCanceledException"]);
const THROTTLED = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "SlowDown",
  "TooManyRequestsException",
]);

/**
 * Translates an AWS SDK error into an AppError with a message that says what was being done.
 * Adapters call this in their catch blocks; callers then branch on `code` only.
 */
export function translateAwsError(
  error: unknown,
  doing: string,
  details: Record<string, unknown> = {},
): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? "UnknownError";
  const status = e.$metadata?.httpStatusCode;
  let code: AppErrorCode = "UPSTREAM_FAILED";
  if (NOT_FOUND.has(name) || status === 404) code = "NOT_FOUND";
  else if (CONFLICT.has(name)) code = "CONFLICT";
  else if (THROTTLED.has(name) || status === 429 || status === 503) code = "RATE_LIMITED";
  else if (name === "TimeoutError" || name === "RequestTimeout" || e.code === "ETIMEDOUT") code = "TIMEOUT";
  else if (e.code === "ECONNREFUSED" || e.code === "ECONNRESET" || e.code === "ENOTFOUND")
    code = "UPSTREAM_UNAVAILABLE";
  else if (status !== undefined && status >= 500) code = "UPSTREAM_UNAVAILABLE";
  const message = `${doing} failed: ${name}${error instanceof Error && error.message ? ` (${error.message})` : ""}`;
  return new AppError(code, message, { cause: error, details: { ...details, awsError: name, status } });
}
