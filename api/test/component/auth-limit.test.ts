import { afterEach, describe, expect, it } from "@jest/globals";
import { API_KEY, buildService, json, type ServiceOptions, startService } from "../support/service.js";

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(http: ServiceOptions["http"]): Promise<string> {
  const server = await startService(buildService({ http }));
  running = server;
  return server.url;
}

/** A request as the load balancer forwards it: it appends the client's address to X-Forwarded-For. */
const call = (url: string, key: string, forwardedFor: string) =>
  fetch(`${url}/coldstart?k=1`, { headers: { "x-api-key": key, "x-forwarded-for": forwardedFor } });

describe("rate limit in front of authentication, per client IP", () => {
  it("answers 429 to a client guessing keys, keyed on the address the balancer saw", async () => {
    const url = await start({ trustProxyHops: 1, authFailureQuota: { ratePerSecond: 0.1, burst: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      // The attacker varies the part of X-Forwarded-For it controls; the balancer's entry stays.
      const res = await call(url, `wrong-key-${i}-padding`, `198.51.100.${i}, 203.0.113.7`);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // Refused before its key is even looked at: a right key from that address waits too.
    const blocked = await call(url, API_KEY, "203.0.113.7");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await json(blocked)).error.code).toBe("RATE_LIMITED");
    // Other clients behind the same balancer are not affected.
    expect((await call(url, API_KEY, "203.0.113.8")).status).toBe(200);
    expect((await call(url, "another-wrong-key-000", "203.0.113.8")).status).toBe(401);
  });

  it("never counts a client's good requests against it", async () => {
    const url = await start({ trustProxyHops: 1, authFailureQuota: { ratePerSecond: 0.1, burst: 2 } });
    for (let i = 0; i < 20; i++) expect((await call(url, API_KEY, "203.0.113.9")).status).toBe(200);
  });
});
