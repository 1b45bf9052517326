import { LatestItems, type Logger, type TimedRead } from "@gplay/common";
import type { Clock, LiveWorld, ModelProvider } from "./ports.js";

export interface LiveReadsOptions {
  /** A served world with reads counted since its last build is rebuilt at least this often. */
  rebuildEveryMs: number;
  /** …and as soon as this many reads wait (whichever comes first). */
  rebuildAtReads: number;
  /** The latest reads kept (page and time only) to bring a newly loaded version up to date. */
  recentReads: number;
  /** Reads of articles this task has not loaded yet, kept until a refresh loads them (oldest dropped). */
  waitingReads: number;
}

export interface LiveReadsDeps {
  /** The served versions (the champion, and the challenger when the online loop runs). */
  models: readonly ModelProvider[];
  /** True for a page this task has loaded (its catalogue): other pages' reads wait. */
  admits: (page: string) => boolean;
  /** This task's clock: a click stamped later than its receipt (a client's clock ahead) counts at receipt. */
  clock: Clock;
  logger?: Logger;
}

/**
 * Feeds the reads `/events` accepted (after dedupe) to the served versions' live worlds and rebuilds
 * those worlds off the request path: on a timer, or early once `rebuildAtReads` reads wait (scheduled
 * after the request that brought them). The world's reference time is the latest read's, never the
 * wall clock, so replayed data keeps its own clock. Holds pages and times only — no reader id — in two
 * bounded buffers: the latest reads (a version loaded later is brought up to date with them) and the
 * reads of articles not loaded yet (counted once a refresh loads them).
 */
export class LiveReadsFeed {
  readonly #recent: LatestItems<TimedRead>;
  #waiting: TimedRead[] = [];
  readonly #seeded = new WeakSet<LiveWorld>();
  #timer: NodeJS.Timeout | undefined;
  #scheduled = false;
  #rebuilds = 0;

  constructor(
    private readonly deps: LiveReadsDeps,
    private readonly options: LiveReadsOptions,
  ) {
    this.#recent = new LatestItems(options.recentReads);
  }

  /** World rebuilds so far (for logs and tests). */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** Counts accepted clicks; schedules a rebuild when enough wait. */
  record(reads: readonly TimedRead[]): void {
    const worlds = this.#worlds();
    for (const read of reads) {
      const r = { page: read.page, timestamp: Math.min(read.timestamp, this.deps.clock.now()) };
      if (!this.deps.admits(r.page)) {
        this.#wait(r);
        continue;
      }
      this.#recent.push(r);
      for (const world of worlds) world.observe(r);
    }
    if (!this.#scheduled && worlds.some((w) => w.pending() >= this.options.rebuildAtReads)) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.rebuild();
      });
    }
  }

  /**
   * Counts the waiting reads whose articles are now loaded, brings newly loaded versions up to date,
   * and rebuilds every served world that counted reads since its last build.
   */
  rebuild(): void {
    const worlds = this.#worlds();
    if (this.#waiting.length > 0) {
      const still: TimedRead[] = [];
      for (const r of this.#waiting) {
        if (!this.deps.admits(r.page)) {
          still.push(r);
          continue;
        }
        this.#recent.push(r);
        for (const world of worlds) world.observe(r);
      }
      this.#waiting = still;
    }
    for (const world of worlds) {
      if (world.pending() === 0) continue;
      const started = performance.now();
      try {
        world.rebuild();
        this.#rebuilds += 1;
        this.deps.logger?.debug(
          { event: "live-world-rebuilt", ms: Math.round(performance.now() - started) },
          "served world rebuilt with the latest reads",
        );
      } catch (error) {
        this.deps.logger?.error(
          { event: "live-world-rebuild-failed", err: error },
          "rebuilding the served world failed; the previous world is served",
        );
      }
    }
  }

  /** Rebuilds every `rebuildEveryMs` until `stop`. */
  start(): void {
    this.stop();
    this.#timer = setInterval(() => this.rebuild(), this.options.rebuildEveryMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The served versions' live worlds; one seen for the first time is given the recent reads first. */
  #worlds(): LiveWorld[] {
    const out: LiveWorld[] = [];
    for (const model of this.deps.models) {
      const state = model.current();
      const world = state.status === "ready" ? state.ranker.live : undefined;
      if (world === undefined) continue;
      if (!this.#seeded.has(world)) {
        this.#seeded.add(world);
        for (const read of this.#recent) world.observe(read);
      }
      out.push(world);
    }
    return out;
  }

  #wait(read: TimedRead): void {
    if (this.options.waitingReads === 0) return;
    this.#waiting.push(read);
    if (this.#waiting.length > 2 * this.options.waitingReads)
      this.#waiting = this.#waiting.slice(-this.options.waitingReads);
  }
}
