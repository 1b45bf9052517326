import { type ImpressionLogRow, parseImpressionLogFields } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { ImpressionRecorder } from "../../../src/app/record-impressions.js";
import { impressionCsvInSlices } from "../../../src/domain/impressions.js";
import { FakeSink, ManualClock, userId } from "../../support/fixtures.js";

const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const rows: ImpressionLogRow[] = Array.from({ length: 5 }, (_, i) => ({
  eventType: "served",
  impressionId: uuid(i),
  userId: userId(i + 1),
  timestamp: 1_700_000_000_000 + i,
  modelVersion: "3",
  arm: "champion",
  strategy: "model",
  pages: [uuid(100 + i), uuid(200 + i)],
  scores: [0.5 + i / 7, 0.25],
  latencyMs: 2,
}));

describe("the impressions file", () => {
  it("renders in slices, yielding between them, the same text as in one piece, and it reads back", async () => {
    let pauses = 0;
    const pause = async () => {
      pauses += 1;
    };
    const whole = await impressionCsvInSlices(rows, pause, 100);
    expect(pauses).toBe(0);
    const sliced = await impressionCsvInSlices(rows, pause, 2);
    expect(pauses).toBe(2);
    expect(sliced).toBe(whole);
    const lines = (whole as string).split("\n");
    expect(lines).toHaveLength(rows.length + 2); // header, rows, the final LF
    expect(lines.at(-1)).toBe("");
    const parsed = lines.slice(1, -1).map((line) => parseImpressionLogFields(line.split(",")));
    expect(parsed.map((p) => (p.success ? p.data : p.error.message))).toEqual(rows);
  });

  it("is no file for no rows", async () => {
    await expect(impressionCsvInSlices([], async () => undefined)).resolves.toBeUndefined();
  });

  it("is rendered by a flush with the event loop served in between", async () => {
    let otherWorkRan = false;
    const sink = new (class extends FakeSink {
      otherWorkRanBeforeWrite: boolean | undefined;
      override async putRawObject(key: string, body: string): Promise<void> {
        this.otherWorkRanBeforeWrite = otherWorkRan;
        await super.putRawObject(key, body);
      }
    })();
    const recorder = new ImpressionRecorder(
      { sink, clock: new ManualClock() },
      { instanceId: "t", maxBufferedRows: 10_000, attributionReaders: 100, listsPerReader: 3 },
    );
    for (let i = 0; i < 600; i++)
      recorder.served({
        userId: userId(1 + (i % 50)),
        modelVersion: "3",
        arm: "champion",
        strategy: "model",
        items: [{ page: uuid(i), score: 0.5 }],
        latencyMs: 1,
      });
    // Work queued on the event loop (a request arriving) just as the flush starts.
    setImmediate(() => {
      otherWorkRan = true;
    });
    await expect(recorder.flush()).resolves.toBe(600);
    expect(sink.otherWorkRanBeforeWrite).toBe(true);
    const [body] = [...sink.objects.values()];
    expect(body?.split("\n")).toHaveLength(602);
  });
});
