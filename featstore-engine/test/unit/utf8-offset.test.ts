import { isAppError } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { decodeUtf8 } from "../../src/domain/csv.js";
import { chunked } from "./support.js";

async function failure(chunks: Iterable<Uint8Array>): Promise<unknown> {
  try {
    for await (const _ of decodeUtf8(chunks, "raw/x.csv")) {
      // drain
    }
  } catch (error) {
    return error;
  }
  throw new Error("expected a UTF-8 failure");
}

const text = (s: string) => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]) => Buffer.concat(parts);

describe("a file that is not UTF-8", () => {
  // "ação," is 6 bytes in UTF-8; then a Latin-1 "é" (0xE9) at byte 1_000 + 6 + 3.
  const prefix = join(text("x".repeat(1_000)), text("ação,"), text("abc"));
  const bad = join(prefix, Uint8Array.of(0xe9, 0x2c, 0x41), text("\nmore,rows\n"));
  const offset = prefix.byteLength;

  it.each([1, 2, 3, 7, 64, 1_009, 4_096])(
    "names the offset of the bad byte, read in chunks of %i",
    async (size) => {
      const error = await failure(chunked(bad, size));
      expect(isAppError(error, "UNSUPPORTED_INPUT")).toBe(true);
      expect((error as Error).message).toContain(`at byte ${offset}`);
      expect((error as { details: { byteOffset: number } }).details.byteOffset).toBe(offset);
    },
  );

  it("names the start of a multi-byte sequence cut off by the end of the file", async () => {
    const truncated = join(text("abc,"), Uint8Array.of(0xe2, 0x82));
    for (const size of [1, 2, 100]) {
      const error = await failure(chunked(truncated, size));
      expect((error as Error).message).toContain("at byte 4");
    }
  });

  it("names the byte where an overlong or surrogate sequence starts", async () => {
    const overlong = join(text("ok"), Uint8Array.of(0xc0, 0xaf));
    expect(((await failure([overlong])) as Error).message).toContain("at byte 2");
    const surrogate = join(text("ok!"), Uint8Array.of(0xed, 0xa0, 0x80));
    expect(((await failure(chunked(surrogate, 2))) as Error).message).toContain("at byte 3");
  });
});
