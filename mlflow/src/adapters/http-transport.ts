/**
 * The one place that talks HTTP to the MLflow tracking server: authentication, timeouts, retries
 * (only for calls safe to repeat), zod validation of every JSON answer, streaming artifact transfers,
 * and translation of every failure into common's AppError.
 */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Agent as HttpsAgent } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError, type AppErrorCode, type Logger } from "@gplay/common";
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from "axios";
import type { z } from "zod";
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from "../domain/retry.js";

/** Credentials sent with every request: the basic-auth app's users, or a bearer token. */
export type MlflowAuth =
  | { kind: "basic"; username: string; password: string }
  | { kind: "bearer"; token: string };

export interface HttpTransportOptions {
  /** The tracking server's base URL, e.g. http://127.0.0.1:5000 (a path prefix is kept). */
  baseUrl: string;
  auth?: MlflowAuth;
  /** PEM of the CA(s) trusted for an https server instead of Node's public roots (a private CA). */
  caPem?: string;
  /** Per-request timeout: for streams, the longest silence on the socket. */
  timeoutMs: number;
  retry: RetryPolicy;
  logger?: Logger;
  /** Injected for tests; Math.random and setTimeout otherwise. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE" | "PUT";

export interface JsonRequest<S extends z.ZodType> {
  /** A short name for logs and error messages, e.g. "runs/create". */
  operation: string;
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: S;
  /** True only when sending the same request twice leaves the server as sending it once. */
  idempotent: boolean;
}

/** Connection failures: nothing (or nothing complete) came back from the server. */
const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
const TIMEOUT_ERROR_CODES = new Set(["ETIMEDOUT", "ECONNABORTED"]);
/** The server's certificate did not verify: not retried, the configuration must change. */
const TLS_ERROR_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

interface MlflowErrorBody {
  error_code?: string;
  message?: string;
}

/**
 * MLflow 3.17's artifact proxy answers a missing object in an S3 destination with 500 INTERNAL_ERROR
 * ("An error occurred (404) when calling the HeadObject operation: Not Found"), where a local
 * destination gives 404 RESOURCE_DOES_NOT_EXIST: both are a missing artifact, not an outage.
 */
const MISSING_OBJECT_MESSAGE = /\((404|NoSuchKey)\) when calling the \w+ operation|NoSuchKey/;

/** Maps an HTTP status, MLflow `error_code` and message to our error code. */
export function appErrorCodeFor(status: number, errorCode: string | undefined, message = ""): AppErrorCode {
  if (errorCode === "RESOURCE_DOES_NOT_EXIST" || status === 404) return "NOT_FOUND";
  if (status === 500 && MISSING_OBJECT_MESSAGE.test(message)) return "NOT_FOUND";
  if (errorCode === "RESOURCE_ALREADY_EXISTS") return "CONFLICT";
  if (status === 401 || errorCode === "UNAUTHENTICATED") return "UNAUTHORIZED";
  if (status === 403 || errorCode === "PERMISSION_DENIED") return "FORBIDDEN";
  if (status === 429 || errorCode === "REQUEST_LIMIT_EXCEEDED") return "RATE_LIMITED";
  if (status === 413) return "PAYLOAD_TOO_LARGE";
  if (status >= 500) return "UPSTREAM_UNAVAILABLE";
  if (
    errorCode === "INVALID_PARAMETER_VALUE" ||
    errorCode === "BAD_REQUEST" ||
    errorCode === "MALFORMED_REQUEST" ||
    errorCode === "INVALID_STATE"
  ) {
    return "VALIDATION_FAILED";
  }
  return "UPSTREAM_FAILED";
}

function hintFor(code: AppErrorCode): string {
  switch (code) {
    case "UNAUTHORIZED":
      return " Check the MLflow username/password or token in the client's configuration.";
    case "FORBIDDEN":
      return " Ask an MLflow admin to grant this user a permission on the experiment or model.";
    case "UPSTREAM_UNAVAILABLE":
      return " Check that the tracking server is running and reachable.";
    default:
      return "";
  }
}

