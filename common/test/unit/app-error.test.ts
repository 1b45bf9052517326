import { describe, expect, it } from "@jest/globals";
import { AppError, isAppError, toAppError, translateAwsError } from "../../src/index.js";

describe("AppError", () => {
  it("keeps its cause and code", () => {
    const cause = new Error("boom");
    const error = new AppError("UPSTREAM_FAILED", "calling X failed", { cause, details: { id: 1 } });
    expect(error.cause).toBe(cause);
    expect(error.code).toBe("UPSTREAM_FAILED");
    expect(isAppError(error, "UPSTREAM_FAILED")).toBe(true);
    expect(isAppError(error, "NOT_FOUND")).toBe(false);
  });

  it("wraps unknown errors as INTERNAL and leaves AppErrors alone", () => {
    const original = new AppError("NOT_FOUND", "no such model");
    expect(toAppError(original)).toBe(original);
    expect(toAppError("weird").code).toBe("INTERNAL");
  });

  it.each([
    [{ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } }, "NOT_FOUND"],
    [{ name: "ConditionalCheckFailedException", $metadata: { httpStatusCode: 400 } }, "CONFLICT"],
    [{ name: "ProvisionedThroughputExceededException", $metadata: { httpStatusCode: 400 } }, "RATE_LIMITED"],
    [{ name: "TimeoutError" }, "TIMEOUT"],
    [{ name: "Error", code: "ECONNREFUSED" }, "UPSTREAM_UNAVAILABLE"],
    [{ name: "InternalError", $metadata: { httpStatusCode: 500 } }, "UPSTREAM_UNAVAILABLE"],
    [{ name: "AccessDenied", $metadata: { httpStatusCode: 403 } }, "UPSTREAM_FAILED"],
  ])("translates the AWS error %o to %s", (sdkError, code) => {
    const error = translateAwsError(sdkError, "reading s3://b/k", { key: "k" });
    expect(error.code).toBe(code);
    expect(error.message).toContain("reading s3://b/k failed");
    expect(error.cause).toBe(sdkError);
  });
});
