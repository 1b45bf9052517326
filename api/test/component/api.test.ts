import { bloomAdd, createBloomFilter, RAW_HEADERS, type UserItem } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import {
  API_KEY,
  buildService,
  json,
  OTHER_KEY,
  post,
  type Service,
  type ServiceOptions,
  startService,
} from "../support/service.js";

const p = pageId;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** 300 fresh articles, all in the global popularity list. */
function catalog(): Pick<ServiceOptions, "articles" | "rows"> {
  return {
    articles: range(1, 300).map((n) => article(n)),
    rows: [popularRow("global", range(1, 300).map(p))],
  };
}

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: ServiceOptions = {}): Promise<{ url: string; service: Service }> {
  const service = buildService({ ...catalog(), ...options });
  const server = await startService(service);
  running = server;
  return { url: server.url, service };
}

/** A reader with 7,004 interactions: pages 1–250 of the catalog plus 6,754 pages it does not hold, and 261–270 evicted. */
function heavyReader(): UserItem {
  const history = [...range(1, 250), ...range(100_001, 106_754)].map(p);
  expect(history).toHaveLength(7_004);
  const evicted = bloomAdd(createBloomFilter(), range(261, 270).map(p)) as UserItem["log"];
  return reader(userId(7004), history, { evicted, evictedCount: 10 });
}

describe("POST /predict", () => {
  const excluded = new Set([...range(1, 250), ...range(251, 270)].map(p));

  it("never returns the full history of a 7,004-interaction reader nor the exclude list (cold start, no model)", async () => {
    const { url, service } = await start();
    service.users.items.set(userId(7004), heavyReader());
    const res = await post(`${url}/predict`, {
      userId: userId(7004),
      k: 100,
      exclude: range(251, 260).map(p),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("none");
    const body = await json(res);
    expect(body).toMatchObject({ strategy: "coldstart", fallback: "no-model", modelVersion: null });
    const pages: string[] = body.items.map((i: { page: string }) => i.page);
    expect(pages.filter((page) => excluded.has(page))).toEqual([]);
    expect(new Set(pages)).toEqual(new Set(range(271, 300).map(p)));
  });

  it("ranks with the model and still never returns the history or exclusions", async () => {
    const scores = new Map(range(1, 300).map((n) => [p(n), n % 7]));
    const ranker = new FakeRanker("12", scores);
    const { url, service } = await start({ ranker });
    service.users.items.set(userId(7004), heavyReader());
    const res = await post(`${url}/predict`, {
      userId: userId(7004),
      k: 10,
      exclude: range(251, 260).map(p),
    });
    const body = await json(res);
    expect(res.headers.get("x-model-version")).toBe("12");
    expect(body).toMatchObject({ strategy: "model", fallback: null, modelVersion: "12" });
    expect(body.items).toHaveLength(10);
    expect(body.items.every((i: { page: string }) => !excluded.has(i.page))).toBe(true);
    expect(body.items[0].score).toBe(6);
    expect(ranker.calls[0]?.candidates.every((c) => !excluded.has(c))).toBe(true);
  });

  it("falls back to cold start for an unknown reader and says so, in the body and the header alike", async () => {
    const { url } = await start({ ranker: new FakeRanker("12") });
    const res = await post(`${url}/predict`, { userId: userId(1) });
    expect(res.headers.get("x-model-version")).toBe("none");
    const body = await json(res);
    expect(body).toMatchObject({ strategy: "coldstart", fallback: "unknown-reader", modelVersion: null });
    expect(body.items).toHaveLength(10);
  });

  it("excludes an article a reader just clicked (POST /events) from its next prediction", async () => {
    const { url, service } = await start();
    service.users.items.set(userId(1), reader(userId(1), [p(1)]));
    const first = await json(await post(`${url}/predict`, { userId: userId(1), k: 1 }));
    const shown = first.items[0].page as string;
    const events = await post(`${url}/events`, {
      events: [{ type: "click", userId: userId(1), page: shown, timeOnPageMs: 5_000 }],
    });
    expect(events.status).toBe(200);
    expect(await json(events)).toMatchObject({
      accepted: 1,
      clicks: 1,
      readersUpdated: 1,
      modelVersion: null,
    });
    const next = await json(await post(`${url}/predict`, { userId: userId(1), k: 50 }));
    expect(next.items.map((i: { page: string }) => i.page)).not.toContain(shown);
  });
});

describe("/coldstart", () => {
  it("answers an anonymous reader by POST, shaped by its section", async () => {
    const { url } = await start({
      articles: [...range(1, 20).map((n) => article(n)), article(50, { section: "rj", region: "rio" })],
      rows: [popularRow("global", range(1, 20).map(p)), popularRow("section:rj", [p(50)])],
    });
    const res = await post(`${url}/coldstart`, { k: 3, context: { section: "rj" } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ modelVersion: "coldstart", strategy: "coldstart", snapshotId: "snap-1" });
    expect(body.items.map((i: { page: string; reason: string }) => [i.page, i.reason])).toEqual([
      [p(50), "popular-section"],
      [p(1), "popular-global"],
      [p(2), "popular-global"],
    ]);
  });

  it("answers GET with the query string, leaving out recently clicked pages", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/coldstart?k=3&recentlyClicked=${p(1)},${p(2)}`, {
      headers: { "x-api-key": API_KEY },
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.items.map((i: { page: string }) => i.page)).toEqual([p(3), p(4), p(5)]);
  });
});

describe("POST /events", () => {
  it("files clicks as a treino CSV under raw/ on flush, one row per reader", async () => {
    const { url, service } = await start();
    await post(`${url}/events`, {
      events: [
        { type: "click", userId: userId(1), page: p(1), timestamp: 1_660_000_000_000 },
        { type: "click", userId: userId(1), page: p(2), timestamp: 1_660_000_001_000 },
        { type: "impression", userId: userId(2), page: p(3) },
      ],
    });
    await service.events.flush();
    const [key, body] = [...service.sink.objects.entries()][0] as [string, string];
    expect(key.startsWith("raw/")).toBe(true);
    const lines = body.trimEnd().split("\n");
    expect(lines[0]).toBe(RAW_HEADERS.treino.join(","));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"${p(1)}, ${p(2)}"`);
  });
});

