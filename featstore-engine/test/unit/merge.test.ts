import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  decodeInteractionLog,
  logPages,
  MAX_LOG_INTERACTIONS,
  userItemSchema,
} from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import {
  buildUserItem,
  dynamoItemSizeBytes,
  excludedPages,
  isNewerArticle,
  mergeUserItem,
  upsertArticles,
} from "../../src/domain/merge.js";
import { Rng } from "../../src/generator/rng.js";
import { interactions } from "./support.js";

const NOW = "2022-08-15T00:00:00.000Z";
const USER = new Rng("merge").hex(64);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe("article upsert", () => {
  const page = new Rng("page").uuid();
  const versions = [
    { page, modified: 100, contentHash: "aa", title: "v1" },
    { page, modified: 300, contentHash: "bb", title: "v3" },
    { page, modified: 300, contentHash: "cc", title: "v3 other content" },
    { page, modified: 200, contentHash: "ff", title: "v2" },
  ];

  it("lets the later modified win and breaks ties by content hash", () => {
    expect(isNewerArticle(versions[1] as never, versions[0])).toBe(true);
    expect(isNewerArticle(versions[0] as never, versions[1])).toBe(false);
    expect(isNewerArticle(versions[2] as never, versions[1])).toBe(true);
    expect(isNewerArticle(versions[1] as never, versions[2])).toBe(false);
    expect(isNewerArticle(versions[0] as never, undefined)).toBe(true);
  });

  it("ends in the same article whatever the order of the files", () => {
    const results = permutations(versions).map((order) =>
      order.reduce((m, v) => upsertArticles(m, [v]), new Map<string, (typeof versions)[number]>()).get(page),
    );
    for (const r of results) expect(r?.title).toBe("v3 other content");
  });
});

describe("user items", () => {
  const a = interactions(30, "a");
  const b = interactions(20, "b", 1_656_700_000_000);

  it("builds a valid item (once a version is added) with counts and first/last timestamps", () => {
    const item = buildUserItem({ userId: USER, userType: "Non-Logged", interactions: a }, NOW);
    expect(userItemSchema.parse({ ...item, version: 1 })).toMatchObject({ interactionCount: 30 });
    expect(item.firstTimestamp).toBe(a[0]?.timestamp);
    expect(item.lastTimestamp).toBe(a[29]?.timestamp);
    expect(decodeInteractionLog(item.log)).toHaveLength(30);
  });

  it("merges in any order to the same item, and re-merging changes nothing", () => {
    const ab = mergeUserItem(
      buildUserItem({ userId: USER, userType: "Logged", interactions: a }, NOW),
      { userId: USER, userType: "Non-Logged", interactions: b },
      NOW,
    );
    const ba = mergeUserItem(
      buildUserItem({ userId: USER, userType: "Non-Logged", interactions: b }, NOW),
      { userId: USER, userType: "Logged", interactions: a },
      NOW,
    );
    expect(ab).toEqual(ba);
    expect(ab.userType).toBe("Logged");
    expect(ab.interactionCount).toBe(50);
    const again = mergeUserItem(ab, { userId: USER, userType: "Logged", interactions: a }, NOW);
    expect(again).toEqual(ab);
  });

  it("fits a reader with 7,004 interactions in one item and excludes every one of those articles", () => {
    const heavy = interactions(7_004, "heavy");
    const item = buildUserItem({ userId: USER, userType: "Logged", interactions: heavy }, NOW);
    const size = dynamoItemSizeBytes({ ...item, version: 1, expiresAt: 1_700_000_000 });
    expect(size).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    expect(item.evictedCount).toBe(0);
    expect(item.interactionCount).toBe(7_004);
    const excluded = excludedPages(item);
    expect(heavy.filter((i) => !excluded(i.page))).toEqual([]);
    expect(logPages(item.log).size).toBe(7_004);
    expect(excluded(new Rng("never read").uuid())).toBe(false);
  });

  it("evicts the oldest past the cap into the Bloom filter: still excluded, counted once, idempotent", () => {
    const many = interactions(MAX_LOG_INTERACTIONS + 100, "many");
    const first = buildUserItem(
      { userId: USER, userType: "Logged", interactions: many.slice(0, 5_000) },
      NOW,
    );
    const item = mergeUserItem(
      first,
      { userId: USER, userType: "Logged", interactions: many.slice(5_000) },
      NOW,
    );
    expect(item.evictedCount).toBe(100);
    expect(item.interactionCount).toBe(MAX_LOG_INTERACTIONS + 100);
    expect(item.firstTimestamp).toBe(many[0]?.timestamp);
    const excluded = excludedPages(item);
    expect(many.filter((i) => !excluded(i.page))).toEqual([]);
    expect(dynamoItemSizeBytes({ ...item, version: 1 })).toBeLessThan(DYNAMODB_ITEM_LIMIT_BYTES);
    const reingested = mergeUserItem(item, { userId: USER, userType: "Logged", interactions: many }, NOW);
    expect(reingested.evictedCount).toBe(100);
    expect(reingested.log).toEqual(item.log);
  });
});

describe("dynamoItemSizeBytes", () => {
  it("counts names, UTF-8 strings, binaries and numbers", () => {
    expect(dynamoItemSizeBytes({ ab: "ção", c: new Uint8Array(10), n: 12_345 })).toBe(2 + 5 + 1 + 10 + 1 + 4);
  });
});
