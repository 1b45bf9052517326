/** A bound on the sum of the in-flight items' weights (e.g. the bytes of the objects being read). */
export interface WeightBudget<T> {
  weight: (item: T) => number;
  /** The sum in flight never exceeds it, except by one item alone heavier than it (which runs alone). */
  max: number;
}

/**
 * Runs `work` over `items` with at most `limit` calls in flight, in order of start, and, given a
 * `budget`, at most `budget.max` of weight in flight (an item that would pass it waits for calls to
 * settle). On the first failure no new call starts; the in-flight ones settle, then the first error
 * is thrown.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  budget?: WeightBudget<T>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  let running = 0;
  let held = 0;
  let waiting: (() => void)[] = [];
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const weight = budget === undefined ? 0 : budget.weight(items[next] as T);
      if (budget !== undefined && running > 0 && held + weight > budget.max) {
        // Over the budget: wait for a call to settle, then look again (another lane may take it first).
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const index = next++;
      running += 1;
      held += weight;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      } finally {
        running -= 1;
        held -= weight;
        const wake = waiting;
        waiting = [];
        for (const resolve of wake) resolve();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}
