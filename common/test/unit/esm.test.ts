import { describe, expect, it } from "@jest/globals";

describe("ESM under jest", () => {
  it("imports an ESM-only package that uses top-level await (h5wasm)", async () => {
    const h5wasm = await import("h5wasm/node");
    await h5wasm.ready;
    expect(typeof h5wasm.File).toBe("function");
  });
});
