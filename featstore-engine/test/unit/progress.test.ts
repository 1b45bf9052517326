import { Writable } from "node:stream";
import { createLogger } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { createProgress, rate, renderBar } from "../../src/progress/progress.js";

/** A logger whose JSON lines are collected. */
function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "test",
    version: "test",
    level: "info",
    destination: new Writable({
      write(chunk, _e, done) {
        for (const line of String(chunk).split("\n")) if (line !== "") lines.push(JSON.parse(line));
        done();
      },
    }),
  });
  return { logger, lines };
}

/** A manual clock and timer: `tick(ms)` advances time and fires the interval. */
function manualTime() {
  let now = 0;
  let fire: (() => void) | undefined;
  let cancelled = false;
  return {
    now: () => now,
    every: (_ms: number, tick: () => void) => {
      fire = tick;
      return () => {
        cancelled = true;
      };
    },
    tick(ms: number) {
      now += ms;
      if (!cancelled) fire?.();
    },
    get cancelled() {
      return cancelled;
    },
  };
}

describe("progress", () => {
  it("computes rows per second between two observations", () => {
    expect(rate(15_000, 5_000, 2_000)).toBe(5_000);
    expect(rate(10, 0, 0)).toBe(0);
  });

  it("draws a bar with the share of bytes read, rows and rate", () => {
    const line = renderBar(
      "raw/treino/day1.csv",
      { phase: "read", rows: 120_000, bytes: 12_582_912, totalBytes: 25_165_824, items: 0 },
      45_000,
      10,
    );
    expect(line).toBe(
      "raw/treino/day1.csv read     [#####-----]  50% 12.0 MB/24.0 MB 120,000 rows 45,000 rows/s",
    );
  });

  it("logs structured lines (rows, rows/s, bytes of the object, phase) when stderr is not a terminal", () => {
    const { logger, lines } = collectingLogger();
    const time = manualTime();
    const written: string[] = [];
    const progress = createProgress({
      stream: { isTTY: false, write: (t: string) => written.push(t) },
      logger,
      intervalMs: 10_000,
      now: time.now,
      every: time.every,
    });
    const task = progress.begin("raw/treino/day1.csv", 1_000_000);
    task.phase("read");
    task.advance(20_000, 400_000);
    time.tick(10_000);
    task.advance(30_000, 600_000);
    task.phase("users");
    task.wrote(5_000);
    time.tick(5_000);
    task.end();
    expect(written).toEqual([]);
    expect(
      lines.map((l) => [l.msg, l.phase, l.rows, l.rowsPerSecond, l.bytes, l.totalBytes, l.items]),
    ).toEqual([
      ["progress", "read", 20_000, 2_000, 400_000, 1_000_000, 0],
      ["progress", "users", 50_000, 6_000, 1_000_000, 1_000_000, 5_000],
      ["progress: done", "users", 50_000, 3_333, 1_000_000, 1_000_000, 5_000],
    ]);
    expect(lines[0]?.task).toBe("raw/treino/day1.csv");
    expect(time.cancelled).toBe(true);
  });

  it("redraws a bar in place on a terminal and ends it with a newline", () => {
    const { logger, lines } = collectingLogger();
    const time = manualTime();
    const written: string[] = [];
    const progress = createProgress({
      stream: { isTTY: true, columns: 200, write: (t: string) => written.push(t) },
      logger,
      now: time.now,
      every: time.every,
    });
    const task = progress.begin("snapshot");
    task.phase("items");
    task.advance(1_000, 2_048);
    time.tick(200);
    task.end();
    task.end();
    expect(lines).toEqual([]);
    expect(written).toHaveLength(2);
    const clearLine = "\r\u001b[2K";
    expect(written[0]?.startsWith(`${clearLine}snapshot items `)).toBe(true);
    expect(written[0]?.endsWith(" 1,000 rows 5,000 rows/s")).toBe(true);
    expect(written[1]?.endsWith("\n")).toBe(true);
  });
});
