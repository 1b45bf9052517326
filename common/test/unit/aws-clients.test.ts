import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { createAwsClients, DOCUMENT_MARSHALL_OPTIONS } from "../../src/index.js";

describe("the document client's marshall options", () => {
  it("stay as declared after the document client has marshalled a command with them", async () => {
    const clients = createAwsClients({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      maxAttempts: 1,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    try {
      // Nothing listens on port 1: the command is marshalled, then refused.
      await expect(
        clients.documents.send(new PutCommand({ TableName: "t", Item: { page: "p", absent: undefined } })),
      ).rejects.toThrow();
    } finally {
      clients.destroy();
    }
    expect(DOCUMENT_MARSHALL_OPTIONS).toEqual({
      removeUndefinedValues: true,
      convertClassInstanceToMap: false,
    });
    expect(Object.isFrozen(DOCUMENT_MARSHALL_OPTIONS)).toBe(true);
  }, 30_000);
});
