import { type ApiEvent, AppError, decodeInteractionLog, logPages } from "@gplay/common";
import { beforeEach, describe, expect, it } from "@jest/globals";
import { EventRecorder } from "../../../src/app/record-events.js";
import {
  AS_OF,
  FakeSeenEvents,
  FakeSink,
  FakeUserStore,
  ManualClock,
  pageId,
  reader,
  userId,
} from "../../support/fixtures.js";

const click = (user: number, page: number, extra: Partial<ApiEvent> = {}): ApiEvent => ({
  type: "click",
  userId: userId(user),
  page: pageId(page),
  ...extra,
});

describe("EventRecorder", () => {
  let users: FakeUserStore;
  let sink: FakeSink;
  let clock: ManualClock;
  let written: string[];
  let recorder: EventRecorder;

  beforeEach(() => {
    users = new FakeUserStore();
    sink = new FakeSink();
    clock = new ManualClock(AS_OF);
    written = [];
    recorder = new EventRecorder(
      {
        users,
        sink,
        seen: new FakeSeenEvents(),
        clock,
        onUserWritten: (u) => written.push(u.userId),
        sleep: async () => undefined,
      },
      { maxWriteAttempts: 3, instanceId: "task-1", maxBufferedClicks: 5 },
    );
  });

  it("creates a new reader's item from its first click, stamped with the receipt time", async () => {
    const result = await recorder.record([click(1, 1), { ...click(1, 2), type: "impression" }]);
    // No impression log wired: nothing can be credited.
    expect(result).toEqual({
      accepted: 2,
      clicks: 1,
      impressions: 1,
      readersUpdated: 1,
      duplicates: 0,
      attributed: 0,
      unattributed: 2,
    });
    const item = users.items.get(userId(1));
    expect(item?.version).toBe(1);
    expect(decodeInteractionLog(item?.log as Uint8Array)).toEqual([
      { page: pageId(1), timestamp: AS_OF, clicks: 1, timeOnPageMs: 0, scrollPercentage: 0, pageVisits: 1 },
    ]);
    expect(written).toEqual([userId(1)]);
  });

  it("adds clicks to an existing reader with a write conditional on its version", async () => {
    users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    await recorder.record([click(1, 2, { timestamp: AS_OF + 5 })]);
    const item = users.items.get(userId(1));
    expect(item?.version).toBe(2);
    expect([...logPages(item?.log as Uint8Array)].sort()).toEqual([pageId(1), pageId(2)]);
  });

  it("re-reads and retries when another writer changed the reader first", async () => {
    users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    users.conflictsToInject = 2;
    await recorder.record([click(1, 2)]);
    expect(users.puts).toBe(3);
    expect(logPages(users.items.get(userId(1))?.log as Uint8Array).has(pageId(2))).toBe(true);
  });

  it("gives up with CONFLICT after the last attempt", async () => {
    users.items.set(userId(1), reader(userId(1), [pageId(1)]));
    users.conflictsToInject = 3;
    await expect(recorder.record([click(1, 2)])).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("flushes buffered clicks into one treino file under raw/, then has nothing left", async () => {
    await recorder.record([click(1, 1), click(2, 2), click(1, 3, { timestamp: AS_OF + 1 })]);
    expect(await recorder.flush()).toBe(3);
    expect(sink.objects.size).toBe(1);
    const [key, body] = [...sink.objects.entries()][0] as [string, string];
    expect(key).toMatch(/^raw\/api-events\/dt=2022-08-15\/.*-task-1-000001-[0-9a-f]{8}\.csv$/);
    expect(body.trimEnd().split("\n")).toHaveLength(3);
    expect(await recorder.flush()).toBe(0);
    expect(sink.objects.size).toBe(1);
  });

  it("keeps clicks whose file could not be written and writes them on the next flush", async () => {
    await recorder.record([click(1, 1)]);
    sink.failures = 1;
    await expect(recorder.flush()).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    expect(recorder.buffered).toBe(1);
    await recorder.record([click(2, 2)]);
    expect(await recorder.close()).toBe(2);
    expect(recorder.buffered).toBe(0);
  });

  it("starts a flush early once enough clicks wait", async () => {
    const eager = new EventRecorder(
      { users, sink, seen: new FakeSeenEvents(), clock, sleep: async () => undefined },
      { maxWriteAttempts: 3, instanceId: "task-1", maxBufferedClicks: 100, flushAtClicks: 2 },
    );
    await eager.record([click(1, 1)]);
    expect(sink.objects.size).toBe(0);
    await eager.record([click(2, 2)]);
    expect(sink.objects.size).toBe(1);
    expect(eager.buffered).toBe(0);
  });

  it("refuses events rather than growing the buffer past its limit", async () => {
    sink.failures = 10;
    await recorder.record([1, 2, 3, 4].map((n) => click(n, n)));
    await expect(recorder.record([click(5, 5), click(6, 6)])).rejects.toBeInstanceOf(AppError);
    expect(recorder.buffered).toBe(4);
  });
});
