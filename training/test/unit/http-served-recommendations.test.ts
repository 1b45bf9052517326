import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { HttpServedRecommendations } from "../../src/adapters/http-served-recommendations.js";

let server: Server | undefined;
afterEach(() => {
  server?.close();
});

/** An api stand-in answering with the given statuses in turn, then a list. */
async function api(statuses: number[]): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const listening = createServer((_req, res) => {
    const status = statuses[calls++] ?? 200;
    if (status === 429) {
      res.writeHead(429, { "retry-after": "0", "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "RATE_LIMITED" } }));
      return;
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(
      status === 200
        ? JSON.stringify({ modelVersion: "3", items: [{ page: "p1", score: 0.5, title: "t" }] })
        : JSON.stringify({ error: { code: "INTERNAL" } }),
    );
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, calls: () => calls };
}

describe("the running api's /predict, for the parity check", () => {
  it("waits as a 429 says and asks again, keeping only pages and scores", async () => {
    const { url, calls } = await api([429, 429]);
    const out = await new HttpServedRecommendations(url, "key").predict("u", 10);
    expect(out).toEqual({ modelVersion: "3", items: [{ page: "p1", score: 0.5 }] });
    expect(calls()).toBe(3);
  });

  it("gives up with the api's answer on another error, or after its attempts", async () => {
    const failing = await api([500]);
    await expect(new HttpServedRecommendations(failing.url, "key").predict("u", 10)).rejects.toThrow(
      /answered 500/,
    );
    server?.close();
    const limited = await api([429, 429, 429]);
    await expect(
      new HttpServedRecommendations(limited.url, "key", 5_000, 2).predict("u", 10),
    ).rejects.toThrow(/answered 429/);
    expect(limited.calls()).toBe(2);
  });
});
