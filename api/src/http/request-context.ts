import { randomUUID } from "node:crypto";
import type { Logger, Metrics } from "@gplay/common";
import type { RequestHandler, Response } from "express";

/** Per-request state kept on `res.locals`. */
export interface RequestState {
  requestId: string;
  logger: Logger;
  startedAt: bigint;
  /** The API key's client name once authenticated (never the key). */
  client?: string;
}

export function requestState(res: Response): RequestState | undefined {
  return res.locals.gplay as RequestState | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Gives each request an id (the caller's `x-request-id` when well-formed) and a child logger, and on
 * completion writes one access log line (method, route, status, latency; never bodies) and the
 * RequestLatency / Http4xx / Http5xx metrics.
 */
export function requestContext(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
    const state: RequestState = {
      requestId,
      logger: logger.child({ requestId }),
      startedAt: process.hrtime.bigint(),
    };
    res.locals.gplay = state;
    res.setHeader("x-request-id", requestId);
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const latencyMs = Number(process.hrtime.bigint() - state.startedAt) / 1e6;
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      const status = aborted ? 499 : res.statusCode;
      state.logger.info(
        {
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
      metrics.emit({ api4xx: status >= 400 && status < 500 ? 1 : 0, api5xx: status >= 500 ? 1 : 0 });
    };
    res.on("finish", () => finish(false));
    res.on("close", () => finish(!res.writableFinished));
    next();
  };
}
