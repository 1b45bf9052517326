/** Quota of one API key: a sustained rate and a burst. */
export interface RateQuota {
  ratePerSecond: number;
  burst: number;
}

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets keyed by client: each holds up to `burst` tokens and refills at `ratePerSecond`;
 * a request takes one token or is refused with the whole seconds until one is available.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

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
    if (bucket.tokens >= quota.burst && !take) this.#buckets.delete(client);
    else this.#buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      if (take) bucket.tokens -= 1;
      return { allowed: true };
    }
    const missing = 1 - bucket.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / quota.ratePerSecond)) };
  }
}