function parseErrorBody(data: unknown): MlflowErrorBody {
  if (typeof data === "object" && data !== null) {
    const d = data as Record<string, unknown>;
    return {
      error_code: typeof d.error_code === "string" ? d.error_code : undefined,
      message: typeof d.message === "string" ? d.message : undefined,
    };
  }
  if (typeof data === "string") {
    try {
      return parseErrorBody(JSON.parse(data));
    } catch {
      // Not JSON (an HTML page from a proxy, the auth app's plain text): keep a short excerpt.
      const text = data
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim();
      return { message: text.slice(0, 300) };
    }
  }
  return {};
}

async function readStreamText(stream: Readable, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}

/** One failed attempt, thrown inside the retry loop and unwrapped before leaving it. */
class AttemptFailure extends Error {
  constructor(
    readonly error: AppError,
    /** Safe to send again even for non-idempotent calls: the request never reached the server. */
    readonly neverSent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
  }
}

/** HTTP to one MLflow server. Construct once per process and share. */
export class HttpTransport {
  private readonly http: AxiosInstance;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: HttpTransportOptions) {
    const headers: Record<string, string> = {};
    if (options.auth?.kind === "basic") {
      const raw = `${options.auth.username}:${options.auth.password}`;
      headers.Authorization = `Basic ${Buffer.from(raw, "utf8").toString("base64")}`;
    } else if (options.auth?.kind === "bearer") {
      headers.Authorization = `Bearer ${options.auth.token}`;
    }
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ""),
      timeout: options.timeoutMs,
      headers,
      // Every status is handled here, so error bodies are read the same way everywhere.
      validateStatus: () => true,
      transitional: { clarifyTimeoutError: true },
      maxContentLength: Number.POSITIVE_INFINITY,
      maxBodyLength: Number.POSITIVE_INFINITY,
      // A private CA: the server's chain must lead to it (hostname checked as usual).
      ...(options.caPem === undefined
        ? {}
        : { httpsAgent: new HttpsAgent({ ca: options.caPem, keepAlive: true }) }),
    });
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** Sends a JSON request and returns its zod-validated answer. */
  async json<S extends z.ZodType>(request: JsonRequest<S>): Promise<z.infer<S>> {
    const data = await this.withRetries(request.operation, request.idempotent, async () => {
      const response = await this.http.request({
        method: request.method,
        url: request.path,
        params: request.query,
        data: request.body,
        responseType: "json",
      });
      if (response.status >= 400) throw this.httpFailure(request.operation, response, response.data);
      return response.data as unknown;
    });
    const parsed = request.schema.safeParse(data ?? {});
    if (!parsed.success) {
      throw new AppError(
        "UPSTREAM_FAILED",
        `MLflow ${request.operation}: the server's answer did not have the expected shape (is this an MLflow 3.x server?)`,
        {
          cause: parsed.error,
          details: { operation: request.operation, issues: parsed.error.issues.slice(0, 5) },
        },
      );
    }
    return parsed.data;
  }

  /**
   * Streams a body to `path` with PUT. `open` is called once per attempt (a stream cannot be
   * replayed), so the upload is retried like any idempotent call: the same PUT writes the same file.
   */
  async upload(operation: string, path: string, open: () => Readable, sizeBytes: number): Promise<void> {
    await this.withRetries(operation, true, async () => {
      const body = open();
      try {
        const response = await this.http.request({
          method: "PUT",
          url: path,
          data: body,
          headers: { "Content-Type": "application/octet-stream", "Content-Length": String(sizeBytes) },
          // With redirects on, axios' follow-redirects keeps every written chunk to replay it:
          // the whole file would sit in memory. Off, the body is piped straight to the socket.
          maxRedirects: 0,
          responseType: "json",
        });
        if (response.status >= 400) throw this.httpFailure(operation, response, response.data);
      } finally {
        body.destroy();
      }
    });
  }

  /**
   * Streams the body of GET `path` into `destination`, through a `.partial` file renamed at the end,
   * so a failed transfer never leaves a truncated file under the final name. Retried from the start.
   */
  async downloadToFile(operation: string, path: string, destination: string): Promise<void> {
    const partial = `${destination}.partial`;
    await this.withRetries(operation, true, async () => {
      const response = await this.http.request<Readable>({
        method: "GET",
        url: path,
        responseType: "stream",
        decompress: true,
      });
      if (response.status >= 400) {
        throw this.httpFailure(operation, response, await readStreamText(response.data));
      }
      try {
        await pipeline(response.data, createWriteStream(partial));
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    });
    await rename(partial, destination);
  }

  private httpFailure(operation: string, response: AxiosResponse, data: unknown): AttemptFailure {
    const body = parseErrorBody(data);
    const serverMessage = (body.message ?? response.statusText ?? "").trim().replace(/\.+$/, "");
    const code = appErrorCodeFor(response.status, body.error_code, serverMessage);
    const errorCode = body.error_code ?? `HTTP_${response.status}`;
    const error = new AppError(
      code,
      `MLflow ${operation} failed with HTTP ${response.status} ${errorCode}: ${serverMessage}.${hintFor(code)}`,
      { details: { operation, httpStatus: response.status, errorCode, serverMessage } },
    );
    const retryAfter = response.headers["retry-after"];
    return new AttemptFailure(
      error,
      false,
      parseRetryAfter(typeof retryAfter === "string" ? retryAfter : undefined),
    );
  }

  private networkFailure(operation: string, cause: unknown): AttemptFailure {
    const code = isAxiosError(cause) ? cause.code : (cause as NodeJS.ErrnoException | undefined)?.code;
    const message = cause instanceof Error ? cause.message : String(cause);
    const isTimeout = code !== undefined && TIMEOUT_ERROR_CODES.has(code);
    const isConnection = code !== undefined && CONNECTION_ERROR_CODES.has(code);
    const isTls = code !== undefined && TLS_ERROR_CODES.has(code);
    const appCode: AppErrorCode = isTimeout
      ? "TIMEOUT"
      : isConnection
        ? "UPSTREAM_UNAVAILABLE"
        : isTls
          ? "UPSTREAM_FAILED"
          : "INTERNAL";
    const error = new AppError(
      appCode,
      isTimeout
        ? `MLflow ${operation} timed out after ${this.options.timeoutMs} ms at ${this.options.baseUrl}; raise the client timeout or check the server's load.`
        : isConnection
          ? `MLflow ${operation} could not reach ${this.options.baseUrl} (${code}).${hintFor("UPSTREAM_UNAVAILABLE")}`
          : isTls
            ? `MLflow ${operation}: the certificate of ${this.options.baseUrl} did not verify (${code}); check that MLFLOW_TRACKING_SERVER_CA_PEM holds the CA that signed it and that the URI's host is the name it covers.`
            : `MLflow ${operation} failed: ${message}`,
      { cause, details: { operation, errorCode: code } },
    );
    return new AttemptFailure(error, code === "ECONNREFUSED");
  }

  private async withRetries<T>(
    operation: string,
    idempotent: boolean,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const { maxAttempts } = this.options.retry;
    for (let n = 1; ; n++) {
      let failure: AttemptFailure;
      try {
        return await attempt();
      } catch (thrown) {
        failure = thrown instanceof AttemptFailure ? thrown : this.networkFailure(operation, thrown);
      }
      const retryable = failure.error.transient && (idempotent || failure.neverSent);
      if (!retryable || n >= maxAttempts) {
        if (retryable) {
          failure.error.details.attempts = n;
          throw new AppError(failure.error.code, `${failure.error.message} (gave up after ${n} attempts)`, {
            cause: failure.error.cause ?? failure.error,
            details: failure.error.details,
          });
        }
        throw failure.error;
      }
      const delay = backoffDelayMs(this.options.retry, n, this.random, failure.retryAfterMs);
      this.options.logger?.warn(
        {
          operation,
          attempt: n,
          delayMs: delay,
          code: failure.error.code,
          errorCode: failure.error.details.errorCode,
        },
        "mlflow call failed; retrying",
      );
      await this.sleep(delay);
    }
  }
}
