import type { Logger } from "@gplay/common";

/**
 * The flushing of a buffer that becomes files under `raw/` (the click files, the impression log):
 * concurrent `flush` calls share one write, a timer flushes every interval (failures logged, retried
 * on the next tick), `close` stops the timer and writes what is left after a flush in progress.
 */
export class PeriodicFlush {
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<number> | undefined;

  constructor(
    private readonly flushOnce: () => Promise<number>,
    /** Names the buffer in log events (`<what>-flush-failed`). */
    private readonly what: string,
    private readonly logger?: Logger,
  ) {}

  flush(): Promise<number> {
    this.#flushing ??= this.flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Flushes without waiting; a failure is logged (the rows stay buffered for the next flush). */
  flushInBackground(): void {
    this.flush().catch((error: unknown) =>
      this.logger?.error(
        { event: `${this.what}-flush-failed`, err: error },
        `${this.what} flush failed; will retry`,
      ),
    );
  }

  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => this.flushInBackground(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async close(): Promise<number> {
    this.stop();
    if (this.#flushing !== undefined) await this.#flushing.catch(() => undefined);
    return this.flush();
  }
}
