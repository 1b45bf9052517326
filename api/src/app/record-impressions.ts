import { randomUUID } from "node:crypto";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import {
  API_IMPRESSIONS_PREFIX,
  type ImpressionLogRow,
  type ImpressionStrategy,
  type Logger,
  type Metrics,
  type ServingArm,
} from "@gplay/common";
import { ImpressionIndex, impressionCsvInSlices, type RememberedList } from "../domain/impressions.js";
import { rawFileKey } from "../domain/raw-file-key.js";
import { type ErasureLookup, fileRawBatch, PeriodicallyFiled } from "./periodic-flush.js";
import type { Clock, RawEventSink } from "./ports.js";

export interface ImpressionRecorderOptions {
  /** Names this task in its file keys, so tasks never overwrite each other. */
  instanceId: string;
  /** Rows held at most; beyond it new rows are dropped and counted (serving never fails for the log). */
  maxBufferedRows: number;
  /** Readers whose recent lists are kept for attribution, and lists kept per reader. */
  attributionReaders: number;
  listsPerReader: number;
}

export interface ImpressionRecorderDeps {
  sink: RawEventSink;
  clock: Clock;
  metrics?: Metrics;
  logger?: Logger;
  newId?: () => string;
  /** The erasure ledger (as for clicks): a flush drops rows of erased readers from before their erasure. */
  erasures?: ErasureLookup;
}

/** A list about to be answered (or scored in shadow), as the route knows it. */
export interface ServedListInput {
  userId: string | undefined;
  modelVersion: string;
  arm: ServingArm;
  strategy: ImpressionStrategy;
  items: readonly { page: string; score: number }[];
  latencyMs: number;
}

/** A click or client-side impression received by `/events`, after dedupe and validation. */
export interface ActedInput {
  type: "click" | "impression";
  userId: string;
  page: string;
  timestamp: number;
  impressionId?: string | undefined;
}

export interface AttributionCounts {
  attributed: number;
  unattributed: number;
}

type ArmKey = string;

/** A named id that cannot be a served list's (not a UUID) is not kept in the log: it credits nothing. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The impression log of this task: every served list gets an id and a row, every click and client
 * impression a row credited (common's attribution rule, over the lists this task served) or not;
 * rows are batched into `impressions`-kind files under `raw/` (`flush`), and the online counts per
 * (version, arm, strategy) go out as EMF metrics at each flush (aggregated, not per request).
 * Recording is a few object writes on the request path; files and metrics are written off it.
 */
export class ImpressionRecorder extends PeriodicallyFiled {
  #rows: ImpressionLogRow[] = [];
  #sequence = 0;
  #dropped = 0;
  #unattributed = 0;
  readonly #counts = new Map<
    ArmKey,
    { impressions: number; clicks: number; clicked: number; latency: number }
  >();
  readonly #clicked = new Set<string>();
  readonly #index: ImpressionIndex;

  constructor(
    private readonly deps: ImpressionRecorderDeps,
    private readonly options: ImpressionRecorderOptions,
  ) {
    super("impressions", deps.logger);
    this.#index = new ImpressionIndex(options.attributionReaders, options.listsPerReader);
  }

  get buffered(): number {
    return this.#rows.length;
  }

  /** Whether rows of the reader wait in the buffer. */
  holds(userId: string): boolean {
    return this.#rows.some((r) => r.userId === userId);
  }

  /** An erasure: drops the readers' buffered rows and their remembered lists; returns the rows dropped. */
  dropReaders(userIds: ReadonlySet<string>): number {
    const before = this.#rows.length;
    this.#rows = this.#rows.filter((r) => r.userId === undefined || !userIds.has(r.userId));
    for (const id of userIds) this.#index.forget(id);
    return before - this.#rows.length;
  }

  /** Records a served list and returns its impression id. */
  served(list: ServedListInput): string {
    const impressionId = (this.deps.newId ?? randomUUID)();
    const timestamp = this.deps.clock.now();
    this.#push(this.#listRow("served", impressionId, timestamp, list));
    const remembered: RememberedList = {
      impressionId,
      userId: list.userId,
      timestamp,
      pages: list.items.map((i) => i.page),
      modelVersion: list.modelVersion,
      arm: list.arm,
      strategy: list.strategy,
    };
    this.#index.remember(remembered);
    const c = this.#count(remembered);
    c.impressions += 1;
    c.latency = Math.max(c.latency, list.latencyMs);
    return impressionId;
  }

  /** Records a list the challenger ranked in shadow (never shown, never credited). */
  shadow(list: ServedListInput): void {
    this.#push(this.#listRow("shadow", (this.deps.newId ?? randomUUID)(), this.deps.clock.now(), list));
  }

