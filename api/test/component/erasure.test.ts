import { erasureHash } from "@gplay/common";
import { afterEach, describe, expect, it } from "@jest/globals";
import { EventRecorder } from "../../src/app/record-events.js";
import {
  article,
  FakeSeenEvents,
  FakeSink,
  FakeUserStore,
  pageId,
  reader,
  userId,
} from "../support/fixtures.js";
import { ADMIN_KEY, buildService, json, post, type Service, startService } from "../support/service.js";

let running: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(): Promise<{ url: string; service: Service }> {
  const service = buildService({ articles: [1, 2, 3].map((n) => article(n)) });
  const server = await startService(service);
  running = server;
  return { url: server.url, service };
}

const click = (user: number, page: number, eventId?: string) => ({
  type: "click",
  userId: userId(user),
  page: pageId(page),
  timestamp: 1_660_000_000_000,
  ...(eventId === undefined ? {} : { eventId }),
});

describe("POST /admin/erasures", () => {
  it("refuses a key without the admin scope (403) and changes nothing", async () => {
    const { url, service } = await start();
    service.users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    const res = await post(`${url}/admin/erasures`, { userIds: [userId(1)] });
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(service.users.items.has(userId(1))).toBe(true);
    expect(service.erasures.ledger.size).toBe(0);
  });

  it("rejects ids that are not reader ids with 400, before writing anything", async () => {
    const { url, service } = await start();
    const res = await post(`${url}/admin/erasures`, { userIds: ["nope"] }, { "x-api-key": ADMIN_KEY });
    expect(res.status).toBe(400);
    expect(service.erasures.ledger.size).toBe(0);
  });

  it("erases known readers from the users item, the event ids, the click buffer and the impression log; reports unknown ids", async () => {
    const { url, service } = await start();
    service.users.items.set(userId(2), reader(userId(2), [pageId(1)]));
    expect(
      (await post(`${url}/events`, { events: [click(1, 2, "e-1"), click(2, 3, "e-2"), click(3, 1)] })).status,
    ).toBe(200);
    expect(service.events.buffered).toBe(3);
    // a list served to reader 1: it waits in the impression log with the three clicks
    expect((await post(`${url}/predict`, { userId: userId(1), k: 2 })).status).toBe(200);
    expect(service.impressions.buffered).toBe(4);
    const res = await post(
      `${url}/admin/erasures`,
      { userIds: [userId(1), userId(2).toUpperCase(), userId(9)] },
      { "x-api-key": ADMIN_KEY },
    );
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      requested: 2,
      unknown: [userId(9)],
      removed: { users: 2, eventIds: 2, bufferedClicks: 2, bufferedImpressionRows: 3 },
    });
    expect(service.users.items.has(userId(1))).toBe(false);
    expect(service.users.items.has(userId(3))).toBe(true);
    expect([...service.seen.keys]).toEqual([]);
    expect([...service.erasures.ledger.keys()].sort()).toEqual(
      [erasureHash(userId(1)), erasureHash(userId(2))].sort(),
    );
    await service.events.flush();
    await service.impressions.flush();
    const filed = [...service.sink.objects.values()].join("");
    expect(filed).toContain(userId(3));
    expect(filed).not.toContain(userId(1));
    expect(filed).not.toContain(userId(2));
  });
});

describe("another task's click buffer", () => {
  it("drops clicks of a reader erased elsewhere at its next flush, and keeps the reader's later clicks", async () => {
    const service = buildService();
    const sink = new FakeSink();
    // A second task sharing the ledger: the erasure went to the first one.
    const other = new EventRecorder(
      {
        users: new FakeUserStore(),
        sink,
        seen: new FakeSeenEvents(),
        clock: { now: () => 1_700_000_000_000 },
        erasures: service.erasures,
      },
      { maxWriteAttempts: 2, instanceId: "task-2", maxBufferedClicks: 100 },
    );
    await other.record([
      { type: "click", userId: userId(5), page: pageId(1), timestamp: 1_660_000_000_000 },
      { type: "click", userId: userId(6), page: pageId(1), timestamp: 1_660_000_000_000 },
    ]);
    await service.erasures.addLedgerEntries([
      {
        userHash: erasureHash(userId(5)),
        erasedAt: new Date(1_690_000_000_000).toISOString(),
        status: "requested",
        requestId: "r",
        updatedAt: new Date(1_690_000_000_000).toISOString(),
      },
    ]);
    await other.record([{ type: "click", userId: userId(5), page: pageId(2), timestamp: 1_695_000_000_000 }]);
    expect(await other.flush()).toBe(2);
    const filed = [...sink.objects.values()].join("");
    expect(filed).toContain(userId(6));
    expect(filed.split("\n").filter((l) => l.startsWith(userId(5)))).toHaveLength(1);
    expect(filed).toContain(pageId(2));
    expect(filed).not.toMatch(new RegExp(`${userId(5)}[^\\n]*${pageId(1)}`));
  });
});
