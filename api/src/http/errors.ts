import { AppError, type AppErrorCode, type ErrorResponse, type FieldIssue, toAppError } from "@gplay/common";
import type { ErrorRequestHandler, Request, Response } from "express";
import type { z } from "zod";
import { requestState } from "./request-context.js";

/** The one mapping from error code to HTTP status. */
export const STATUS_OF_CODE: Record<AppErrorCode, number> = {
  CONFIG_INVALID: 500,
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_INPUT: 415,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_FAILED: 502,
  TIMEOUT: 503,
  INTERNAL: 500,
};

/** Server-side failures get a fixed message: SDK messages may name tables or hosts. */
const SERVER_MESSAGES: Partial<Record<AppErrorCode, string>> = {
  CONFIG_INVALID: "The service is misconfigured",
  UPSTREAM_UNAVAILABLE: "A backing service is unavailable; retry later",
  UPSTREAM_FAILED: "A backing service failed; retry later",
  TIMEOUT: "The request took too long; retry later",
  INTERNAL: "Internal error",
};

/** A VALIDATION_FAILED AppError listing each problem by field path. */
export function invalidRequest(where: "body" | "query", issues: readonly FieldIssue[]): AppError {
  return new AppError(
    "VALIDATION_FAILED",
    `Invalid request ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    { details: { issues } },
  );
}

/** Turns a zod failure into a VALIDATION_FAILED AppError listing each problem by field path. */
export function validationError(where: "body" | "query", error: z.ZodError): AppError {
  return invalidRequest(
    where,
    error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join("."),
      message: issue.message,
    })),
  );
}

/** Parses `value` with `schema` or throws a VALIDATION_FAILED AppError. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: "body" | "query",
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

interface HttpErrorLike {
  type?: string;
  status?: number;
}

/** body-parser's errors (size, JSON syntax, charset) as AppErrors. */
function fromBodyParser(error: unknown): AppError | undefined {
  const e = error as HttpErrorLike | undefined;
  switch (e?.type) {
    case "entity.too.large":
      return new AppError("PAYLOAD_TOO_LARGE", "Request body is too large; send fewer items per request", {
        cause: error,
      });
    case "entity.parse.failed":
      return new AppError("VALIDATION_FAILED", "Request body is not valid JSON", { cause: error });
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError("UNSUPPORTED_INPUT", "Request body must be UTF-8 JSON", { cause: error });
    default:
      return undefined;
  }
}

/**
 * Sends a JSON body unless a response already left (a timeout answered first). Writes what express's
 * `res.status().json()` writes here (no ETag: the app disables it; no body for HEAD) without its
 * generic send path (content negotiation helpers, charset parsing, freshness checks).
 */
export function reply(res: Response, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  if (res.req.method === "HEAD") res.end();
  else res.end(text);
}

/**
 * Answers with an error: AppError code → status, a JSON body with the request id, no stack. Writes
 * nothing when a response already left (a time-out answered first: the late handler's outcome is dropped
 * and the keep-alive connection stays usable).
 */
export function sendError(error: unknown, req: Request, res: Response): void {
  const appError = fromBodyParser(error) ?? toAppError(error);
  const status = STATUS_OF_CODE[appError.code];
  const state = requestState(res);
  const log = state?.logger;
  if (res.headersSent) {
    log?.info({ code: appError.code, reason: appError.message }, "outcome after the response left; dropped");
    return;
  }
  if (status >= 500) log?.error({ err: appError, cause: appError.cause }, appError.message);
  else log?.info({ code: appError.code, reason: appError.message }, "request refused");
  if (appError.code === "RATE_LIMITED")
    res.setHeader("Retry-After", String(appError.details.retryAfterSeconds ?? 1));
  const issues = appError.details.issues as { path: string; message: string }[] | undefined;
  const body: ErrorResponse = {
    error: {
      code: appError.code,
      message: status >= 500 ? (SERVER_MESSAGES[appError.code] ?? "Internal error") : appError.message,
      requestId: state?.requestId ?? String(req.headers["x-request-id"] ?? ""),
      ...(issues === undefined ? {} : { issues }),
    },
  };
  res.status(status).json(body);
}

/** The one error middleware (last in the chain; never passes an error on, so express never cuts the socket). */
export const errorMiddleware: ErrorRequestHandler = (error, req, res, _next) => sendError(error, req, res);
