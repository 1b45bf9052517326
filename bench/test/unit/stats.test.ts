import { describe, expect, it } from "@jest/globals";
import { median, ratio } from "../../src/stats.js";

describe("benchmark statistics", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it("averages the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("has no median for no runs", () => {
    expect(median([])).toBeNaN();
  });

  it("gives ratios against a baseline, and none against a zero baseline", () => {
    expect(ratio(1.5, 3)).toBe(0.5);
    expect(ratio(1, 0)).toBeNaN();
  });
});
