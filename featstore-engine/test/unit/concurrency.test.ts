import { describe, expect, it } from "@jest/globals";
import { forEachConcurrently } from "../../src/app/concurrency.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("forEachConcurrently", () => {
  it("never runs more than the limit at once and visits every item once", async () => {
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachConcurrently([...Array(20).keys()], 4, async (item) => {
      active += 1;
      peak = Math.max(peak, active);
      await sleep(item % 3);
      seen.push(item);
      active -= 1;
    });
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it("starts nothing new after a failure and rethrows the first error once in-flight calls settle", async () => {
    const started: number[] = [];
    let settled = 0;
    await expect(
      forEachConcurrently([...Array(10).keys()], 2, async (item) => {
        started.push(item);
        await sleep(1);
        settled += 1;
        if (item === 1) throw new Error("boom 1");
      }),
    ).rejects.toThrow("boom 1");
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toBe(started.length);
  });
});

describe("forEachConcurrently with a weight budget", () => {
  const run = async (weights: number[], limit: number, max: number) => {
    let held = 0;
    let peak = 0;
    let alone = true;
    let active = 0;
    const started: number[] = [];
    await forEachConcurrently(
      weights,
      limit,
      async (weight, index) => {
        started.push(index);
        active += 1;
        held += weight;
        peak = Math.max(peak, held);
        if (weight > max && active > 1) alone = false;
        await sleep(1 + (index % 3));
        held -= weight;
        active -= 1;
      },
      { weight: (w) => w, max },
    );
    return { peak, alone, started };
  };

  it("never holds more than the budget's weight at once, and starts every item once in order", async () => {
    const weights = [5, 3, 4, 1, 6, 2, 2, 8, 1, 1, 3, 7];
    const { peak, started } = await run(weights, 4, 10);
    expect(peak).toBeLessThanOrEqual(10);
    expect(started).toEqual([...weights.keys()]);
  });

  it("runs an item heavier than the budget alone instead of never", async () => {
    const { peak, alone, started } = await run([2, 25, 3, 30, 1], 3, 10);
    expect(alone).toBe(true);
    expect(peak).toBe(30);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it("still bounds the calls by the limit when the budget allows more", async () => {
    let active = 0;
    let peak = 0;
    await forEachConcurrently(
      Array(12).fill(1),
      3,
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(1);
        active -= 1;
      },
      { weight: (w) => w, max: 100 },
    );
    expect(peak).toBe(3);
  });
});
