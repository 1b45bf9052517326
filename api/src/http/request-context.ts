import { randomUUID } from "node:crypto";
import { fixedFieldsLogger, type Logger, type MetricKey, type Metrics } from "@gplay/common";
import type { RequestHandler, Response } from "express";

/** Per-request state kept on `res.locals`. */
export interface RequestState {
  requestId: string;
  /** The request's child logger (with its id), made on first use: most requests write only the access line. */
  readonly logger: Logger;
  startedAt: bigint;
  /** The API key's client name once authenticated (never the key). */
  client?: string;
  /**
   * Values of standard-dimension metrics the route adds (ColdstartFallback, ModelVersion): written in
   * the one document with Http4xx / Http5xx when the response ends, not one log line each.
   */
  metrics?: Partial<Record<MetricKey, number>>;
}

export function requestState(res: Response): RequestState | undefined {
  return res.locals.gplay as RequestState | undefined;
}

/** Adds standard-dimension metric values to the request's closing metrics document. */
export function addRequestMetrics(res: Response, values: Partial<Record<MetricKey, number>>): void {
  const state = requestState(res);
  if (state !== undefined) state.metrics = { ...state.metrics, ...values };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A request's state; its child logger is made when something asks for it. */
class State implements RequestState {
  #logger: Logger | undefined;
  client?: string;
  metrics?: Partial<Record<MetricKey, number>>;

  constructor(
    readonly requestId: string,
    readonly startedAt: bigint,
    private readonly root: Logger,
  ) {}

  get logger(): Logger {
    this.#logger ??= this.root.child({ requestId: this.requestId });
    return this.#logger;
  }
}

/**
 * Gives each request an id (the caller's `x-request-id` when well-formed) and a child logger, and on
 * completion writes one access log line (request id, method, route, status, latency; never bodies) and
 * the RequestLatency / Http4xx / Http5xx metrics (with what the route added).
 */
export function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  // The access line's fields are all set here (no input, no secret): it skips redaction.
  const access = fixedFieldsLogger(logger);
  return (req, res, next) => {
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
    const state = new State(requestId, process.hrtime.bigint(), logger);
    res.locals.gplay = state;
    res.setHeader("x-request-id", requestId);
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const latencyMs = Number(process.hrtime.bigint() - state.startedAt) / 1e6;
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      const status = aborted ? 499 : res.statusCode;
      access.info(
        {
          requestId,
          event: "access",
          method: req.method,
          route,
          path: req.path,
          status,
          latencyMs: Math.round(latencyMs * 100) / 100,
          client: state.client,
          bytesOut: Number(res.getHeader("content-length") ?? 0),
          ...(aborted ? { aborted: true } : {}),
        },
        "request",
      );
      metrics.emit({ apiLatency: latencyMs }, { Route: `${req.method} ${route}` });
      metrics.emit({
        api4xx: status >= 400 && status < 500 ? 1 : 0,
        api5xx: status >= 500 ? 1 : 0,
        ...state.metrics,
      });
    };
    // "close" follows "finish" on every response (one listener instead of two per request).
    res.on("close", () => finish(!res.writableFinished));
    next();
  };
}
