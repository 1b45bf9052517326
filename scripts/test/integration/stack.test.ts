import { describe, expect, it } from "@jest/globals";
import { readLocalStack } from "../../src/index.js";

describe("local stack (smoke)", () => {
  it("is running and recorded", async () => {
    const endpoints = await readLocalStack();
    expect(endpoints.awsEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
