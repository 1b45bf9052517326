import { erasureHash } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { ObjectVersion } from "../../src/app/erasure-ports.js";
import { ReaderIndex } from "../../src/app/reader-index.js";
import { ErasedReaders } from "../../src/domain/erasure.js";
import {
  decodeReaderIndexEntry,
  encodeReaderIndexEntry,
  ReaderTokenCollector,
  readerIndexHash,
} from "../../src/domain/reader-index.js";

const id = (n: number) => n.toString(16).padStart(64, "0");
const utf8 = new TextEncoder();

/** The tokens a collector finds in a text delivered in chunks of `size` bytes. */
function collect(text: string, size: number): string[] {
  const bytes = utf8.encode(text);
  const collector = new ReaderTokenCollector();
  for (let at = 0; at < bytes.length; at += size) collector.push(bytes.subarray(at, at + size));
  return [...collector.end()].sort();
}

const version = (key: string, isLatest = true): ObjectVersion => ({
  key,
  versionId: "v1",
  etag: "e",
  size: 1,
  isLatest,
});

describe("the reader index", () => {
  it("collects every reader id of a text whatever the chunk boundaries (and multi-byte characters)", () => {
    const text = `userId,history\n${id(1)},"['ção']"\n${id(2).toUpperCase()},x\né${id(3)}\n${id(1)}`;
    const expected = [id(1), id(2), id(3)];
    for (const size of [1, 2, 3, 7, 63, 64, 65, 100, 10_000]) expect(collect(text, size)).toEqual(expected);
  });

  it("does not take a longer hex run for a reader id when the run is seen whole", () => {
    expect(collect(`${"a".repeat(70)},${id(5)}`, 10_000)).toEqual([id(5)]);
  });

  it("keeps only truncated ledger hashes, never an id in clear, and round-trips", () => {
    const objects = [{ bucket: "raw", key: "raw/treino/a.csv", etag: "abc" }];
    const text = encodeReaderIndexEntry(objects, [id(1), id(2), id(1)]);
    expect(text).not.toContain(id(1));
    expect(decodeReaderIndexEntry(text)).toEqual({
      schemaVersion: 1,
      objects,
      readers: [id(1), id(2)].map((u) => readerIndexHash(erasureHash(u))).sort(),
    });
  });

  it("treats an entry that does not parse as missing", () => {
    expect(decodeReaderIndexEntry("{not json")).toBeUndefined();
    expect(
      decodeReaderIndexEntry(JSON.stringify({ schemaVersion: 2, objects: [], readers: [] })),
    ).toBeUndefined();
  });

  it("clears an object only when a current entry covers it at its etag and names none of the readers", () => {
    const covered = { bucket: "raw", key: "raw/treino/a.csv", etag: "abc" };
    const entry = (readers: string[], objects = [covered]) => {
      const decoded = decodeReaderIndexEntry(encodeReaderIndexEntry(objects, readers));
      if (decoded === undefined) throw new Error("entry does not decode");
      return decoded;
    };
    const one = entry([id(2)]);
    const index = new ReaderIndex([{ version: version("i/1"), entry: one, readers: new Set(one.readers) }]);
    const erased = new ErasedReaders([erasureHash(id(1))]);
    expect(index.clears(covered, erased)).toBe(true);
    // A stale entry (another etag) or no entry at all: the object is read.
    expect(index.clears({ ...covered, etag: "changed" }, erased)).toBe(false);
    expect(index.clears({ ...covered, key: "raw/treino/b.csv" }, erased)).toBe(false);
    expect(index.clears(covered, new ErasedReaders([erasureHash(id(2))]))).toBe(false);
    expect(index.naming(new ErasedReaders([erasureHash(id(2))]))).toHaveLength(1);
    // A second current entry naming the reader wins; an old version of an entry covers nothing.
    const two = entry([id(1)]);
    const both = new ReaderIndex([
      { version: version("i/1"), entry: one, readers: new Set(one.readers) },
      { version: version("i/2"), entry: two, readers: new Set(two.readers) },
    ]);
    expect(both.clears(covered, erased)).toBe(false);
    const old = new ReaderIndex([
      { version: version("i/1", false), entry: one, readers: new Set(one.readers) },
    ]);
    expect(old.clears(covered, erased)).toBe(false);
  });
});