  /** Records clicks and client impressions, each credited to a served list or left unattributed. */
  acted(events: readonly ActedInput[]): AttributionCounts {
    const counts: AttributionCounts = { attributed: 0, unattributed: 0 };
    for (const event of events) {
      const list = this.#index.attribute(event);
      const row: ImpressionLogRow = {
        eventType: event.type === "click" ? "click" : "shown",
        userId: event.userId,
        timestamp: event.timestamp,
        pages: [event.page],
        scores: [],
        // A named id this task does not know is kept: the exact join decides whether another task served it.
        ...(list !== undefined
          ? {
              impressionId: list.impressionId,
              modelVersion: list.modelVersion,
              arm: list.arm,
              strategy: list.strategy,
            }
          : event.impressionId !== undefined && UUID.test(event.impressionId)
            ? { impressionId: event.impressionId }
            : {}),
      };
      this.#push(row);
      if (list === undefined) counts.unattributed += 1;
      else counts.attributed += 1;
      if (event.type !== "click") continue;
      if (list === undefined) this.#unattributed += 1;
      else {
        const c = this.#count(list);
        c.clicks += 1;
        if (!this.#clicked.has(list.impressionId)) {
          this.#clicked.add(list.impressionId);
          c.clicked += 1;
        }
      }
    }
    return counts;
  }

  #listRow(
    eventType: "served" | "shadow",
    impressionId: string,
    timestamp: number,
    list: ServedListInput,
  ): ImpressionLogRow {
    return {
      eventType,
      impressionId,
      ...(list.userId === undefined ? {} : { userId: list.userId }),
      timestamp,
      modelVersion: list.modelVersion,
      arm: list.arm,
      strategy: list.strategy,
      pages: list.items.map((i) => i.page),
      scores: list.items.map((i) => i.score),
      latencyMs: Math.max(0, Math.round(list.latencyMs)),
    };
  }

  #push(row: ImpressionLogRow): void {
    if (this.#rows.length >= this.options.maxBufferedRows) this.#dropped += 1;
    else this.#rows.push(row);
  }

  #count(list: Pick<RememberedList, "modelVersion" | "arm" | "strategy">) {
    const key = `${list.modelVersion}\u0000${list.arm}\u0000${list.strategy}`;
    let c = this.#counts.get(key);
    if (c === undefined) {
      c = { impressions: 0, clicks: 0, clicked: 0, latency: 0 };
      this.#counts.set(key, c);
    }
    return c;
  }

  /** Emits the counts gathered since the last call as EMF metrics (one document per arm), then resets them. */
  emitMetrics(): void {
    const { metrics } = this.deps;
    if (metrics === undefined) return;
    for (const [key, c] of this.#counts) {
      const [ModelVersion, Arm, Strategy] = key.split("\u0000") as [string, string, string];
      metrics.emit(
        {
          apiImpressions: c.impressions,
          apiAttributedClicks: c.clicks,
          apiClickedImpressions: c.clicked,
          ...(c.impressions > 0 ? { apiArmLatency: c.latency } : {}),
        },
        { ModelVersion, Arm, Strategy },
      );
    }
    if (this.#unattributed > 0 || this.#dropped > 0)
      metrics.emit({ apiUnattributedClicks: this.#unattributed, apiImpressionsDropped: this.#dropped });
    this.#counts.clear();
    this.#unattributed = 0;
    this.#dropped = 0;
    // Lists older than the index can attribute are forgotten with it; keep the set bounded the same way.
    if (this.#clicked.size > 4 * this.options.attributionReaders) this.#clicked.clear();
  }

  protected async flushOnce(): Promise<number> {
    this.emitMetrics();
    const batch = this.#rows;
    this.#rows = [];
    return fileRawBatch(
      batch,
      {
        sink: this.deps.sink,
        erasures: this.deps.erasures,
        logger: this.deps.logger,
        readerOf: (r) => r.userId,
        timeOf: (r) => r.timestamp,
        // In slices, the event loop serving requests between them.
        render: (rows) => impressionCsvInSlices(rows, () => yieldToEventLoop()),
        nextKey: () => this.#nextKey(),
        what: "impressions",
      },
      (rows) => {
        this.#rows = [...rows, ...this.#rows];
      },
    );
  }

  #nextKey(): string {
    this.#sequence += 1;
    return rawFileKey(API_IMPRESSIONS_PREFIX, this.options.instanceId, this.#sequence, this.deps.clock.now());
  }
}
