import { DEFAULT_EXPERIMENT_NAME, DEFAULT_MODEL_NAME, parseEnv } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { trainingEnvSchema } from "../../src/env.js";

describe("trainingEnvSchema", () => {
  it("registers by default the model and experiment the api and infra name (common's defaults)", () => {
    const env = parseEnv(trainingEnvSchema, {
      GPLAY_PREFIX: "gplay-dev",
      MLFLOW_TRACKING_URI: "http://127.0.0.1:5000",
    });
    expect(env.GPLAY_MODEL_NAME).toBe(DEFAULT_MODEL_NAME);
    expect(env.GPLAY_EXPERIMENT_NAME).toBe(DEFAULT_EXPERIMENT_NAME);
  });
});
