import {
  API_EVENTS_PREFIX,
  type ApiEvent,
  AppError,
  eventKey,
  isAppError,
  type Logger,
  type UserItem,
} from "@gplay/common";
import { rawFileKey } from "../domain/raw-file-key.js";
import { applyInteractions } from "../domain/reader.js";
import { type ClickRecord, clickInteraction, treinoCsv } from "../domain/treino-csv.js";
import type { ClickBuffer } from "./erase-readers.js";
import { type ErasureLookup, fileRawBatch, PeriodicallyFiled } from "./periodic-flush.js";
import type { Clock, RawEventSink, SeenEventStore, UserStore } from "./ports.js";
import type { ActedInput, AttributionCounts } from "./record-impressions.js";

export interface EventRecorderOptions {
  /** Attempts of the read-modify-write of one reader's item when writers race. */
  maxWriteAttempts: number;
  /** Names this task in the keys of the files it writes, so tasks never overwrite each other. */
  instanceId: string;
  /** Clicks held in memory at most; beyond it the request is refused (503) rather than losing data. */
  maxBufferedClicks: number;
  /** A flush starts early once this many clicks wait, so files stay small under bursts. */
  flushAtClicks?: number;
  /** Reader items expire (DynamoDB TTL) this many days after a click (docs/privacy.md); unset: never. */
  readerRetentionDays?: number;
}

export interface EventRecorderDeps {
  users: UserStore;
  sink: RawEventSink;
  /** Client event ids already recorded: a retried event (same reader and id) adds nothing. */
  seen: SeenEventStore;
  clock: Clock;
  logger?: Logger;
  /** Told about every reader item this task wrote (the recommender's hot-reader cache). */
  onUserWritten?: (user: UserItem) => void;
  /** Told about the clicks recorded (after dedupe, once their reader is written): the live worlds' feed. */
  onClicks?: (clicks: readonly ClickRecord[]) => void;
  /**
   * The impression log (issue #19): told about every recorded click (once its reader is written) and
   * client impression, credits each to a served list or not.
   */
  impressions?: { acted(events: readonly ActedInput[]): AttributionCounts };
  /** Waits between conflicting write attempts (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * The erasure ledger: erasure time (epoch ms) of each erased reader among these. A flush drops
   * buffered clicks of erased readers from before their erasure, whichever task was asked to erase.
   */
  erasures?: ErasureLookup;
}

export interface RecordResult {
  accepted: number;
  clicks: number;
  impressions: number;
  readersUpdated: number;
  /** Events whose client id was already recorded (or repeated within the batch). */
  duplicates: number;
  /** Recorded events credited to a served list, and those credited to none (unknown/foreign ids included). */
  attributed: number;
  unattributed: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Records reader events. A click updates the reader's read set at once (optimistic concurrency on
 * `version`, retried on conflict, creating the item for a new reader), so the article is excluded from
 * that reader's next predictions; and it is buffered for a treino-format file under `raw/`, which the
 * regular ingestion merges (the log is a set, so the clicks already in the item change nothing).
 * Client impressions (`type: "impression"`) go to the impression log only (as `shown` rows), as do
 * the clicks, each credited to a served list (the treino format only holds accesses).
 */
export class EventRecorder extends PeriodicallyFiled implements ClickBuffer {
  #buffer: ClickRecord[] = [];
  #sequence = 0;

