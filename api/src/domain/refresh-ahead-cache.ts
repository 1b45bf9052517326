import { TtlCache } from "./ttl-cache.js";

/**
 * A read-through cache over an async `load`, with a time-to-live per entry (never serves a value
 * loaded more than `ttlMs` ago, as {@link TtlCache}) that refreshes ahead and reads once per key:
 * - a hit older than `refreshAfterMs` is served at once and reloaded in the background, so a key asked
 *   for steadily never waits for `load` (its value stays within the same TTL);
 * - concurrent misses of one key share one `load` instead of one each;
 * - `set` (a value the caller knows is newer) wins over a load already in flight, which then stores nothing.
 * A failed background reload is passed to `onRefreshError` and the entry is kept until it expires; a
 * failed foreground load rejects its callers. With `ttlMs` 0 nothing is cached or shared.
 */
export class RefreshAheadCache<V> {
  readonly #entries: TtlCache<{ value: V; loadedAt: number }>;
  readonly #loading = new Map<string, Promise<V>>();

  constructor(
    private readonly options: {
      ttlMs: number;
      refreshAfterMs: number;
      maxEntries: number;
      load: (key: string) => Promise<V>;
      onRefreshError: (key: string, error: unknown) => void;
      now: () => number;
    },
  ) {
    this.#entries = new TtlCache(options.ttlMs, options.maxEntries, options.now);
  }

  /** The key's value: cached (reloading it in the background when old), else loaded once for every caller. */
  get(key: string): Promise<V> {
    if (this.options.ttlMs <= 0) return this.options.load(key);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (this.options.now() - entry.loadedAt >= this.options.refreshAfterMs && !this.#loading.has(key))
        this.#load(key).catch((error: unknown) => this.options.onRefreshError(key, error));
      return Promise.resolve(entry.value);
    }
    return this.#loading.get(key) ?? this.#load(key);
  }

  /** Stores a value known to be current; a load of the key in flight no longer stores its result. */
  set(key: string, value: V): void {
    this.#loading.delete(key);
    this.#entries.set(key, { value, loadedAt: this.options.now() });
  }

  #load(key: string): Promise<V> {
    const loading: Promise<V> = this.options.load(key).then(
      (value) => {
        if (this.#loading.get(key) === loading) {
          this.#loading.delete(key);
          this.#entries.set(key, { value, loadedAt: this.options.now() });
        }
        return value;
      },
      (error: unknown) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }
}
