import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Express } from "express";
import { z } from "zod";
import { OPERATIONS } from "../../src/http/openapi.js";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import {
  API_KEY,
  buildService,
  json,
  OTHER_KEY,
  post,
  type Service,
  startService,
} from "../support/service.js";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content: { "application/json": { schema: unknown } } }> }>
  >;
};

/** The routes express actually serves, read from its router, as "METHOD /path". */
function appRoutes(app: Express): string[] {
  const stack = (
    app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }
  ).router.stack;
  return stack
    .filter((layer) => layer.route !== undefined)
    .flatMap((layer) =>
      Object.keys(layer.route?.methods ?? {}).map((m) => `${m.toUpperCase()} ${layer.route?.path}`),
    )
    .sort();
}

function docRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe("OpenAPI document", () => {
  let service: Service;
  let server: { url: string; close(): Promise<void> };
  let doc: Doc;

  beforeAll(async () => {
    service = buildService({
      articles: Array.from({ length: 30 }, (_, i) => article(i + 1)),
      rows: [
        popularRow(
          "global",
          Array.from({ length: 30 }, (_, i) => pageId(i + 1)),
        ),
      ],
    });
    server = await startService(service);
    doc = await json(await fetch(`${server.url}/openapi.json`));
  });
  afterAll(async () => server.close());

  /** Validates a real response against the schema the document declares for its route and status. */
  async function conforms(method: string, path: string, res: globalThis.Response): Promise<void> {
    const declared = doc.paths[path]?.[method.toLowerCase()]?.responses[String(res.status)];
    expect({ route: `${method} ${path}`, status: res.status, declared: declared !== undefined }).toEqual({
      route: `${method} ${path}`,
      status: res.status,
      declared: true,
    });
    const schema = z.fromJSONSchema(
      declared?.content["application/json"].schema as Parameters<typeof z.fromJSONSchema>[0],
    );
    const body = await json(res);
    const result = schema.safeParse(body);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  }

  it("is an OpenAPI 3.1 document generated for every operation", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(docRoutes(doc)).toHaveLength(OPERATIONS.length);
  });

  it("lists exactly the routes the app serves", () => {
    expect(docRoutes(doc)).toEqual(appRoutes(service.app));
  });

  it("every documented route answers (none is a 404)", async () => {
    for (const route of docRoutes(doc)) {
      const [method, path] = route.split(" ") as [string, string];
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { "x-api-key": API_KEY, "content-type": "application/json" },
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      expect({ route, status: res.status === 404 ? 404 : "answered" }).toEqual({ route, status: "answered" });
    }
  });

  it("real responses validate against the document's schemas", async () => {
    service.users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    await conforms("POST", "/predict", await post(`${server.url}/predict`, { userId: userId(1), k: 3 }));
    await conforms("POST", "/predict", await post(`${server.url}/predict`, { userId: userId(2) }));
    service.model.set(new FakeRanker("5"));
    await conforms("POST", "/predict", await post(`${server.url}/predict`, { userId: userId(1), k: 3 }));
    await conforms(
      "POST",
      "/coldstart",
      await post(`${server.url}/coldstart`, { k: 2, recentlyClicked: [pageId(1)] }),
    );
    await conforms(
      "GET",
      "/coldstart",
      await fetch(`${server.url}/coldstart?k=2&section=sp`, { headers: { "x-api-key": API_KEY } }),
    );
    await conforms(
      "POST",
      "/events",
      await post(`${server.url}/events`, { events: [{ type: "click", userId: userId(3), page: pageId(2) }] }),
    );
    await conforms("GET", "/healthz", await fetch(`${server.url}/healthz`));
    await conforms("GET", "/readyz", await fetch(`${server.url}/readyz`));
    await conforms("GET", "/openapi.json", await fetch(`${server.url}/openapi.json`));
  });

  it("its schemas reject a body that breaks the contract", () => {
    const schema = z.fromJSONSchema(
      doc.paths["/predict"]?.post?.responses["200"]?.content["application/json"].schema as Parameters<
        typeof z.fromJSONSchema
      >[0],
    );
    const good = {
      userId: userId(1),
      impressionId: "0b9f1c52-3d4e-4a5b-8c6d-7e8f9a0b1c2d",
      modelVersion: null,
      strategy: "coldstart",
      fallback: "no-model",
      snapshotId: null,
      items: [],
    };
    expect(schema.safeParse(good).success).toBe(true);
    expect(schema.safeParse({ ...good, strategy: "guess" }).success).toBe(false);
    expect(schema.safeParse({ ...good, impressionId: undefined }).success).toBe(false);
    expect(schema.safeParse({ ...good, items: [{ page: "x" }] }).success).toBe(false);
  });

  it("error responses validate against the document's schemas", async () => {
    await conforms("POST", "/predict", await post(`${server.url}/predict`, { userId: "x" }));
    await conforms("POST", "/predict", await fetch(`${server.url}/predict`, { method: "POST" }));
    await conforms(
      "POST",
      "/predict",
      await fetch(`${server.url}/predict`, { method: "POST", headers: { "x-api-key": API_KEY } }),
    );
    await conforms(
      "POST",
      "/events",
      await post(`${server.url}/events`, { events: [], pad: "x".repeat(70_000) }),
    );
    await conforms(
      "POST",
      "/coldstart",
      await fetch(`${server.url}/coldstart`, {
        method: "POST",
        headers: { "x-api-key": API_KEY },
        body: "k",
      }),
    );
    const limited = async () => fetch(`${server.url}/coldstart`, { headers: { "x-api-key": OTHER_KEY } });
    await limited();
    await limited();
    await conforms("GET", "/coldstart", await limited());
    service.readiness.startDraining();
    await conforms("GET", "/readyz", await fetch(`${server.url}/readyz`));
  });
});
