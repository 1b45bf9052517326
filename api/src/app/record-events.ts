import { randomUUID } from "node:crypto";
import {
  API_EVENTS_PREFIX,
  type ApiEvent,
  AppError,
  isAppError,
  type Logger,
  toAppError,
  type UserItem,
} from "@gplay/common";
import { applyInteractions } from "../domain/reader.js";
import { type ClickRecord, clickInteraction, treinoCsv } from "../domain/treino-csv.js";
import type { Clock, RawEventSink, UserStore } from "./ports.js";

export interface EventRecorderOptions {
  /** Attempts of the read-modify-write of one reader's item when writers race. */
  maxWriteAttempts: number;
  /** Names this task in the keys of the files it writes, so tasks never overwrite each other. */
  instanceId: string;
  /** Clicks held in memory at most; beyond it the request is refused (503) rather than losing data. */
  maxBufferedClicks: number;
  /** A flush starts early once this many clicks wait, so files stay small under bursts. */
  flushAtClicks?: number;
}

export interface EventRecorderDeps {
  users: UserStore;
  sink: RawEventSink;
  clock: Clock;
  logger?: Logger;
  /** Told about every reader item this task wrote (the recommender's hot-reader cache). */
  onUserWritten?: (user: UserItem) => void;
  /** Waits between conflicting write attempts (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

export interface RecordResult {
  accepted: number;
  clicks: number;
  impressions: number;
  readersUpdated: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Records reader events. A click updates the reader's read set at once (optimistic concurrency on
 * `version`, retried on conflict, creating the item for a new reader), so the article is excluded from
 * that reader's next predictions; and it is buffered for a treino-format file under `raw/`, which the
 * regular ingestion merges (the log is a set, so the clicks already in the item change nothing).
 * Impressions are counted but written nowhere: the treino format only holds accesses.
 */
export class EventRecorder {
  #buffer: ClickRecord[] = [];
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<number> | undefined;

  constructor(
    private readonly deps: EventRecorderDeps,
    private readonly options: EventRecorderOptions,
  ) {}

  get buffered(): number {
    return this.#buffer.length;
  }

  async record(events: readonly ApiEvent[]): Promise<RecordResult> {
    const now = this.deps.clock.now();
    const clicks: ClickRecord[] = [];
    for (const event of events) {
      if (event.type !== "click") continue;
      clicks.push({
        userId: event.userId,
        userType: event.userType ?? "Non-Logged",
        page: event.page,
        timestamp: event.timestamp ?? now,
        timeOnPageMs: event.timeOnPageMs ?? 0,
        scrollPercentage: event.scrollPercentage ?? 0,
      });
    }
    if (this.#buffer.length + clicks.length > this.options.maxBufferedClicks)
      throw new AppError(
        "UPSTREAM_UNAVAILABLE",
        "Event buffer is full (the raw bucket is not accepting files); retry later",
        {
          details: { buffered: this.#buffer.length },
        },
      );
    // Buffered first: the file is the durable record; the read-set write below is idempotent on replay.
    this.#buffer.push(...clicks);
    const byUser = new Map<string, ClickRecord[]>();
    for (const click of clicks) byUser.set(click.userId, [...(byUser.get(click.userId) ?? []), click]);
    if (this.#buffer.length >= (this.options.flushAtClicks ?? 10_000))
      this.flush().catch((error: unknown) =>
        this.deps.logger?.error(
          { event: "events-flush-failed", err: error },
          "events flush failed; will retry",
        ),
      );
    await Promise.all([...byUser.values()].map((userClicks) => this.#updateReader(userClicks)));
    return {
      accepted: events.length,
      clicks: clicks.length,
      impressions: events.length - clicks.length,
      readersUpdated: byUser.size,
    };
  }

  async #updateReader(clicks: readonly ClickRecord[]): Promise<void> {
    const first = clicks[0] as ClickRecord;
    const sleep = this.deps.sleep ?? defaultSleep;
    for (let attempt = 1; ; attempt++) {
      const existing = await this.deps.users.getUser(first.userId);
      const next = applyInteractions(
        existing,
        first.userId,
        first.userType,
        clicks.map(clickInteraction),
        new Date(this.deps.clock.now()),
      );
      try {
        await this.deps.users.putUser(next, existing?.version);
        this.deps.onUserWritten?.(next);
        return;
      } catch (error) {
        if (!isAppError(error, "CONFLICT") || attempt >= this.options.maxWriteAttempts) throw error;
        this.deps.logger?.debug({ event: "reader-write-conflict", attempt }, "reader item changed; retrying");
        await sleep(Math.round(10 * 2 ** attempt * Math.random()));
      }
    }
  }

  /**
   * Writes every buffered click to one treino-format file under `raw/`; returns how many were written.
   * On failure the clicks go back to the buffer (the next flush retries) and the error is thrown.
   */
  flush(): Promise<number> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<number> {
    const batch = this.#buffer;
    const body = treinoCsv(batch);
    if (body === undefined) return 0;
    this.#buffer = [];
    const key = this.#nextKey();
    try {
      await this.deps.sink.putRawObject(key, body);
      this.deps.logger?.info({ event: "events-flushed", key, clicks: batch.length }, "events flushed");
      return batch.length;
    } catch (error) {
      this.#buffer = [...batch, ...this.#buffer];
      throw toAppError(error, "Writing the events file failed");
    }
  }

  #nextKey(): string {
    const now = new Date(this.deps.clock.now());
    const day = now.toISOString().slice(0, 10);
    const stamp = now.toISOString().replaceAll(/[-:.]/g, "");
    this.#sequence += 1;
    return `${API_EVENTS_PREFIX}dt=${day}/${stamp}-${this.options.instanceId}-${String(this.#sequence).padStart(6, "0")}-${randomUUID().slice(0, 8)}.csv`;
  }

  /** Flushes every `intervalMs`; failures are logged and retried on the next tick. */
  startFlushing(intervalMs: number): void {
    this.stopFlushing();
    this.#timer = setInterval(() => {
      this.flush().catch((error: unknown) =>
        this.deps.logger?.error(
          { event: "events-flush-failed", err: error },
          "events flush failed; will retry",
        ),
      );
    }, intervalMs);
    this.#timer.unref();
  }

  stopFlushing(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and writes what is left (waiting for a flush in progress first). */
  async close(): Promise<number> {
    this.stopFlushing();
    if (this.#flushing !== undefined) await this.#flushing.catch(() => undefined);
    return this.flush();
  }
}
