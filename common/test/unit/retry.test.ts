import { describe, expect, it } from "@jest/globals";
import { backoffDelay, retryWithBackoff } from "../../src/index.js";

describe("retryWithBackoff", () => {
  it("retries a transient failure until it succeeds, waiting with capped exponential jitter", async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error("transient");
        return "ok";
      },
      () => true,
      {
        maxAttempts: 5,
        baseDelayMs: 100,
        maxDelayMs: 150,
        random: () => 0.999,
        sleep: async (ms) => void waits.push(ms),
      },
    );
    expect(result).toBe("ok");
    expect(waits).toEqual([99, 149]);
  });

  it("gives up after the last attempt and rethrows the last error", async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(
        async (attempt) => {
          calls += 1;
          throw new Error(`fail ${attempt}`);
        },
        () => true,
        { maxAttempts: 3, sleep: async () => undefined },
      ),
    ).rejects.toThrow("fail 3");
    expect(calls).toBe(3);
  });

  it("does not retry what shouldRetry rejects", async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new Error("permanent");
        },
        () => false,
        { maxAttempts: 5, sleep: async () => undefined },
      ),
    ).rejects.toThrow("permanent");
    expect(calls).toBe(1);
  });

  it("never waits longer than the cap", () => {
    for (let attempt = 1; attempt < 30; attempt++)
      expect(
        backoffDelay(attempt, { maxAttempts: 30, baseDelayMs: 50, maxDelayMs: 2000, random: () => 0.9999 }),
      ).toBeLessThan(2000);
  });
});
