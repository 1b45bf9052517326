import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import { API_KEY, buildService, type Service, startService } from "../support/service.js";

let running: { close(): Promise<void> } | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  agent?.destroy();
  await running?.close();
  running = undefined;
});

interface Answer {
  status: number;
  body: string;
  socket: Socket;
}

/** One request over `agent` (keep-alive, a single socket), resolving with the socket it used. */
function send(url: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        agent,
        method: body === undefined ? "GET" : "POST",
        headers: { "x-api-key": API_KEY, "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text, socket: req.socket as Socket }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("a request that outlives its deadline", () => {
  it("answers 503, writes nothing after it, and the keep-alive connection serves the next requests", async () => {
    const ranker = new FakeRanker("1", new Map(), "ok", 0);
    const service: Service = buildService({
      ranker,
      http: { requestTimeoutMs: 150 },
      articles: Array.from({ length: 20 }, (_, i) => article(i + 1)),
      rows: [
        popularRow(
          "global",
          Array.from({ length: 20 }, (_, i) => pageId(i + 1)),
        ),
      ],
    });
    service.users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    const server = await startService(service);
    running = server;
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const resets: string[] = [];
    server.server.on("connection", (socket: Socket) =>
      socket.on("error", (error) => resets.push(String(error))),
    );

    const first = await send(server.url, "/healthz");
    ranker.delayMs = 600;
    const late = await send(server.url, "/predict", { userId: userId(1) });
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body).error.code).toBe("TIMEOUT");
    // Let the late handler finish (and try to answer) before the next request on the same socket.
    await new Promise((r) => setTimeout(r, 900));
    ranker.delayMs = 0;
    for (let i = 0; i < 3; i++) {
      const next = await send(server.url, "/predict", { userId: userId(1) });
      expect(next.status).toBe(200);
      expect(next.socket).toBe(first.socket);
    }
    expect(late.socket).toBe(first.socket);
    expect(resets).toEqual([]);
    // One server error logged: the time-out. The late handler's answer was dropped quietly (no
    // ERR_HTTP_HEADERS_SENT).
    const errors = service.lines.filter((l) => l.level === "error");
    expect(errors.map((l) => l.msg)).toEqual(["Request exceeded 150 ms"]);
    expect(JSON.stringify(service.lines)).not.toContain("ERR_HTTP_HEADERS_SENT");
  });
});
