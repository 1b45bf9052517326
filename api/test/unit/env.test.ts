import { CHAMPION_ALIAS, DEFAULT_MODEL_NAME, isAppError, parseEnv } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { apiEnvSchema } from "../../src/env.js";

const keys = JSON.stringify([{ name: "web", key: "0123456789abcdef0123", ratePerSecond: 20 }]);

describe("apiEnvSchema", () => {
  it("parses a minimal environment with defaults", () => {
    const env = parseEnv(apiEnvSchema, {
      GPLAY_PREFIX: "gplay-dev",
      GPLAY_API_KEYS: keys,
      GPLAY_CORS_ORIGINS: "https://a.example, https://b.example",
    });
    expect(env).toMatchObject({
      PORT: 8080,
      GPLAY_PREFIX: "gplay-dev",
      GPLAY_READY_REQUIRES_MODEL: true,
      GPLAY_CORS_ORIGINS: ["https://a.example", "https://b.example"],
    });
    expect(env.GPLAY_API_KEYS[0]).toMatchObject({ name: "web", ratePerSecond: 20 });
  });

  it("serves by default the model training registers by default (common's name and alias)", () => {
    const env = parseEnv(apiEnvSchema, { GPLAY_PREFIX: "gplay-dev", GPLAY_API_KEYS: keys });
    expect(env.GPLAY_MODEL_NAME).toBe(DEFAULT_MODEL_NAME);
    expect(env.GPLAY_MODEL_NAME).toBe("gplay-recommender");
    expect(env.GPLAY_MODEL_ALIAS).toBe(CHAMPION_ALIAS);
  });

  it("waits by default after SIGTERM long enough for a load balancer to stop routing (0 resets)", () => {
    const env = parseEnv(apiEnvSchema, { GPLAY_PREFIX: "gplay-dev", GPLAY_API_KEYS: keys });
    expect(env.GPLAY_DRAIN_DELAY_MS).toBeGreaterThanOrEqual(3_000);
    // The delay and the in-flight cut-off fit in ECS's default stopTimeout (30 s) before SIGKILL.
    expect(env.GPLAY_DRAIN_DELAY_MS + env.GPLAY_DRAIN_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
  });

  it("names every bad variable at once", () => {
    try {
      parseEnv(apiEnvSchema, {
        GPLAY_PREFIX: "Bad_Prefix",
        GPLAY_API_KEYS: '[{"name":"web","key":"short"}]',
        PORT: "http",
      });
      throw new Error("expected a failure");
    } catch (error) {
      expect(isAppError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toMatch(/GPLAY_PREFIX/);
      expect((error as Error).message).toMatch(/GPLAY_API_KEYS: 0.key: API keys must be at least 16/);
      expect((error as Error).message).toMatch(/PORT/);
    }
  });

  it("rejects API keys that are not JSON", () => {
    expect(() => parseEnv(apiEnvSchema, { GPLAY_PREFIX: "gplay-dev", GPLAY_API_KEYS: "abc" })).toThrow(
      /expected JSON/,
    );
  });
});
