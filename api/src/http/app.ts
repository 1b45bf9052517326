import {
  AppError,
  coldstartQuerySchema,
  coldstartRequestSchema,
  type EventsResponse,
  erasureRequestSchema,
  type HealthResponse,
  type Logger,
  type Metrics,
  parseEventsRequest,
  predictRequestSchema,
  splitRecentlyClicked,
} from "@gplay/common";
import express, { type Express, type Response } from "express";
import helmet from "helmet";
import type { ReaderEraser } from "../app/erase-readers.js";
import type { OnlineServing } from "../app/online.js";
import type { ModelProvider } from "../app/ports.js";
import type { ReaderView } from "../app/reader-view.js";
import type { Readiness } from "../app/readiness.js";
import type { EventRecorder } from "../app/record-events.js";
import type { RateQuota } from "../domain/token-bucket.js";
import { errorMiddleware, parseOr400, reply, validationError } from "./errors.js";
import {
  type ApiClient,
  apiKeyAuth,
  closeWhenDraining,
  cors,
  methodNotAllowed,
  rateLimit,
  recordedHeaders,
  requestTimeout,
  requireJson,
  requireScope,
} from "./guards.js";
import { OPERATIONS, openApiDocument } from "./openapi.js";
import { readerViewHandler, viewKeyFromQuery } from "./reader-view.js";
import { addRequestMetrics, requestContext } from "./request-context.js";

export interface HttpConfig {
  clients: readonly ApiClient[];
  /** Failed authentications allowed per client IP (a token bucket) before 429s. */
  authFailureQuota: RateQuota;
  /** Proxies in front of the app (the ALB: 1): `req.ip` is the address the outermost one saw. */
  trustProxyHops: number;
  corsOrigins: readonly string[];
  /** Largest accepted JSON body, in bytes. */
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** The service's own version (the OpenAPI document's `info.version`). */
  serviceVersion: string;
}

export interface AppDeps {
  /** Picks the arm, answers through the recommender and records the served list (its impressionId). */
  online: OnlineServing;
  events: EventRecorder;
  readiness: Readiness;
  model: ModelProvider;
  logger: Logger;
  metrics: Metrics;
  config: HttpConfig;
  now?: () => number;
  /** The reader view page (`GET /view`); absent unless GPLAY_READER_VIEW. */
  readerView?: ReaderView;
  /** `POST /admin/erasures` (keys with the `admin` scope); absent: the route answers 404. */
  eraser?: ReaderEraser;
}

const MODEL_VERSION_HEADER = "x-model-version";

function currentModelVersion(model: ModelProvider): string | null {
  const state = model.current();
  return state.status === "ready" ? state.ranker.modelVersion : null;
}

/**
 * Builds the express app: security headers, CORS, open health routes and OpenAPI document, then API-key
 * auth, per-key rate limits, a request deadline, JSON parsing with a size limit, the routes and one
 * error middleware. Creates nothing outside itself; the caller listens and drains.
 */
export function createApp(deps: AppDeps): Express {
  const { online, events, readiness, model, logger, metrics, config } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.set("trust proxy", config.trustProxyHops);

  const document = openApiDocument(config.serviceVersion);
  // A late handler (its request timed out) must not touch the response that already left.
  const nameVersion = (res: Response, version: string | null) => {
    if (!res.headersSent) res.setHeader(MODEL_VERSION_HEADER, version ?? "none");
  };

  app.use(requestContext(logger, metrics));
  // Every response names the model being served; routes that answered from cold start override it.
  app.use((_req, res, next) => {
    nameVersion(res, currentModelVersion(model));
    next();
  });
  app.use(recordedHeaders(helmet()));
  app.use(closeWhenDraining(() => readiness.draining));
  app.use(cors(config.corsOrigins));
  app.use(methodNotAllowed(OPERATIONS));

  app.get("/healthz", (_req, res) => {
    const body: HealthResponse = { status: "ok" };
    reply(res, 200, body);
  });
  app.get("/readyz", (_req, res) => {
    const body = readiness.check();
    nameVersion(res, body.modelVersion);
    res.setHeader("Cache-Control", "no-store");
    reply(res, body.ready ? 200 : 503, body);
  });
  app.get("/openapi.json", (_req, res) => {
    reply(res, 200, document);
  });

  if (deps.readerView !== undefined) app.use(viewKeyFromQuery);
  app.use(apiKeyAuth(config.clients, config.authFailureQuota, deps.now));
  app.use(rateLimit(deps.now));
  app.use(requestTimeout(config.requestTimeoutMs));
  app.use(requireJson);
  app.use(express.json({ limit: config.bodyLimitBytes, strict: true }));

  if (deps.readerView !== undefined) app.get("/view", readerViewHandler(deps.readerView));

  app.post("/predict", async (req, res) => {
    const request = parseOr400(predictRequestSchema, req.body, "body");
    const response = await online.predict(request);
    // Written with the request's Http4xx/Http5xx document when the response ends (one line, not three).
    const numericVersion = Number(response.modelVersion);
    addRequestMetrics(res, {
      apiColdstartFallback: response.fallback === null ? 0 : 1,
      ...(response.modelVersion !== null && Number.isFinite(numericVersion)
        ? { apiModelVersion: numericVersion }
        : {}),
    });
    // The header says what the body says: null (no model answered) is "none", as on every route.
    nameVersion(res, response.modelVersion);
    reply(res, 200, response);
  });

  app.post("/coldstart", async (req, res) => {
    const request = parseOr400(coldstartRequestSchema, req.body, "body");
    const response = await online.coldstart(request);
    nameVersion(res, response.modelVersion);
    reply(res, 200, response);
  });

  app.get("/coldstart", async (req, res) => {
    const query = parseOr400(coldstartQuerySchema, req.query, "query");
    const context =
      query.region === undefined && query.section === undefined
        ? undefined
        : {
            ...(query.region === undefined ? {} : { region: query.region }),
            ...(query.section === undefined ? {} : { section: query.section }),
          };
    const recentlyClicked =
      query.recentlyClicked === undefined ? undefined : splitRecentlyClicked(query.recentlyClicked);
    const request = parseOr400(
      coldstartRequestSchema,
      {
        k: query.k,
        ...(context === undefined ? {} : { context }),
        ...(recentlyClicked === undefined ? {} : { recentlyClicked }),
      },
      "query",
    );
    const response = await online.coldstart(request);
    nameVersion(res, response.modelVersion);
    reply(res, 200, response);
  });

  app.post("/events", async (req, res) => {
    // Every event is validated before anything is written; the valid ones are recorded.
    const parsed = parseEventsRequest(req.body);
    if (!parsed.success) throw validationError("body", parsed.error);
    const { rejected } = parsed;
    const result = await events.record(parsed.events.map((e) => e.event));
    const modelVersion = currentModelVersion(model);
    const body: EventsResponse = { ...result, rejected, modelVersion };
    nameVersion(res, modelVersion);
    reply(res, 200, body);
  });

  if (deps.eraser !== undefined) {
    const eraser = deps.eraser;
    app.post("/admin/erasures", requireScope("admin"), async (req, res) => {
      const request = parseOr400(erasureRequestSchema, req.body, "body");
      reply(res, 202, await eraser.erase(request.userIds));
    });
  }

  app.use((req) => {
    throw new AppError("NOT_FOUND", `No route ${req.method} ${req.path}; see /openapi.json`);
  });
  app.use(errorMiddleware);
  return app;
}
