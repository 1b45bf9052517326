import { logPages } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { article, pageId, popularRow, reader, userId } from "../support/fixtures.js";
import { API_KEY, buildService, json, post, type Service, startService } from "../support/service.js";

const p = pageId;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(): Promise<{ url: string; service: Service }> {
  const service = buildService({
    articles: range(1, 30).map((n) => article(n)),
    rows: [popularRow("global", range(1, 30).map(p))],
  });
  const server = await startService(service);
  running = server;
  return { url: server.url, service };
}

const click = (user: number, page: string, extra: Record<string, unknown> = {}) => ({
  type: "click",
  userId: userId(user),
  page,
  timestamp: 1_660_000_000_000,
  ...extra,
});

/** Every click the service filed under raw/ (after a flush), as CSV rows. */
async function filedRows(service: Service): Promise<string[]> {
  await service.events.flush();
  return [...service.sink.objects.values()].flatMap((body) => body.trimEnd().split("\n").slice(1));
}

describe("POST /events: ids in any case", () => {
  it("records a click whose page and reader ids are upper case, lower-cased (was a 500)", async () => {
    const { url, service } = await start();
    const res = await post(`${url}/events`, {
      events: [click(1, p(12).toUpperCase(), { userId: userId(0xabc).toUpperCase() })],
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ accepted: 1, clicks: 1, rejected: [] });
    const item = service.users.items.get(userId(0xabc));
    expect([...logPages(item?.log as Uint8Array)]).toEqual([p(12)]);
    const rows = await filedRows(service);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(p(12));
    expect(rows[0]).not.toContain(p(12).toUpperCase());
  });

  it("honours an upper-case id in exclude on /predict and /coldstart", async () => {
    const { url, service } = await start();
    service.users.items.set(userId(1), reader(userId(1), [p(30)]));
    const excluded = p(10); // ends in "a": upper case differs
    const pages = (body: { items: { page: string }[] }) => body.items.map((i) => i.page);
    const predict = await json(
      await post(`${url}/predict`, { userId: userId(1), k: 20, exclude: [excluded.toUpperCase()] }),
    );
    expect(pages(predict)).toHaveLength(20);
    expect(pages(predict)).not.toContain(excluded);
    const coldstart = await json(
      await post(`${url}/coldstart`, { k: 20, exclude: [excluded.toUpperCase()] }),
    );
    expect(pages(coldstart)).toHaveLength(20);
    expect(pages(coldstart)).not.toContain(excluded);
    const get = await fetch(`${url}/coldstart?k=20&recentlyClicked=${excluded.toUpperCase()}`, {
      headers: { "x-api-key": API_KEY },
    });
    expect(pages(await json(get))).not.toContain(excluded);
  });
});

describe("POST /events: a batch is validated whole before anything is written", () => {
  it("accepts the good events and reports the bad ones by index", async () => {
    const { url, service } = await start();
    const res = await post(`${url}/events`, {
      events: [
        click(1, p(1)),
        click(2, "not-a-page"),
        click(3, p(3)),
        { type: "view", userId: userId(4), page: p(4) },
      ],
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ accepted: 2, clicks: 2, readersUpdated: 2, duplicates: 0 });
    expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3]);
    expect(body.rejected[0].issues[0].path).toBe("body.events.1.page");
    expect(body.rejected[1].issues[0].path).toBe("body.events.3.type");
    expect([...service.users.items.keys()].sort()).toEqual([userId(1), userId(3)]);
    const rows = await filedRows(service);
    expect(rows).toHaveLength(2);
    expect(rows.join("\n")).not.toContain("not-a-page");
  });

  it("records nothing from a batch with no valid event, and reports every one by index", async () => {
    const { url, service } = await start();
    const res = await post(`${url}/events`, { events: [click(1, "x"), click(2, p(2), { userId: "nope" })] });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ accepted: 0, clicks: 0, readersUpdated: 0 });
    expect(body.rejected.flatMap((r: { issues: { path: string }[] }) => r.issues.map((i) => i.path))).toEqual(
      ["body.events.0.page", "body.events.1.userId"],
    );
    expect(service.users.items.size).toBe(0);
    expect(await filedRows(service)).toEqual([]);
  });

  it("refuses with 400 a body that is not a list of 1 to 500 objects", async () => {
    const { url } = await start();
    for (const body of [{}, { events: [] }, { events: [1] }, { events: [click(1, p(1))], extra: true }]) {
      const res = await post(`${url}/events`, body);
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("POST /events: retries with client event ids add nothing", () => {
  it("records a retried batch once, and says how many were duplicates", async () => {
    const { url, service } = await start();
    const batch = {
      events: [
        click(1, p(1), { eventId: "e-1", timestamp: undefined }),
        click(1, p(2), { eventId: "e-2", timestamp: undefined }),
        click(2, p(3), { eventId: "e-1", timestamp: undefined }),
      ],
    };
    const first = await json(await post(`${url}/events`, batch));
    expect(first).toMatchObject({ accepted: 3, clicks: 3, readersUpdated: 2, duplicates: 0 });
    const version = service.users.items.get(userId(1))?.version;
    const retry = await json(await post(`${url}/events`, batch));
    expect(retry).toMatchObject({ accepted: 0, clicks: 0, readersUpdated: 0, duplicates: 3 });
    expect(service.users.items.get(userId(1))?.version).toBe(version);
    expect(await filedRows(service)).toHaveLength(2); // one treino row per reader, 3 clicks in all
    expect(service.seen.keys.size).toBe(3);
  });

  it("counts an id repeated inside one batch once", async () => {
    const { url, service } = await start();
    const res = await json(
      await post(`${url}/events`, {
        events: [click(1, p(1), { eventId: "same" }), click(1, p(2), { eventId: "same" })],
      }),
    );
    expect(res).toMatchObject({ accepted: 1, clicks: 1, duplicates: 1 });
    expect([...logPages(service.users.items.get(userId(1))?.log as Uint8Array)]).toEqual([p(1)]);
  });

  it("forgets the ids of a batch it could not record, so the client's retry records it", async () => {
    const { url, service } = await start();
    service.users.failPuts = 1;
    const batch = { events: [click(1, p(1), { eventId: "e-9" })] };
    const failed = await post(`${url}/events`, batch);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const retry = await json(await post(`${url}/events`, batch));
    expect(retry).toMatchObject({ accepted: 1, duplicates: 0 });
    expect([...logPages(service.users.items.get(userId(1))?.log as Uint8Array)]).toEqual([p(1)]);
  });
});
