import { describe, expect, it } from "@jest/globals";
import { readBody } from "../../src/app/read-body.js";
import { chunked } from "./support.js";

async function* stream(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) % 251);

describe("readBody", () => {
  it("reads a body of its announced size into one buffer that is a whole ArrayBuffer", async () => {
    const out = await readBody(stream(chunked(bytes, 977)), bytes.length);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(bytes.length);
  });

  it.each([
    ["shorter than announced", bytes.length + 123],
    ["longer than announced", bytes.length - 1_500],
    ["of no announced size", 0],
  ])("still reads a body %s whole", async (_label, size) => {
    const out = await readBody(stream(chunked(bytes, 977)), size);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
  });

  it("reads an empty body", async () => {
    expect((await readBody(stream([]), 0)).byteLength).toBe(0);
  });
});
