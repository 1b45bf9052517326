/**
 * Bounded retries with exponential backoff and full jitter (delay = random(0, min(cap, base·2^n))).
 * One implementation for every adapter: DynamoDB's UnprocessedItems, MLflow calls, conflicts.
 */
export interface BackoffOptions {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before retry number `attempt` (1 = first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const base = options.baseDelayMs ?? 50;
  const cap = options.maxDelayMs ?? 5_000;
  const random = options.random ?? Math.random;
  return Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
}

/**
 * Runs `operation` until it succeeds, `shouldRetry(error)` says no, or attempts run out; then the last
 * error is thrown. `operation` receives the 1-based attempt number.
 */
export async function retryWithBackoff<T>(
  operation: (attempt: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  options: BackoffOptions,
): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.maxAttempts || !shouldRetry(error)) throw error;
      await wait(backoffDelay(attempt, options));
    }
  }
}
