import { logPages, parseImpressionLogFields, RAW_HEADERS } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { article, FakeRanker, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import {
  buildService,
  json,
  post,
  type Service,
  type ServiceOptions,
  startService,
} from "../support/service.js";

const p = pageId;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: ServiceOptions = {}): Promise<{ url: string; service: Service }> {
  const service = buildService({
    articles: range(1, 30).map((n) => article(n)),
    rows: [popularRow("global", range(1, 30).map(p))],
    ...options,
  });
  for (const n of range(1, 200)) service.users.items.set(userId(n), reader(userId(n), [p(30)]));
  const server = await startService(service);
  running = server;
  return { url: server.url, service };
}

/** Every impression-log row the service wrote (after a flush), parsed with common's contract. */
async function loggedRows(service: Service) {
  await service.impressions.flush();
  const bodies = [...service.sink.objects.entries()].filter(([key]) => key.includes("/impressions/"));
  return bodies.flatMap(([, body]) => {
    const [header, ...lines] = body.trimEnd().split("\n");
    expect(header).toBe(RAW_HEADERS.impressions.join(","));
    return lines.map((line) => {
      const parsed = parseImpressionLogFields(line.split(","));
      if (!parsed.success) throw new Error(`bad row ${line}: ${parsed.error.message}`);
      return parsed.data;
    });
  });
}

const click = (user: number, page: string, extra: Record<string, unknown> = {}) => ({
  type: "click",
  userId: userId(user),
  page,
  ...extra,
});

