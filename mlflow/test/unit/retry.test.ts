import { describe, expect, it } from "@jest/globals";
import { backoffDelayMs, parseRetryAfter } from "../../src/domain/retry.js";

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

describe("backoff", () => {
  it("grows exponentially under a cap, scaled by the jitter draw", () => {
    expect(backoffDelayMs(policy, 1, () => 0.999)).toBe(99);
    expect(backoffDelayMs(policy, 2, () => 0.999)).toBe(199);
    expect(backoffDelayMs(policy, 3, () => 0.999)).toBe(399);
    expect(backoffDelayMs(policy, 10, () => 0.999)).toBe(999);
  });

  it("spreads retries: a zero draw waits nothing (full jitter)", () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
  });

  it("honours a Retry-After longer than the jittered delay, within the cap", () => {
    expect(backoffDelayMs(policy, 1, () => 0.5, 700)).toBe(700);
    expect(backoffDelayMs(policy, 1, () => 0.5, 60_000)).toBe(1_000);
  });

  it("parses Retry-After in seconds or as an HTTP date", () => {
    expect(parseRetryAfter("2")).toBe(2_000);
    expect(
      parseRetryAfter("Fri, 27 Nov 2026 12:00:05 GMT", Date.parse("Fri, 27 Nov 2026 12:00:00 GMT")),
    ).toBe(5_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
