import { describe, expect, it } from "@jest/globals";
import { z } from "zod";
import { awsEnvSchema, envFields, isAppError, parseEnv } from "../../src/index.js";

const schema = awsEnvSchema.extend({
  GPLAY_PREFIX: z.string().min(3),
  PORT: envFields.int(0, 65535).default(8080),
  FEATURE_ON: envFields.bool().default(false),
});

describe("parseEnv", () => {
  it("applies defaults and coerces values", () => {
    const env = parseEnv(schema, { GPLAY_PREFIX: "gplay-dev", FEATURE_ON: "1" });
    expect(env).toMatchObject({
      GPLAY_PREFIX: "gplay-dev",
      PORT: 8080,
      FEATURE_ON: true,
      AWS_REGION: "us-east-1",
    });
  });

  it("fails once, naming every bad variable", () => {
    let caught: unknown;
    try {
      parseEnv(schema, { PORT: "99999", GPLAY_AWS_ENDPOINT: "not a url", FEATURE_ON: "yes" });
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught, "CONFIG_INVALID")).toBe(true);
    const message = (caught as Error).message;
    for (const key of ["GPLAY_PREFIX", "PORT", "GPLAY_AWS_ENDPOINT", "FEATURE_ON"])
      expect(message).toContain(key);
    expect((caught as { details: { variables: string[] } }).details.variables).toHaveLength(4);
  });
});
