import type {
  HeaderBag,
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  QueryParameterBag,
  RequestHandler,
  RequestHandlerOutput,
} from "@smithy/types";
import { Pool } from "undici";

export interface PooledHttpHandlerOptions {
  /** Whole request deadline (headers and body); breaching it fails the attempt with a TimeoutError. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Connections kept per origin (NodeHttpHandler's `maxSockets`, 50 by default there too). */
  connections?: number;
}

/** Headers undici sets itself and refuses from callers. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "expect"]);
/** undici's timeout errors: the SDK retries `TimeoutError`s as NodeHttpHandler names them. */
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
/** undici's closed-socket errors: the SDK retries ECONNRESET (NodeHttpHandler's code for them). */
const RESET_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/**
 * An SDK request handler over undici's connection pools, for request/response APIs with small bodies
 * (DynamoDB): the response body is read whole before the SDK sees it, so it is not for streaming
 * APIs (S3's GetObject keeps NodeHttpHandler). Per request it spends about a third less CPU than
 * NodeHttpHandler over `node:http` (bench/README.md, "Ingest"): one socket write per request instead
 * of a corked writev, no per-request timers and listeners, a lean response parser. The SDK's
 * middleware (signing, retries with backoff, error parsing) is unchanged: errors are translated to
 * the names and codes its retry strategy classifies (timeouts → `TimeoutError`, closed sockets →
 * `ECONNRESET`), HTTPS origins use TLS with the platform's CA store.
 */
export class PooledHttpHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata = { handlerProtocol: "http/1.1" };
  private readonly pools = new Map<string, Pool>();
  private readonly requestTimeoutMs: number;
  private readonly connectionTimeoutMs: number;
  private readonly connections: number;

  constructor(options: PooledHttpHandlerOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 5_000;
    this.connections = options.connections ?? 50;
  }

  async handle(
    request: HttpRequest,
    options: HttpHandlerOptions = {},
  ): Promise<RequestHandlerOutput<HttpResponse>> {
    const timeout = options.requestTimeout ?? this.requestTimeoutMs;
    const signal = options.abortSignal as AbortSignal | undefined;
    if (signal?.aborted) throw abortError();
    const query = request.query === undefined ? "" : queryString(request.query);
    const path = `${request.path}${query === "" ? "" : `?${query}`}`;
    try {
      const answer = await this.pool(request).request({
        method: request.method as "POST",
        path,
        headers: outgoingHeaders(request.headers),
        body: request.body as string | Uint8Array | undefined,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(signal?.addEventListener === undefined ? {} : { signal }),
      });
      const body = new Uint8Array(await answer.body.arrayBuffer());
      return { response: { statusCode: answer.statusCode, headers: incomingHeaders(answer.headers), body } };
    } catch (error) {
      throw translateError(error);
    }
  }

  /** The SDK calls this to pass settings a client resolves late; none of them apply to this handler. */
  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    for (const pool of this.pools.values()) void pool.destroy();
    this.pools.clear();
  }

  private pool(request: HttpRequest): Pool {
    const port = request.port === undefined ? "" : `:${request.port}`;
    const origin = `${request.protocol}//${request.hostname}${port}`;
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: this.connections,
        connectTimeout: this.connectionTimeoutMs,
        keepAliveTimeout: 4_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function outgoingHeaders(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) out[name] = headers[name] as string;
  }
  return out;
}

function incomingHeaders(headers: Record<string, string | string[] | undefined>): HeaderBag {
  const out: HeaderBag = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** RFC 3986 escaping, as the SDK's signer canonicalises the query. */
const escapeRfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: QueryParameterBag): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value === null || value === undefined) parts.push(escapeRfc3986(key));
    else
      for (const v of Array.isArray(value) ? value : [value])
        parts.push(`${escapeRfc3986(key)}=${escapeRfc3986(v)}`);
  }
  return parts.join("&");
}

function abortError(): Error {
  return Object.assign(new Error("Request aborted"), { name: "AbortError" });
}

function translateError(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? "";
  const name = (error as { name?: string }).name ?? "";
  if (name === "AbortError" || code === "UND_ERR_ABORTED") return abortError();
  if (TIMEOUT_CODES.has(code))
    return Object.assign(new Error((error as Error).message, { cause: error }), { name: "TimeoutError" });
  if (RESET_CODES.has(code))
    return Object.assign(new Error((error as Error).message, { cause: error }), { code: "ECONNRESET" });
  return error;
}
