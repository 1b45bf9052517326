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
