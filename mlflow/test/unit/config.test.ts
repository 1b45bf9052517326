import { AppError, parseEnv } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { appErrorCodeFor } from "../../src/adapters/http-transport.js";
import { mlflowConfigFromEnv, mlflowEnvSchema, retryPolicyOf } from "../../src/config.js";

describe("configuration from the environment", () => {
  it("builds basic auth, timeout and retries from MLflow's variable names", () => {
    const env = parseEnv(mlflowEnvSchema, {
      MLFLOW_TRACKING_URI: "http://mlflow.internal:5000",
      MLFLOW_TRACKING_USERNAME: "trainer",
      MLFLOW_TRACKING_PASSWORD: "s3cret",
      MLFLOW_HTTP_REQUEST_TIMEOUT: "10",
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2",
    });
    const config = mlflowConfigFromEnv(env);
    expect(config.auth).toEqual({ kind: "basic", username: "trainer", password: "s3cret" });
    expect(config.timeoutMs).toBe(10_000);
    expect(retryPolicyOf(config).maxAttempts).toBe(3);
  });

  it("builds bearer auth from a token", () => {
    const env = parseEnv(mlflowEnvSchema, {
      MLFLOW_TRACKING_URI: "http://x:1",
      MLFLOW_TRACKING_TOKEN: "tok",
    });
    expect(mlflowConfigFromEnv(env).auth).toEqual({ kind: "bearer", token: "tok" });
  });

  it("refuses a username without its password", () => {
    const env = parseEnv(mlflowEnvSchema, {
      MLFLOW_TRACKING_URI: "http://x:1",
      MLFLOW_TRACKING_USERNAME: "u",
    });
    expect(() => mlflowConfigFromEnv(env)).toThrow(/MLFLOW_TRACKING_PASSWORD/);
  });

  it("lists a missing tracking URI as a bad variable", () => {
    try {
      parseEnv(mlflowEnvSchema, {});
      throw new Error("expected parseEnv to throw");
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).details.variables).toContain("MLFLOW_TRACKING_URI");
    }
  });
});

describe("HTTP error mapping", () => {
  it.each([
    [404, "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"],
    [400, "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"],
    [400, "RESOURCE_ALREADY_EXISTS", "CONFLICT"],
    [401, undefined, "UNAUTHORIZED"],
    [403, "PERMISSION_DENIED", "FORBIDDEN"],
    [429, undefined, "RATE_LIMITED"],
    [500, "INTERNAL_ERROR", "UPSTREAM_UNAVAILABLE"],
    [503, undefined, "UPSTREAM_UNAVAILABLE"],
    [400, "INVALID_PARAMETER_VALUE", "VALIDATION_FAILED"],
    [418, undefined, "UPSTREAM_FAILED"],
  ] as const)("HTTP %i with %s becomes %s", (status, errorCode, expected) => {
    expect(appErrorCodeFor(status, errorCode)).toBe(expected);
  });

  it("treats the artifact proxy's 500 for a missing S3 object as NOT_FOUND, other 500s as outages", () => {
    const missing =
      "The following failures occurred while downloading one or more artifacts from s3://b/mlflow/:\n" +
      "##### File 1/r/artifacts/x.bin #####\nAn error occurred (404) when calling the HeadObject operation: Not Found";
    expect(appErrorCodeFor(500, "INTERNAL_ERROR", missing)).toBe("NOT_FOUND");
    expect(appErrorCodeFor(500, "INTERNAL_ERROR", "database is locked")).toBe("UPSTREAM_UNAVAILABLE");
  });
});
