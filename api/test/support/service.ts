import type { Server } from "node:http";
import type { ColdstartItem, Logger } from "@gplay/common";
import { ReaderEraser } from "../../src/app/erase-readers.js";
import { SwitchableModelProvider } from "../../src/app/model.js";
import { OnlineServing } from "../../src/app/online.js";
import type { Clock } from "../../src/app/ports.js";
import { type ModelFigures, ReaderView } from "../../src/app/reader-view.js";
import { Readiness } from "../../src/app/readiness.js";
import { Recommender } from "../../src/app/recommend.js";
import { EventRecorder } from "../../src/app/record-events.js";
import { ImpressionRecorder } from "../../src/app/record-impressions.js";
import { ServingData } from "../../src/app/serving-data.js";
import type { ArticleMeta } from "../../src/domain/articles.js";
import { createApp, type HttpConfig } from "../../src/http/app.js";
import { listen } from "../../src/server.js";
import {
  FakeArticleSource,
  FakeColdstartSource,
  FakeErasureStores,
  type FakeRanker,
  FakeSeenEvents,
  FakeSink,
  FakeUserStore,
  memoryLogger,
  memoryMetrics,
} from "./fixtures.js";

export const API_KEY = "test-key-0123456789abcdef";
export const OTHER_KEY = "other-key-0123456789abcdef";
/** A key with the `admin` scope (the admin routes). */
export const ADMIN_KEY = "admin-key-0123456789abcdef";

export interface ServiceOptions {
  articles?: ArticleMeta[];
  rows?: ColdstartItem[];
  ranker?: FakeRanker;
  http?: Partial<HttpConfig>;
  clock?: Clock;
  requireModel?: boolean;
  /** A `@challenger` version and the online loop's options (share of readers, split or shadow). */
  challenger?: { ranker?: FakeRanker; share: number; mode: "split" | "shadow" };
  /** Serve the reader view (GET /view), with these offline figures of the model. */
  readerView?: { figures?: ModelFigures };
}

export interface Service {
  app: ReturnType<typeof createApp>;
  users: FakeUserStore;
  articleSource: FakeArticleSource;
  coldstart: FakeColdstartSource;
  sink: FakeSink;
  seen: FakeSeenEvents;
  erasures: FakeErasureStores;
  logger: Logger;
  lines: Record<string, unknown>[];
  documents: Record<string, unknown>[];
  model: SwitchableModelProvider;
  data: ServingData;
  recommender: Recommender;
  events: EventRecorder;
  impressions: ImpressionRecorder;
  challenger: SwitchableModelProvider;
  readiness: Readiness;
  config: HttpConfig;
}

/** The whole service wired with in-memory fakes of its store ports. */
export function buildService(options: ServiceOptions = {}): Service {
  const clock = options.clock ?? { now: () => Date.now() };
  const users = new FakeUserStore();
  const articleSource = new FakeArticleSource(options.articles ?? []);
  const coldstart = new FakeColdstartSource(options.rows ?? []);
  const sink = new FakeSink();
  const seen = new FakeSeenEvents();
  const erasures = new FakeErasureStores(users, seen);
  const { logger, lines } = memoryLogger();
  const { metrics, documents } = memoryMetrics();
  const model = new SwitchableModelProvider("no model registered");
  const data = new ServingData(
    articleSource,
    coldstart,
    { freshnessHours: 48, coVisitCacheTtlMs: 60_000, coVisitCacheMaxEntries: 1_000 },
    clock,
    logger,
  );
  if (options.ranker !== undefined) model.set(options.ranker.useCatalogue(() => data.catalogue()));
  const recommender = new Recommender(
    { users, data, model, clock, logger },
    { userCacheTtlMs: 2_000, userCacheMaxEntries: 100 },
  );
  const challenger = new SwitchableModelProvider("no challenger");
  if (options.challenger?.ranker !== undefined)
    challenger.set(options.challenger.ranker.useCatalogue(() => data.catalogue()));
  let ids = 0;
  const impressions = new ImpressionRecorder(
    {
      sink,
      clock,
      metrics,
      logger,
      erasures,
      newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
    },
    { instanceId: "test", maxBufferedRows: 10_000, attributionReaders: 1_000, listsPerReader: 5 },
  );
  const online = new OnlineServing(
    { recommender, impressions, champion: model, challenger, logger },
    {
      challengerShare: options.challenger?.share ?? 0,
      challengerMode: options.challenger?.mode ?? "split",
      salt: "test",
    },
  );
  const events = new EventRecorder(
    {
      impressions,
      users,
      sink,
      seen,
      clock,
      logger,
      onUserWritten: (u) => recommender.rememberUser(u),
      sleep: async () => undefined,
      erasures,
    },
    { maxWriteAttempts: 5, instanceId: "test", maxBufferedClicks: 10_000 },
  );
  const readiness = new Readiness(
    { model, data, clock },
    { requireModel: options.requireModel ?? false, maxDataAgeMs: 3_600_000 },
  );
  const config: HttpConfig = {
    clients: [
      { name: "web", key: API_KEY, quota: { ratePerSecond: 1_000, burst: 1_000 } },
      { name: "tiny", key: OTHER_KEY, quota: { ratePerSecond: 0.5, burst: 2 } },
      { name: "ops", key: ADMIN_KEY, quota: { ratePerSecond: 100, burst: 100 }, scopes: ["admin"] },
    ],
    authFailureQuota: { ratePerSecond: 1, burst: 50 },
    trustProxyHops: 0,
    corsOrigins: ["https://news.example"],
    bodyLimitBytes: 64 * 1024,
    requestTimeoutMs: 2_000,
    serviceVersion: "test",
    ...options.http,
  };
  const readerView =
    options.readerView === undefined
      ? undefined
      : new ReaderView({
          recommender,
          article: (page) => data.article(page),
          model,
          ...(options.readerView.figures === undefined ? {} : { figures: options.readerView.figures }),
          logger,
        });
  const app = createApp({
    online,
    events,
    readiness,
    model,
    logger,
    metrics,
    config,
    eraser: new ReaderEraser({ stores: erasures, buffer: events, impressions, clock, logger }),
    ...(readerView === undefined ? {} : { readerView }),
  });
  return {
    app,
    users,
    articleSource,
    coldstart,
    sink,
    seen,
    erasures,
    logger,
    lines,
    documents,
    model,
    data,
    recommender,
    events,
    impressions,
    challenger,
    readiness,
    config,
  };
}

/** Starts the service on a free port; `close` stops it. */
export async function startService(
  service: Service,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  await service.data.refresh();
  const { server, url } = await listen(service.app, { port: 0, host: "127.0.0.1" });
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POST JSON with the test API key. */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): ReturnType<typeof fetch> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": API_KEY, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field (and validated in openapi.test.ts)
export type Json = any;

/** A response's JSON body, loosely typed for assertions. */
export async function json(res: globalThis.Response): Promise<Json> {
  return (await res.json()) as Json;
}
