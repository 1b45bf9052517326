import { describe, expect, it } from "@jest/globals";
import { LatestItems } from "../../src/util/latest-items.js";

describe("LatestItems", () => {
  it("holds the latest `capacity` items, oldest first, across compactions", () => {
    const latest = new LatestItems<number>(3);
    const pushed: number[] = [];
    for (let i = 0; i < 20; i++) {
      latest.push(i);
      pushed.push(i);
      expect(latest.toArray()).toEqual(pushed.slice(-3));
      expect([...latest]).toEqual(pushed.slice(-3));
      expect(latest.size).toBe(Math.min(3, pushed.length));
    }
  });

  it("starts from the latest of its initial items", () => {
    const latest = new LatestItems(2, ["a", "b", "c"]);
    expect(latest.toArray()).toEqual(["b", "c"]);
    latest.push("d");
    expect(latest.toArray()).toEqual(["c", "d"]);
  });

  it("holds nothing at capacity 0 and refuses a capacity that is not a whole number ≥ 0", () => {
    const none = new LatestItems(0, [1, 2]);
    none.push(3);
    expect(none.toArray()).toEqual([]);
    expect(none.size).toBe(0);
    expect(() => new LatestItems(-1)).toThrow(RangeError);
    expect(() => new LatestItems(1.5)).toThrow(RangeError);
  });

  it("returns copies that later pushes do not change", () => {
    const latest = new LatestItems(2, [1, 2]);
    const before = latest.toArray();
    latest.push(3);
    expect(before).toEqual([1, 2]);
  });
});