describe("hardening", () => {
  it("says what is wrong with a bad body, by field path", async () => {
    const { url } = await start();
    const res = await post(`${url}/predict`, { userId: "nope", k: 0, exclude: ["x"], extra: 1 });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("VALIDATION_FAILED");
    const paths = body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.userId", "body.k", "body.exclude.0", "body"]));
    expect(body.error.message).toMatch(/body\.userId: userId must be 64 hex characters/);
  });

  it("refuses a bad query, malformed JSON and a non-JSON body", async () => {
    const { url } = await start();
    const query = await fetch(`${url}/coldstart?k=500`, { headers: { "x-api-key": API_KEY } });
    expect(query.status).toBe(400);
    expect((await json(query)).error.issues[0].path).toBe("query.k");
    const malformed = await post(`${url}/coldstart`, "{not json");
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error.message).toMatch(/not valid JSON/);
    const text = await fetch(`${url}/coldstart`, {
      method: "POST",
      headers: { "x-api-key": API_KEY, "content-type": "text/plain" },
      body: "k=1",
    });
    expect(text.status).toBe(415);
  });

  it("refuses a body over the size limit with 413", async () => {
    const { url } = await start();
    const res = await post(`${url}/events`, { events: [], padding: "x".repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("requires an API key except on health routes and the OpenAPI document", async () => {
    const { url } = await start();
    const missing = await fetch(`${url}/coldstart`);
    expect(missing.status).toBe(401);
    expect((await json(missing)).error.message).toMatch(/Missing x-api-key/);
    const wrong = await fetch(`${url}/coldstart`, { headers: { "x-api-key": "wrong-key-wrong-key" } });
    expect(wrong.status).toBe(401);
    for (const path of ["/healthz", "/readyz", "/openapi.json"])
      expect((await fetch(`${url}${path}`)).status).toBe(200);
  });

  it("rate-limits per API key with 429 and Retry-After", async () => {
    const { url } = await start();
    const call = (key: string) => fetch(`${url}/coldstart?k=1`, { headers: { "x-api-key": key } });
    expect((await call(OTHER_KEY)).status).toBe(200);
    expect((await call(OTHER_KEY)).status).toBe(200);
    const limited = await call(OTHER_KEY);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await json(limited)).error.code).toBe("RATE_LIMITED");
    expect((await call(API_KEY)).status).toBe(200);
  });

  it("answers 503 when a request outlives its deadline", async () => {
    const { url, service } = await start({
      ranker: new FakeRanker("1", new Map(), "ok", 400),
      http: { requestTimeoutMs: 100 },
    });
    service.users.items.set(userId(1), reader(userId(1), [p(1)]));
    const res = await post(`${url}/predict`, { userId: userId(1) });
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe("TIMEOUT");
    await new Promise((r) => setTimeout(r, 400));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("never leaks a stack trace or an internal message", async () => {
    const { url, service } = await start();
    service.users.failGets = Object.assign(new Error("dynamo at 10.0.0.1 exploded"), {
      name: "Boom",
    }) as never;
    const res = await post(`${url}/predict`, { userId: userId(1) });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/10\.0\.0\.1|at .*\.ts|stack/);
    expect(JSON.parse(text).error).toMatchObject({ code: "INTERNAL", message: "Internal error" });
  });

  it("sends security headers and CORS headers only to configured origins", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/healthz`, { headers: { origin: "https://news.example" } });
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toBeTruthy();
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("x-model-version")).toBe("none");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://news.example");
    const preflight = await fetch(`${url}/predict`, {
      method: "OPTIONS",
      headers: { origin: "https://news.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/x-api-key/);
    const other = await fetch(`${url}/healthz`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("writes one access log line per request with latency and no body, and EMF metrics", async () => {
    const { url, service } = await start();
    await post(`${url}/predict`, { userId: userId(42) });
    await new Promise((r) => setTimeout(r, 20));
    const access = service.lines.filter((l) => l.event === "access");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: "POST", route: "/predict", status: 200, client: "web" });
    expect(typeof access[0]?.latencyMs).toBe("number");
    expect(JSON.stringify(service.lines)).not.toContain(userId(42));
    const names = service.documents.flatMap((d) => Object.keys(d));
    expect(names).toEqual(
      expect.arrayContaining(["RequestLatency", "Http4xx", "Http5xx", "ColdstartFallback"]),
    );
    expect(service.documents.find((d) => "RequestLatency" in d)?.Route).toBe("POST /predict");
  });

  it("reports readiness and why it is not ready, while /healthz (the load balancer's check) stays 200 without a model", async () => {
    const { url, service } = await start({ requireModel: true });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect((await json(res)).checks.model.detail).toMatch(/no model/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    service.model.set(new FakeRanker("3"));
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get("x-model-version")).toBe("3");
  });

  it("answers unknown routes with 404 in the error format", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/nope`, { headers: { "x-api-key": API_KEY } });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("NOT_FOUND");
  });
});
