import { describe, expect, it } from "@jest/globals";
import { drain } from "../../src/server.js";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import { buildService, post, startService } from "../support/service.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("graceful drain", () => {
  it("loses no request and no event under a concurrent request loop", async () => {
    const ranker = new FakeRanker("9", new Map(), "ok", 30);
    const service = buildService({
      http: { requestTimeoutMs: 10_000 },
      articles: Array.from({ length: 50 }, (_, i) => article(i + 1)),
      rows: [
        popularRow(
          "global",
          Array.from({ length: 50 }, (_, i) => pageId(i + 1)),
        ),
      ],
      ranker,
    });
    for (let u = 0; u < 8; u++) service.users.items.set(userId(u), reader(userId(u), [pageId(1)]));
    const { url, server } = await startService(service);

    const outcomes = { ok: 0, failed: [] as string[], clicksAccepted: 0 };
    // The load balancer: polls readiness and stops routing to the task once it fails.
    let routing = true;
    const balancer = (async () => {
      while (routing) {
        try {
          const res = await fetch(`${url}/readyz`);
          await res.arrayBuffer();
          if (res.status === 503) routing = false;
          else await sleep(20);
        } catch (error) {
          outcomes.failed.push(`balancer: ${String((error as Error).cause ?? error)}`);
          routing = false;
        }
      }
    })();

    /** One request, sent only while the balancer still routes to the task (as an ALB would). */
    const send = async (path: string, body: unknown): Promise<boolean> => {
      if (!routing) return false;
      try {
        const res = await post(`${url}${path}`, body);
        await res.arrayBuffer();
        if (res.status === 200) outcomes.ok += 1;
        else outcomes.failed.push(`${path}: status ${res.status}`);
        return res.status === 200;
      } catch (error) {
        outcomes.failed.push(`${path}: ${String((error as Error).cause ?? error)}`);
        return false;
      }
    };
    const worker = async (u: number) => {
      for (let n = 1; routing; n++) {
        await send("/predict", { userId: userId(u), k: 5 });
        const click = {
          type: "click",
          userId: userId(u),
          page: pageId((n % 50) + 1),
          timestamp: 1_660_000_000_000 + n,
        };
        if (await send("/events", { events: [click] })) outcomes.clicksAccepted += 1;
      }
    };
    const workers = Array.from({ length: 8 }, (_, u) => worker(u));
    // Load first: the drain starts with the loop in full swing (polled, as the machine may be busy).
    for (let waited = 0; outcomes.ok < 16 && waited < 20_000; waited += 10) await sleep(10);

    // A slow request sent after deregistration, still in flight when the listener closes.
    const late = (async () => {
      while (routing) await sleep(5);
      await sleep(100);
      ranker.delayMs = 2_000;
      return post(`${url}/predict`, { userId: userId(0), k: 5 });
    })();
    await drain({
      server,
      startDraining: () => service.readiness.startDraining(),
      finish: async () => {
        await service.events.close();
      },
      logger: service.logger,
      delayMs: 1_500,
      forceAfterMs: 5_000,
    });
    await Promise.all([...workers, balancer]);
    const lateResponse = await late;

    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThanOrEqual(16);
    expect(lateResponse.status).toBe(200);
    expect(lateResponse.headers.get("connection")).toBe("close");
    // Every accepted click is in a raw file, none left in memory.
    expect(service.events.buffered).toBe(0);
    const rows = [...service.sink.objects.values()].flatMap((body) => body.trimEnd().split("\n").slice(1));
    const clicksInFiles = rows.reduce((sum, row) => sum + Number(row.split(",")[2]), 0);
    expect(clicksInFiles).toBe(outcomes.clicksAccepted);
    // The listener is closed.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(service.lines.some((l) => l.event === "drain-finished")).toBe(true);
  });
});
