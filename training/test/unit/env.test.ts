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

  it("trains listwise with early stopping by default, and refuses an unknown loss", () => {
    const base = { GPLAY_PREFIX: "gplay-dev", MLFLOW_TRACKING_URI: "http://127.0.0.1:5000" };
    const env = parseEnv(trainingEnvSchema, base);
    expect([env.GPLAY_TRAIN_LOSS, env.GPLAY_TRAIN_PATIENCE]).toEqual(["listwise", 2]);
    expect(parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_LOSS: "pointwise" }).GPLAY_TRAIN_LOSS).toBe(
      "pointwise",
    );
    expect(() => parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_LOSS: "pairwise" })).toThrow(
      /GPLAY_TRAIN_LOSS/,
    );
  });

  it("builds the examples at the readers' visits by default, and refuses an unknown place", () => {
    const base = { GPLAY_PREFIX: "gplay-dev", MLFLOW_TRACKING_URI: "http://127.0.0.1:5000" };
    expect(parseEnv(trainingEnvSchema, base).GPLAY_TRAIN_EXAMPLES_AT).toBe("visits");
    expect(
      parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_EXAMPLES_AT: "window-start" })
        .GPLAY_TRAIN_EXAMPLES_AT,
    ).toBe("window-start");
    expect(() => parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_EXAMPLES_AT: "cut" })).toThrow(
      /GPLAY_TRAIN_EXAMPLES_AT/,
    );
  });

  it("tunes the baselines at the readers' visits by default, and refuses an unknown place", () => {
    const base = { GPLAY_PREFIX: "gplay-dev", MLFLOW_TRACKING_URI: "http://127.0.0.1:5000" };
    expect(parseEnv(trainingEnvSchema, base).GPLAY_TRAIN_TUNING_AT).toBe("visits");
    expect(
      parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_TUNING_AT: "window-start" }).GPLAY_TRAIN_TUNING_AT,
    ).toBe("window-start");
    expect(() => parseEnv(trainingEnvSchema, { ...base, GPLAY_TRAIN_TUNING_AT: "cut" })).toThrow(
      /GPLAY_TRAIN_TUNING_AT/,
    );
  });
});
