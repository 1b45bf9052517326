import { describe, expect, it } from "@jest/globals";
import { TokenBuckets } from "../../../src/domain/token-bucket.js";
import { TtlCache } from "../../../src/domain/ttl-cache.js";

describe("TokenBuckets", () => {
  it("allows a burst, then refuses with the seconds until a token is back", () => {
    let now = 0;
    const buckets = new TokenBuckets(() => now);
    const quota = { ratePerSecond: 0.5, burst: 2 };
    expect(buckets.take("a", quota)).toEqual({ allowed: true });
    expect(buckets.take("a", quota)).toEqual({ allowed: true });
    expect(buckets.take("a", quota)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(buckets.take("b", quota)).toEqual({ allowed: true });
    now += 2_000;
    expect(buckets.take("a", quota)).toEqual({ allowed: true });
  });

  it("holds at most maxClients buckets, forgetting the least recently seen client", () => {
    const buckets = new TokenBuckets(() => 0, 3);
    const quota = { ratePerSecond: 0.001, burst: 1 };
    for (const c of ["a", "b", "c"]) expect(buckets.take(c, quota)).toEqual({ allowed: true });
    expect(buckets.take("a", quota).allowed).toBe(false); // "a" is now the most recently seen
    for (let i = 0; i < 1_000; i++) buckets.take(`ip-${i}`, quota);
    expect(buckets.size).toBe(3);
    expect(buckets.take("b", quota)).toEqual({ allowed: true }); // forgotten: a full bucket again
    expect(buckets.take("ip-999", quota).allowed).toBe(false); // recent: still empty
  });
});

describe("TtlCache", () => {
  it("forgets entries after their TTL and evicts the oldest beyond its size", () => {
    let now = 0;
    const cache = new TtlCache<number>(100, 2, () => now);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("c")).toBe(3);
    now = 100;
    expect(cache.get("b")).toBeUndefined();
  });

  it("caches nothing with a zero TTL", () => {
    const cache = new TtlCache<number>(0, 2);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
  });
});