describe("impressions: every served list has an id and a row in the log", () => {
  it("names the list in /predict and /coldstart responses and records pages, scores, version and arm", async () => {
    const { url, service } = await start({ ranker: new FakeRanker("12") });
    const predicted = await json(await post(`${url}/predict`, { userId: userId(1), k: 3 }));
    const cold = await json(await post(`${url}/coldstart`, { k: 2 }));
    expect(predicted.impressionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(cold.impressionId).not.toBe(predicted.impressionId);
    const rows = await loggedRows(service);
    expect(rows).toEqual([
      expect.objectContaining({
        eventType: "served",
        impressionId: predicted.impressionId,
        userId: userId(1),
        modelVersion: "12",
        arm: "champion",
        strategy: "model",
        pages: predicted.items.map((i: { page: string }) => i.page),
        scores: predicted.items.map((i: { score: number }) => i.score),
      }),
      expect.objectContaining({
        eventType: "served",
        impressionId: cold.impressionId,
        arm: "none",
        strategy: "coldstart",
      }),
    ]);
    expect(rows[1]?.userId).toBeUndefined();
  });

  it("credits a click to the named list, or to the reader's latest list holding the page", async () => {
    const { url, service } = await start({ ranker: new FakeRanker("12") });
    const first = await json(await post(`${url}/predict`, { userId: userId(1), k: 5 }));
    const second = await json(await post(`${url}/predict`, { userId: userId(1), k: 5 }));
    const page = first.items[0].page as string;
    const named = await json(
      await post(`${url}/events`, { events: [click(1, page, { impressionId: first.impressionId })] }),
    );
    expect(named).toMatchObject({ accepted: 1, attributed: 1, unattributed: 0 });
    const unnamed = await json(await post(`${url}/events`, { events: [click(1, second.items[1].page)] }));
    expect(unnamed).toMatchObject({ attributed: 1 });
    const clicks = (await loggedRows(service)).filter((r) => r.eventType === "click");
    expect(clicks.map((c) => c.impressionId)).toEqual([first.impressionId, second.impressionId]);
    expect(clicks[0]).toMatchObject({ modelVersion: "12", arm: "champion", strategy: "model" });
  });

  it("counts clicks naming an unknown or another reader's impression as unattributed, never an error", async () => {
    const { url, service } = await start({ ranker: new FakeRanker("12") });
    const others = await json(await post(`${url}/predict`, { userId: userId(2), k: 3 }));
    const page = others.items[0].page as string;
    const res = await post(`${url}/events`, {
      events: [
        click(1, page, { impressionId: others.impressionId }),
        click(3, page, { impressionId: "6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b" }),
        click(4, page), // no list served to this reader
        click(5, page, { impressionId: "not-a-list" }),
      ],
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      accepted: 4,
      clicks: 4,
      attributed: 0,
      unattributed: 4,
      rejected: [],
    });
    // The click itself is recorded: the page joins the reader's read set.
    expect(logPages(service.users.items.get(userId(5))?.log as Uint8Array).has(page)).toBe(true);
    const clicks = (await loggedRows(service)).filter((r) => r.eventType === "click");
    expect(clicks).toHaveLength(4);
    expect(clicks[3]?.impressionId).toBeUndefined();
    expect(clicks.every((c) => c.arm === undefined && c.modelVersion === undefined)).toBe(true);
  });

  it("records a client-side impression as a `shown` row credited like a click, and no read", async () => {
    const { url, service } = await start({ ranker: new FakeRanker("12") });
    const served = await json(await post(`${url}/predict`, { userId: userId(1), k: 3 }));
    const page = served.items[2].page as string;
    const body = await json(
      await post(`${url}/events`, { events: [{ type: "impression", userId: userId(1), page }] }),
    );
    expect(body).toMatchObject({ impressions: 1, clicks: 0, attributed: 1 });
    expect((await loggedRows(service)).at(-1)).toMatchObject({
      eventType: "shown",
      impressionId: served.impressionId,
      pages: [page],
    });
  });
});

describe("challenger traffic", () => {
  it("serves the challenger to its share of readers, the same arm for a reader every time", async () => {
    const { url, service } = await start({
      ranker: new FakeRanker("1"),
      challenger: { ranker: new FakeRanker("2"), share: 0.3, mode: "split" },
    });
    const versions = new Map<number, string>();
    for (const n of range(1, 200))
      versions.set(n, (await json(await post(`${url}/predict`, { userId: userId(n) }))).modelVersion);
    for (const n of range(1, 40))
      expect((await json(await post(`${url}/predict`, { userId: userId(n) }))).modelVersion).toBe(
        versions.get(n),
      );
    const challenged = [...versions.values()].filter((v) => v === "2").length;
    // 200 readers at 30 %: 60 expected; 3 standard deviations (6.5 each) either side.
    expect(challenged).toBeGreaterThan(40);
    expect(challenged).toBeLessThan(80);
    const served = (await loggedRows(service)).filter((r) => r.eventType === "served");
    expect(served.filter((r) => r.arm === "challenger").every((r) => r.modelVersion === "2")).toBe(true);
    expect(served.filter((r) => r.arm === "champion").every((r) => r.modelVersion === "1")).toBe(true);
  });

  it("in shadow mode answers with the champion and records the challenger's list unseen", async () => {
    const { url, service } = await start({
      ranker: new FakeRanker("1"),
      challenger: { ranker: new FakeRanker("2"), share: 0, mode: "shadow" },
    });
    for (const n of range(1, 5))
      expect((await json(await post(`${url}/predict`, { userId: userId(n) }))).modelVersion).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 50)); // shadow scoring runs after the response
    const rows = await loggedRows(service);
    expect(rows.filter((r) => r.eventType === "served").map((r) => r.modelVersion)).toEqual([
      "1",
      "1",
      "1",
      "1",
      "1",
    ]);
    expect(rows.filter((r) => r.eventType === "shadow").map((r) => r.modelVersion)).toEqual([
      "2",
      "2",
      "2",
      "2",
      "2",
    ]);
  });

  it("swaps either arm's version under traffic without a failed request or a lost impression", async () => {
    const { url, service } = await start({
      ranker: new FakeRanker("1"),
      challenger: { ranker: new FakeRanker("2"), share: 0.5, mode: "split" },
    });
    const predict = async (n: number) => {
      const res = await post(`${url}/predict`, { userId: userId(n) });
      return { status: res.status, body: await json(res) };
    };
    const catalogue = () => service.data.catalogue();
    // Rankings take a while, so requests are in flight on the old versions when each swap happens.
    for (const ranker of [service.model, service.challenger]) {
      const state = ranker.current();
      if (state.status === "ready") (state.ranker as FakeRanker).delayMs = 20;
    }
    const waves = [range(1, 40).map(predict)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    service.model.set(new FakeRanker("3").useCatalogue(catalogue));
    waves.push(range(41, 80).map(predict));
    await new Promise((resolve) => setTimeout(resolve, 10));
    service.challenger.set(new FakeRanker("4").useCatalogue(catalogue));
    waves.push(range(81, 120).map(predict));
    const results = await Promise.all(waves.flat());
    expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);
    const ids = new Set(results.map((r) => r.body.impressionId));
    const served = (await loggedRows(service)).filter((r) => r.eventType === "served");
    expect(new Set(served.map((r) => r.impressionId))).toEqual(ids);
    expect(served).toHaveLength(120);
    expect(served.map((r) => r.modelVersion)).toEqual(expect.arrayContaining(["3", "4"]));
    expect(served.every((r) => ["1", "2", "3", "4"].includes(r.modelVersion as string))).toBe(true);
  });
});