  constructor(
    private readonly deps: EventRecorderDeps,
    private readonly options: EventRecorderOptions,
  ) {
    super("events", deps.logger);
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  holds(userId: string): boolean {
    return this.#buffer.some((c) => c.userId === userId);
  }

  dropReaders(userIds: ReadonlySet<string>): number {
    const before = this.#buffer.length;
    this.#buffer = this.#buffer.filter((c) => !userIds.has(c.userId));
    return before - this.#buffer.length;
  }

  /**
   * Records valid events. Events carrying an `eventId` seen before (for the same reader) are counted as
   * duplicates and add nothing. Each reader's clicks are written to its read set, then buffered for the
   * raw file; when a reader's write fails, its event ids are released (so the client's retry records
   * them) and the error is thrown after the other readers are done.
   */
  async record(events: readonly ApiEvent[]): Promise<RecordResult> {
    const { fresh, claimed, duplicates } = await this.#dropSeen(events);
    const now = this.deps.clock.now();
    const byUser = new Map<string, { clicks: ClickRecord[]; keys: string[]; acted: ActedInput[] }>();
    const shown: ActedInput[] = [];
    let clickCount = 0;
    for (const { event, key } of fresh) {
      const acted: ActedInput = {
        type: event.type,
        userId: event.userId,
        page: event.page,
        timestamp: event.timestamp ?? now,
        impressionId: event.impressionId,
      };
      if (event.type !== "click") {
        shown.push(acted);
        continue;
      }
      const entry = byUser.get(event.userId) ?? { clicks: [], keys: [], acted: [] };
      entry.acted.push(acted);
      entry.clicks.push({
        userId: event.userId,
        userType: event.userType ?? "Non-Logged",
        page: event.page,
        timestamp: event.timestamp ?? now,
        timeOnPageMs: event.timeOnPageMs ?? 0,
        scrollPercentage: event.scrollPercentage ?? 0,
      });
      if (key !== undefined) entry.keys.push(key);
      byUser.set(event.userId, entry);
      clickCount += 1;
    }
    if (this.#buffer.length + clickCount > this.options.maxBufferedClicks) {
      await this.#release(claimed);
      throw new AppError(
        "UPSTREAM_UNAVAILABLE",
        "Event buffer is full (the raw bucket is not accepting files); retry later",
        { details: { buffered: this.#buffer.length } },
      );
    }
    const attribution: AttributionCounts = { attributed: 0, unattributed: 0 };
    const credit = (acted: readonly ActedInput[]) => {
      const counts = this.deps.impressions?.acted(acted) ?? { attributed: 0, unattributed: acted.length };
      attribution.attributed += counts.attributed;
      attribution.unattributed += counts.unattributed;
    };
    credit(shown);
    const outcomes = await Promise.allSettled(
      [...byUser.values()].map(async ({ clicks, keys, acted }) => {
        try {
          await this.#updateReader(clicks);
        } catch (error) {
          await this.#release(keys);
          throw error;
        }
        // Filed once its read set holds it: a failed reader is filed by the client's retry instead.
        this.#buffer.push(...clicks);
        this.deps.onClicks?.(clicks);
        credit(acted);
      }),
    );
    if (this.#buffer.length >= (this.options.flushAtClicks ?? 10_000)) this.flusher.flushInBackground();
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return {
      accepted: fresh.length,
      clicks: clickCount,
      impressions: fresh.length - clickCount,
      readersUpdated: byUser.size,
      duplicates,
      ...attribution,
    };
  }

  /** Splits off events whose client id was seen before or earlier in this batch; claims the others' ids. */
  async #dropSeen(events: readonly ApiEvent[]): Promise<{
    fresh: { event: ApiEvent; key: string | undefined }[];
    claimed: string[];
    duplicates: number;
  }> {
    const keyed = events.map((event) => ({
      event,
      key: event.eventId === undefined ? undefined : eventKey(event.userId, event.eventId),
    }));
    const keys = [...new Set(keyed.flatMap(({ key }) => (key === undefined ? [] : [key])))];
    const claimed = keys.length === 0 ? new Set<string>() : await this.deps.seen.claim(keys);
    // `delete` is true once per claimed key: an id repeated later in the batch is a duplicate.
    const fresh = keyed.filter(({ key }) => key === undefined || claimed.delete(key));
    return {
      fresh,
      claimed: fresh.flatMap(({ key }) => (key === undefined ? [] : [key])),
      duplicates: events.length - fresh.length,
    };
  }

  async #release(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.deps.seen
      .release(keys)
      .catch((error: unknown) =>
        this.deps.logger?.error(
          { event: "event-ids-release-failed", err: error, count: keys.length },
          "could not release event ids; a retry of these events will be counted as duplicates",
        ),
      );
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
      const days = this.options.readerRetentionDays;
      if (days !== undefined) next.expiresAt = Math.floor(this.deps.clock.now() / 1000) + days * 86_400;
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

  protected async flushOnce(): Promise<number> {
    const batch = this.#buffer;
    this.#buffer = [];
    return fileRawBatch(
      batch,
      {
        sink: this.deps.sink,
        erasures: this.deps.erasures,
        logger: this.deps.logger,
        readerOf: (c) => c.userId,
        timeOf: (c) => c.timestamp,
        render: treinoCsv,
        nextKey: () => this.#nextKey(),
        what: "events",
      },
      (clicks) => {
        this.#buffer = [...clicks, ...this.#buffer];
      },
    );
  }

  #nextKey(): string {
    this.#sequence += 1;
    return rawFileKey(API_EVENTS_PREFIX, this.options.instanceId, this.#sequence, this.deps.clock.now());
  }
}
