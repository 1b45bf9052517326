import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { idealQueueLatency, pacedLoad, poissonSchedule, quantile } from "../../src/paced-load.js";

describe("the paced load's schedule", () => {
  it("draws a Poisson process at the asked rate, in order, within the duration", () => {
    const times = poissonSchedule(500, 20, 3);
    expect(times.length).toBeGreaterThan(0.95 * 500 * 20);
    expect(times.length).toBeLessThan(1.05 * 500 * 20);
    expect(times.every((t, i) => t < 20_000 && (i === 0 || t >= (times[i - 1] as number)))).toBe(true);
  });

  it("takes quantiles by nearest rank", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("the ideal server's latency (M/D/1)", () => {
  it("is the service time when idle and ~11 service times at the p99 of 80 % utilisation", () => {
    const idle = idealQueueLatency(2, 0.01, 20_000);
    expect(idle.p50).toBeCloseTo(2, 6);
    expect(idle.p99).toBeLessThan(2.2);
    const busy = idealQueueLatency(2, 0.8);
    // M/D/1 at rho = 0.8: mean wait rho / (2 (1 - rho)) = 2 service times; p99 of the sojourn ~ 11.
    expect(busy.p99 / 2).toBeGreaterThan(9);
    expect(busy.p99 / 2).toBeLessThan(13);
    expect(busy.p50).toBeGreaterThan(idle.p50);
  });
});

describe("the paced load", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A server that answers every request alone, one after the other, after `serviceMs` of work. */
  async function serialServer(serviceMs: number): Promise<string> {
    let busyUntil = 0;
    const listening = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        const start = Math.max(Date.now(), busyUntil);
        busyUntil = start + serviceMs;
        // 401 without the key, 400 when a POST lost its body: counted as non-2xx.
        const status =
          req.headers["x-api-key"] !== "k" ? 401 : req.method === "POST" && body !== "{}" ? 400 : 200;
        setTimeout(() => {
          res.writeHead(status);
          res.end();
        }, busyUntil - Date.now());
      });
    });
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  }

  it("counts a queue from the scheduled send: a server busy longer than the gaps shows it in p99", async () => {
    const url = await serialServer(20);
    // 100/s against a server that does 50/s: the queue grows through the second.
    const loaded = await pacedLoad({
      url,
      rate: 100,
      durationS: 1,
      method: "GET",
      path: "/",
      headers: { "x-api-key": "k" },
    });
    expect(loaded.errors).toBe(0);
    expect(loaded.requests).toBeGreaterThan(60);
    expect(loaded.p99).toBeGreaterThan(400);
    expect(loaded.connections).toBeGreaterThan(10);
  }, 30_000);

  it("shows no queue at a rate the server absorbs, and sends the body and headers", async () => {
    const url = await serialServer(1);
    const loaded = await pacedLoad({
      url,
      rate: 50,
      durationS: 1,
      method: "POST",
      path: "/predict",
      headers: { "x-api-key": "k", "content-type": "application/json" },
      body: () => "{}",
    });
    expect(loaded.errors + loaded.non2xx).toBe(0);
    expect(loaded.p50).toBeGreaterThanOrEqual(1);
    expect(loaded.p50).toBeLessThan(100);
  }, 30_000);
});
