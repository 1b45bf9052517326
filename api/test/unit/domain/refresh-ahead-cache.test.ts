import { describe, expect, it } from "@jest/globals";
import { RefreshAheadCache } from "../../../src/domain/refresh-ahead-cache.js";

/** A load whose answers the test releases one by one, counting calls. */
class ControlledLoad {
  calls = 0;
  readonly #pending: { key: string; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  readonly load = (key: string): Promise<string> => {
    this.calls += 1;
    return new Promise((resolve, reject) => this.#pending.push({ key, resolve, reject }));
  };
  /** Answers the oldest pending load with `value`, and lets its continuations run. */
  async answer(value: string): Promise<void> {
    this.#pending.shift()?.resolve(value);
    await new Promise((r) => setImmediate(r));
  }
  async fail(message: string): Promise<void> {
    this.#pending.shift()?.reject(new Error(message));
    await new Promise((r) => setImmediate(r));
  }
  get pending(): number {
    return this.#pending.length;
  }
}

function cacheOver(source: ControlledLoad, clock: { t: number }, ttlMs = 1_000) {
  const refreshErrors: string[] = [];
  const cache = new RefreshAheadCache<string>({
    ttlMs,
    refreshAfterMs: 0.75 * ttlMs,
    maxEntries: 10,
    load: source.load,
    onRefreshError: (key, error) => refreshErrors.push(`${key}: ${(error as Error).message}`),
    now: () => clock.t,
  });
  return { cache, refreshErrors };
}

/** A cache over `source` holding "a" → "a1", loaded at time 0. */
async function primed(source: ControlledLoad, clock: { t: number }) {
  const made = cacheOver(source, clock);
  const first = made.cache.get("a");
  await source.answer("a1");
  await first;
  return made;
}

describe("RefreshAheadCache", () => {
  it("shares one load between concurrent misses of a key", async () => {
    const source = new ControlledLoad();
    const { cache } = cacheOver(source, { t: 0 });
    const first = cache.get("a");
    const second = cache.get("a");
    expect(source.calls).toBe(1);
    await source.answer("a1");
    await expect(Promise.all([first, second])).resolves.toEqual(["a1", "a1"]);
    await expect(cache.get("a")).resolves.toBe("a1");
    expect(source.calls).toBe(1);
  });

  it("serves an old entry at once and reloads it in the background, once", async () => {
    const source = new ControlledLoad();
    const clock = { t: 0 };
    const { cache } = await primed(source, clock);
    clock.t = 800; // past 3/4 of the TTL, before it ends
    await expect(cache.get("a")).resolves.toBe("a1");
    await expect(cache.get("a")).resolves.toBe("a1");
    expect(source.calls).toBe(2);
    await source.answer("a2");
    clock.t = 1_500; // the first load's TTL is over; the reload's is not
    await expect(cache.get("a")).resolves.toBe("a2");
    expect(source.calls).toBe(2);
  });

  it("never serves a value older than its TTL: an expired entry is loaded in the foreground", async () => {
    const source = new ControlledLoad();
    const clock = { t: 0 };
    const { cache } = await primed(source, clock);
    clock.t = 1_000;
    const late = cache.get("a");
    expect(source.calls).toBe(2);
    await source.answer("a2");
    await expect(late).resolves.toBe("a2");
  });

  it("keeps a value set while a load is in flight instead of the load's older answer", async () => {
    const source = new ControlledLoad();
    const clock = { t: 0 };
    const { cache } = await primed(source, clock);
    clock.t = 800;
    await cache.get("a"); // starts a background reload
    cache.set("a", "written");
    await source.answer("stale");
    await expect(cache.get("a")).resolves.toBe("written");
  });

  it("reports a failed background reload and keeps serving the entry until it expires", async () => {
    const source = new ControlledLoad();
    const clock = { t: 0 };
    const { cache, refreshErrors } = await primed(source, clock);
    clock.t = 800;
    await cache.get("a");
    await source.fail("store down");
    expect(refreshErrors).toEqual(["a: store down"]);
    await expect(cache.get("a")).resolves.toBe("a1"); // and tries again
    expect(source.calls).toBe(3);
  });

  it("rejects every caller of a failed foreground load, and loads again on the next call", async () => {
    const source = new ControlledLoad();
    const { cache } = cacheOver(source, { t: 0 });
    const calls = [cache.get("a"), cache.get("a")];
    await source.fail("store down");
    await expect(calls[0]).rejects.toThrow("store down");
    await expect(calls[1]).rejects.toThrow("store down");
    const again = cache.get("a");
    expect(source.calls).toBe(2);
    await source.answer("a1");
    await expect(again).resolves.toBe("a1");
  });

  it("caches and shares nothing with a zero TTL", async () => {
    const source = new ControlledLoad();
    const { cache } = cacheOver(source, { t: 0 }, 0);
    const calls = [cache.get("a"), cache.get("a")];
    expect(source.calls).toBe(2);
    await source.answer("a1");
    await source.answer("a2");
    await expect(Promise.all(calls)).resolves.toEqual(["a1", "a2"]);
    expect(source.pending).toBe(0);
  });
});
