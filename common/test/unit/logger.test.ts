import { Writable } from "node:stream";
import { describe, expect, it } from "@jest/globals";
import { createLogger } from "../../src/index.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON with service, version, level word and child context, redacting secrets", async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: "api", version: "1.2.3", destination: stream });
    logger
      .child({ requestId: "r-1" })
      .info({ apiKey: "k-123", headers: { authorization: "Bearer x" } }, "hello");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: "api",
      version: "1.2.3",
      level: "info",
      requestId: "r-1",
      msg: "hello",
      apiKey: "[redacted]",
      headers: { authorization: "[redacted]" },
    });
    expect(typeof lines[0]?.time).toBe("string");
  });
});
