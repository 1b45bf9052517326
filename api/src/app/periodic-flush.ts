import { type Logger, toAppError } from "@gplay/common";
import type { RawEventSink } from "./ports.js";

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

/**
 * A buffer of the api filed under `raw/` by a `PeriodicFlush` (the click files, the impression log):
 * the flush, its timer and the final write on close, shared; a subclass says how one flush files.
 */
export abstract class PeriodicallyFiled {
  protected readonly flusher: PeriodicFlush;

  constructor(what: string, logger?: Logger) {
    this.flusher = new PeriodicFlush(() => this.flushOnce(), what, logger);
  }

  /**
   * Writes every buffered row to one file under `raw/`; returns how many. On failure the rows go back
   * to the buffer (the next flush retries) and the error is thrown.
   */
  flush(): Promise<number> {
    return this.flusher.flush();
  }

  /** Flushes every `intervalMs`; failures are logged and retried on the next tick. */
  startFlushing(intervalMs: number): void {
    this.flusher.start(intervalMs);
  }

  stopFlushing(): void {
    this.flusher.stop();
  }

  /** Stops the timer and writes what is left (waiting for a flush in progress first). */
  close(): Promise<number> {
    return this.flusher.close();
  }

  protected abstract flushOnce(): Promise<number>;
}

/** The erasure ledger as a flush reads it: erasure time (epoch ms) of each erased reader among these. */
export interface ErasureLookup {
  erasedAt(userIds: readonly string[]): Promise<Map<string, number>>;
}

/** How a buffer's rows become one file under `raw/`. */
export interface RawBatchFiling<T> {
  sink: RawEventSink;
  erasures?: ErasureLookup | undefined;
  logger?: Logger | undefined;
  /** The row's reader (none: a row naming no one, never erased) and time. */
  readerOf(row: T): string | undefined;
  timeOf(row: T): number;
  /** The file's body; undefined when there is nothing to write (a promise: rendered in slices, off the request path). */
  render(rows: readonly T[]): string | undefined | Promise<string | undefined>;
  nextKey(): string;
  /** Names the rows in the log event (`<what>-flushed`) and in errors. */
  what: string;
}

/**
 * Writes `batch` to one raw file and returns how many rows it holds, after dropping the rows of
 * readers erased since (the ledger, whichever task was asked). On failure `restore` gets the rows
 * back (the next flush retries) and the error is thrown.
 */
export async function fileRawBatch<T>(
  batch: T[],
  filing: RawBatchFiling<T>,
  restore: (rows: T[]) => void,
): Promise<number> {
  let rows = batch;
  if (filing.erasures !== undefined && rows.length > 0) {
    const readers = [...new Set(rows.flatMap((r) => filing.readerOf(r) ?? []))];
    try {
      const erased =
        readers.length === 0 ? new Map<string, number>() : await filing.erasures.erasedAt(readers);
      if (erased.size > 0)
        rows = rows.filter((r) => {
          const reader = filing.readerOf(r);
          return reader === undefined || filing.timeOf(r) > (erased.get(reader) ?? -1);
        });
    } catch (error) {
      restore(rows);
      throw toAppError(error, "Reading the erasure ledger failed");
    }
  }
  const body = await filing.render(rows);
  if (body === undefined) return 0;
  const key = filing.nextKey();
  try {
    await filing.sink.putRawObject(key, body);
    filing.logger?.info(
      { event: `${filing.what}-flushed`, key, rows: rows.length },
      `${filing.what} flushed`,
    );
    return rows.length;
  } catch (error) {
    restore(rows);
    throw toAppError(error, `Writing the ${filing.what} file failed`);
  }
}
