import { APP_ERROR_CODES, AppError } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { z } from "zod";
import { STATUS_OF_CODE, validationError } from "../../../src/http/errors.js";

describe("error mapping", () => {
  it("maps every AppError code to an HTTP status", () => {
    for (const code of APP_ERROR_CODES) expect(STATUS_OF_CODE[code]).toBeGreaterThanOrEqual(400);
    expect(STATUS_OF_CODE.VALIDATION_FAILED).toBe(400);
    expect(STATUS_OF_CODE.RATE_LIMITED).toBe(429);
    expect(STATUS_OF_CODE.TIMEOUT).toBe(503);
  });

  it("lists zod problems by field path, prefixed by where they were found", () => {
    const result = z.object({ a: z.array(z.number()) }).safeParse({ a: [1, "x"] });
    const error = validationError("body", result.error as z.ZodError);
    expect(error).toBeInstanceOf(AppError);
    expect(error.details.issues).toEqual([{ path: "body.a.1", message: expect.stringMatching(/number/) }]);
    expect(error.message).toMatch(/^Invalid request body: body\.a\.1: /);
  });
});
