/** Quota of one API key: a sustained rate and a burst. */
export interface RateQuota {
  ratePerSecond: number;
  burst: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets keyed by client: each holds up to `burst` tokens and refills at `ratePerSecond`;
 * a request takes one token or is refused with the whole seconds until one is available. At most
 * `maxClients` buckets are kept (clients keyed by IP are unbounded): beyond that the least recently
 * seen client's bucket is forgotten, which gives it a full bucket on its next request.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxClients = 100_000,
  ) {}

  /** Clients whose bucket is held. */
  get size(): number {
    return this.#buckets.size;
  }

  take(client: string, quota: RateQuota): TakeResult {
    return this.#settle(client, quota, true);
  }

  /** Whether `client` has a token left, without taking it. */
  peek(client: string, quota: RateQuota): TakeResult {
    return this.#settle(client, quota, false);
  }

  #settle(client: string, quota: RateQuota, take: boolean): TakeResult {
    const now = this.now();
    const bucket = this.#buckets.get(client) ?? { tokens: quota.burst, at: now };
    const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(quota.burst, bucket.tokens + elapsedSeconds * quota.ratePerSecond);
    bucket.at = now;
    // A full bucket is the default: forgetting it keeps the map to the clients that spent tokens.
    // Re-inserting keeps the map in least-recently-seen order, so the first key is the one to evict.
    this.#buckets.delete(client);
    if (bucket.tokens < quota.burst || take) {
      this.#buckets.set(client, bucket);
      if (this.#buckets.size > this.maxClients)
        this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    if (bucket.tokens >= 1) {
      if (take) bucket.tokens -= 1;
      return { allowed: true };
    }
    const missing = 1 - bucket.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / quota.ratePerSecond)) };
  }
}
