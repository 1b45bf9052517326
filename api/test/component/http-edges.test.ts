import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { article, pageId, popularRow } from "../support/fixtures.js";
import { API_KEY, buildService, json, startService } from "../support/service.js";

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: unknown[] }>>;
};

let server: { url: string; close(): Promise<void> };
let doc: Doc;
beforeAll(async () => {
  server = await startService(
    buildService({
      articles: Array.from({ length: 60 }, (_, i) => article(i + 1)),
      rows: [
        popularRow(
          "global",
          Array.from({ length: 60 }, (_, i) => pageId(i + 1)),
        ),
      ],
    }),
  );
  doc = await json(await fetch(`${server.url}/openapi.json`));
});
afterAll(async () => server.close());

/** A raw request (fetch refuses TRACE), resolving with status, headers and body. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        `${server.url}${path}`,
        { method, headers: { "x-api-key": API_KEY, ...headers } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            text += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    },
  );
}

describe("methods and limits the document states", () => {
  it.each(["TRACE", "PUT", "DELETE", "PATCH"])(
    "answers %s on a known path with 405 and Allow",
    async (method) => {
      const res = await raw(method, "/predict");
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe("POST");
      expect(JSON.parse(res.body).error.code).toBe("METHOD_NOT_ALLOWED");
      const coldstart = await raw(method, "/coldstart");
      expect(coldstart.headers.allow).toBe("GET, POST");
    },
  );

  it("still answers 404 for an unknown path", async () => {
    expect((await raw("GET", "/nope")).status).toBe(404);
  });

  it("documents 405 and 431 (request line or headers too large) on every operation", async () => {
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        expect({ route: `${method} ${path}`, has431: "431" in op.responses }).toEqual({
          route: `${method} ${path}`,
          has431: true,
        });
        expect("405" in op.responses).toBe(true);
      }
    const longUrl = await raw("GET", `/coldstart?region=${"x".repeat(20_000)}`);
    expect(longUrl.status).toBe(431);
  });

  it("accepts on GET /coldstart every recentlyClicked the document allows: 50 ids, spaces after commas", async () => {
    const ids = Array.from({ length: 50 }, (_, i) => pageId(i + 1).toUpperCase());
    const res = await fetch(`${server.url}/coldstart?k=5&recentlyClicked=${ids.join(",%20")}`, {
      headers: { "x-api-key": API_KEY },
    });
    expect(res.status).toBe(200);
    const items = (await json(res)).items.map((i: { page: string }) => i.page);
    expect(items).toEqual([51, 52, 53, 54, 55].map(pageId));
    const parameters = (doc.paths["/coldstart"]?.get?.parameters ?? []) as {
      name: string;
      schema: { pattern?: string };
    }[];
    const param = parameters.find((p) => p.name === "recentlyClicked");
    const pattern = new RegExp(param?.schema.pattern as string);
    expect(pattern.test(ids.join(", "))).toBe(true);
    expect(pattern.test([...ids, pageId(60)].join(","))).toBe(false); // 51 ids: refused by both
    expect(pattern.test("not-an-id")).toBe(false);
  });

  it("refuses an empty JSON body with a clear 400, not a 415 asking for JSON", async () => {
    const res = await raw("POST", "/predict", { "content-type": "application/json", "content-length": "0" });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.message).toMatch(/body is empty/);
  });
});
