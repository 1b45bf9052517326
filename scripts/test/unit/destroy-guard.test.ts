import { isAppError } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { destroyEnvironment } from "../../src/local-stack/provision.js";
import { LOCAL_STACK_PREFIX, type LocalStackEndpoints } from "../../src/local-stack/stack.js";

describe("destroyEnvironment", () => {
  it("refuses the stack's own prefix, whose models bucket holds every environment's MLflow artifacts", async () => {
    // An endpoint nothing listens on: the refusal must come before any request.
    const endpoints = { awsEndpoint: "http://127.0.0.1:9", region: "us-east-1" } as LocalStackEndpoints;
    const error = await destroyEnvironment(endpoints, LOCAL_STACK_PREFIX).catch((e: unknown) => e);
    expect(isAppError(error, "CONFLICT")).toBe(true);
    expect((error as Error).message).toContain("MLflow's artifacts");
  });
});
