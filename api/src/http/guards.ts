import { createHash } from "node:crypto";
import { type ApiScope, AppError, DEFAULT_API_SCOPES } from "@gplay/common";
import type { Request, RequestHandler, Response } from "express";
import { type RateQuota, TokenBuckets } from "../domain/token-bucket.js";
import { sendError } from "./errors.js";
import { requestState } from "./request-context.js";

/** One API client: a name for logs and metrics, its key, and its quota. */
export interface ApiClient {
  name: string;
  key: string;
  quota: RateQuota;
  /** What the key may do (default: `recommend` only). */
  scopes?: readonly ApiScope[];
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

/**
 * `x-api-key` authentication. Keys are held as SHA-256 digests, so lookups never compare the secret
 * itself character by character. In front of it, a limit per client IP (`req.ip`, from
 * X-Forwarded-For with express's `trust proxy` set to the balancer's hop count, so a client cannot
 * pick its own address): each failed authentication takes a token of that IP's `failureQuota`, and an
 * IP without tokens gets 429 before its key is looked at. Good requests cost nothing.
 */
export function apiKeyAuth(
  clients: readonly ApiClient[],
  failureQuota: RateQuota,
  now: () => number = Date.now,
): RequestHandler {
  const byDigest = new Map(clients.map((c) => [sha256(c.key), c]));
  const failures = new TokenBuckets(now);
  return (req, res, next) => {
    const ip = req.ip ?? "unknown";
    const open = failures.peek(ip, failureQuota);
    if (!open.allowed)
      throw new AppError("RATE_LIMITED", "Too many failed authentications from this address; retry later", {
        details: { retryAfterSeconds: open.retryAfterSeconds },
      });
    const key = req.headers["x-api-key"];
    const client = typeof key === "string" && key.length > 0 ? byDigest.get(sha256(key)) : undefined;
    if (client === undefined) {
      failures.take(ip, failureQuota);
      throw new AppError(
        "UNAUTHORIZED",
        key === undefined ? "Missing x-api-key header" : "Unknown API key in x-api-key header",
      );
    }
    res.locals.apiClient = client;
    const state = requestState(res);
    if (state !== undefined) state.client = client.name;
    next();
  };
}

/** 403 unless the authenticated key has `scope` (the admin routes need `admin`). */
export function requireScope(scope: ApiScope): RequestHandler {
  return (_req, res, next) => {
    const client = res.locals.apiClient as ApiClient;
    if (!(client.scopes ?? DEFAULT_API_SCOPES).includes(scope))
      throw new AppError("FORBIDDEN", `This API key lacks the ${scope} scope`);
    next();
  };
}

/** Token-bucket rate limit per API client: 429 with Retry-After (seconds) when its bucket is empty. */
export function rateLimit(now: () => number = Date.now): RequestHandler {
  const buckets = new TokenBuckets(now);
  return (_req, res, next) => {
    const client = res.locals.apiClient as ApiClient;
    const result = buckets.take(client.name, client.quota);
    if (!result.allowed)
      throw new AppError(
        "RATE_LIMITED",
        `Rate limit of ${client.quota.ratePerSecond}/s exceeded; retry later`,
        {
          details: { retryAfterSeconds: result.retryAfterSeconds },
        },
      );
    next();
  };
}

/**
 * Answers 503 when a request runs longer than `timeoutMs`. The answer is sent here, not through `next`:
 * calling `next` a second time would move express's chain past the error middleware, and the late
 * handler's outcome would then reach express's final handler, which destroys the keep-alive socket.
 * The late handler's own answer is dropped (`reply`, `sendError` write nothing once headers left).
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (!res.headersSent)
        sendError(
          new AppError("TIMEOUT", `Request exceeded ${timeoutMs} ms`, { details: { timeoutMs } }),
          req,
          res,
        );
    }, timeoutMs);
    timer.unref();
    // "close" follows "finish" on every response, answered or aborted.
    res.on("close", () => clearTimeout(timer));
    next();
  };
}

/**
 * POST bodies must be JSON (415 otherwise), so a missing header is not misread as an empty body; an
 * empty body (no chunked body, no or a zero Content-Length) is a 400 that says so.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method !== "POST") return next();
  const length = req.headers["content-length"];
  if (req.headers["transfer-encoding"] === undefined && (length === undefined || Number(length) === 0))
    throw new AppError("VALIDATION_FAILED", "Request body is empty; send a JSON object (see /openapi.json)");
  if (!req.is("application/json"))
    throw new AppError("UNSUPPORTED_INPUT", "Send the body as JSON with Content-Type: application/json");
  next();
};

/**
 * 405 with `Allow` for a method a known path does not serve (TRACE, PUT…); unknown paths stay 404.
 * Runs before authentication: the method is wrong whoever asks.
 */
export function methodNotAllowed(routes: readonly { method: string; path: string }[]): RequestHandler {
  const allowed = new Map<string, Set<string>>();
  for (const r of routes) allowed.set(r.path, (allowed.get(r.path) ?? new Set()).add(r.method.toUpperCase()));
  return (req, res, next) => {
    const methods = allowed.get(req.path);
    if (methods === undefined || methods.has(req.method) || (req.method === "HEAD" && methods.has("GET")))
      return next();
    res.setHeader("Allow", [...methods].sort().join(", "));
    throw new AppError("METHOD_NOT_ALLOWED", `${req.method} is not served on ${req.path}; see /openapi.json`);
  };
}

/** CORS for the configured origins only; answers preflights before authentication. */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && (any || allowed.has(origin))) {
      res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
      res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Expose-Headers", "Retry-After, x-model-version, x-request-id");
      if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "content-type, x-api-key, x-request-id");
        res.setHeader("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    if (req.method === "OPTIONS") {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** While draining, every response closes its connection, so keep-alive clients move to other tasks. */
export function closeWhenDraining(isDraining: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (isDraining()) res.setHeader("Connection", "close");
    next();
  };
}

/**
 * A headers-only middleware (helmet with static options) run once at start-up and replayed: it sets
 * the same headers on every response, but rebuilt them per request (the CSP string from its
 * directives, a dozen nested middlewares). Throws at start-up if the middleware does not complete
 * synchronously with only header calls, i.e. cannot be recorded.
 */
export function recordedHeaders(middleware: RequestHandler): RequestHandler {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      set.push([name, String(value)]);
    },
    removeHeader: (name: string) => {
      removed.push(name);
    },
  };
  let completed = false;
  void middleware({ headers: {}, method: "GET" } as Request, recorder as unknown as Response, (error) => {
    if (error === undefined) completed = true;
  });
  if (!completed)
    throw new Error("The headers middleware did not complete synchronously; it cannot be recorded");
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}
