/**
 * Recency-decayed read counts: the one definition of the popularity tables (the serving half-life and
 * every `POPULARITY_SCALES_HOURS` scale). Training computes a world's tables from the reads before its
 * cut; the api advances the served bundle's tables (as of the snapshot) with the reads `/events`
 * receives after it (`LivePopularity`). Both add `exp(-ln2 · age / half-life)` per read, so the
 * advanced tables equal the ones computed from every read (up to rounding).
 */
import type { LoadedBundle } from "../bundle/read-bundle.js";
import { type BundleManifest, POPULARITY_SCALES_HOURS, PORTAL_BUCKET_MS } from "../contracts/model-bundle.js";
import { LatestItems } from "../util/latest-items.js";

const HOUR_MS = 3_600_000;

/** One read of a page (no reader): all the popularity tables need. */
export interface TimedRead {
  page: string;
  timestamp: number;
}

/** The decay rate (per ms) of a half-life in hours. */
export function decayRate(halfLifeHours: number): number {
  return Math.LN2 / (halfLifeHours * HOUR_MS);
}

/**
 * Reads before `cut` (in time order: the first at or after it ends the scan) decayed with a half-life
 * to `reference` (default `cut`): page → Σ exp(-rate · max(0, reference − time)).
 */
export function decayedReads(
  reads: Iterable<TimedRead>,
  cut: number,
  halfLifeHours: number,
  reference: number = cut,
): Map<string, number> {
  const pop = new Map<string, number>();
  const lambda = decayRate(halfLifeHours);
  for (const e of reads) {
    if (e.timestamp >= cut) break;
    pop.set(e.page, (pop.get(e.page) ?? 0) + Math.exp(-lambda * Math.max(0, reference - e.timestamp)));
  }
  return pop;
}

/** `decayedReads` with each half-life of `POPULARITY_SCALES_HOURS`, in one pass: page → one value per scale. */
export function decayedReadScales(
  reads: Iterable<TimedRead>,
  cut: number,
  reference: number = cut,
): Map<string, number[]> {
  const lambdas = POPULARITY_SCALES_HOURS.map(decayRate);
  const out = new Map<string, number[]>();
  for (const e of reads) {
    if (e.timestamp >= cut) break;
    let values = out.get(e.page);
    if (values === undefined) {
      values = lambdas.map(() => 0);
      out.set(e.page, values);
    }
    const age = Math.max(0, reference - e.timestamp);
    for (let k = 0; k < lambdas.length; k++)
      values[k] = (values[k] as number) + Math.exp(-(lambdas[k] as number) * age);
  }
  return out;
}

/** The start of the `PORTAL_BUCKET_MS` bucket of a time. */
export const portalBucket = (timestamp: number): number =>
  Math.floor(timestamp / PORTAL_BUCKET_MS) * PORTAL_BUCKET_MS;

/** The portal's reads before `cut` (in time order) per bucket: bucket start → reads. */
export function portalReads(reads: Iterable<TimedRead>, cut: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of reads) {
    if (e.timestamp >= cut) break;
    const b = portalBucket(e.timestamp);
    out.set(b, (out.get(b) ?? 0) + 1);
  }
  return out;
}

/** The half-life of an article's exposure and read share (`article_log_appeal`): the 24 h popularity scale's. */
export const EXPOSURE_HALF_LIFE_HOURS = POPULARITY_SCALES_HOURS[2];

/**
 * An article's exposure as of `asOf`: the portal's reads from the bucket of its issue time on, each
 * decayed with `EXPOSURE_HALF_LIFE_HOURS` from its bucket's middle to `asOf` (the same decay as the
 * article's own 24 h popularity, so their ratio is its share of the portal's reads since its issue).
 * Returns a lookup by issue time; O(buckets) once, O(log buckets) per article.
 */
export function portalExposure(
  portal: ReadonlyMap<number, number>,
  asOf: number,
): (issued: number) => number {
  const starts = [...portal.keys()].filter((b) => b < asOf).sort((a, b) => a - b);
  const lambda = decayRate(EXPOSURE_HALF_LIFE_HOURS);
  // suffix[i] = Σ over buckets i… of reads × decay to asOf.
  const suffix = new Float64Array(starts.length + 1);
  for (let i = starts.length - 1; i >= 0; i--) {
    const b = starts[i] as number;
    const mid = Math.min(asOf, b + PORTAL_BUCKET_MS / 2);
    suffix[i] = (suffix[i + 1] as number) + (portal.get(b) as number) * Math.exp(-lambda * (asOf - mid));
  }
  return (issued) => {
    const from = portalBucket(issued);
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if ((starts[m] as number) < from) lo = m + 1;
      else hi = m;
    }
    return suffix[lo] as number;
  };
}

/**
 * The recent-click buffer's popularity: counts of each page among `pages` (the latest reads, any
 * order); every page of `tieBreak` (decayed reads) also keeps a fraction of it below half a read,
 * relative to its largest value, so every read page has an order.
 */
export function recentBufferCounts(
  pages: Iterable<string>,
  tieBreak: ReadonlyMap<string, number>,
): Map<string, number> {
  let top = 0;
  for (const v of tieBreak.values()) if (v > top) top = v;
  const counts = new Map<string, number>();
  for (const [page, v] of tieBreak) counts.set(page, (0.5 * v) / (top || 1));
  for (const page of pages) counts.set(page, (counts.get(page) ?? 0) + 1);
  return counts;
}

const MINUTE_MS = 60_000;

/**
 * The recent window's test: a read at `timestamp` is in the window of `minutes` ending at `end` when
 * it is in (end − minutes, end]. The one definition training and the api's live tables use.
 */
export function inRecentWindow(timestamp: number, end: number, minutes: number): boolean {
  return timestamp > end - minutes * MINUTE_MS && timestamp <= end;
}

/**
 * The reads of the recent window of `minutes` ending at `end` (`inRecentWindow`), among `reads` before
 * `cut` (in time order: the first at or after it ends the scan), oldest first.
 */
export function recentWindowReads(
  reads: Iterable<TimedRead>,
  cut: number,
  end: number,
  minutes: number,
): TimedRead[] {
  const out: TimedRead[] = [];
  for (const e of reads) {
    if (e.timestamp >= cut) break;
    if (inRecentWindow(e.timestamp, end, minutes)) out.push({ page: e.page, timestamp: e.timestamp });
  }
  return out;
}

/**
 * The recent window's popularity at `end`: `recentBufferCounts` of the pages of `reads` in the window
 * (`inRecentWindow`), the decayed reads `tieBreak` below one read.
 */
export function recentWindowCounts(
  reads: Iterable<TimedRead>,
  end: number,
  minutes: number,
  tieBreak: ReadonlyMap<string, number>,
): Map<string, number> {
  const pages: string[] = [];
  for (const r of reads) if (inRecentWindow(r.timestamp, end, minutes)) pages.push(r.page);
  return recentBufferCounts(pages, tieBreak);
}

/**
 * Reads a live recent window holds at most (page and time each, ≈ 100 bytes): about 100 MB. At the
 * portal's peak traffic a window of hours holds far fewer; past the cap the oldest reads are dropped
 * first, so the window then covers less than its minutes.
 */
export const LIVE_WINDOW_MAX_READS = 1_000_000;

/** The popularity tables of a reference time, as the recommendation world reads them. */
export interface PopularityTables {
  /** Reference time of the values (the world's `asOf`). */
  asOf: number;
  popularity: ReadonlyMap<string, number>;
  popularityScales: ReadonlyMap<string, readonly number[]>;
  /** The portal's reads per bucket (`portalReads`); absent when the base had none. */
  portal?: ReadonlyMap<number, number>;
}

export interface LivePopularityBase {
  /** Reference time of the base tables: reads at or before it are already counted. */
  asOf: number;
  /** Half-life of `popularity`. */
  halfLifeHours: number;
  popularity: ReadonlyMap<string, number>;
  popularityScales: ReadonlyMap<string, readonly number[]>;
  /** The portal's reads per bucket before `asOf` (absent: not kept, e.g. a bundle written before it). */
  portal?: ReadonlyMap<number, number>;
  /**
   * When a recent-click buffer serves, what advancing it needs (`popularity` is then its counts): the
   * buffer's size, its pages (oldest read first) and every page's reads decayed with `halfLifeHours`.
   * Absent, `popularity` is decayed reads.
   */
  buffer?: { reads: number; pages: readonly string[]; decayed: ReadonlyMap<string, number> };
  /**
   * When a recent window serves (`popularity` is then its counts): its length in minutes, its reads
   * (those in the window ending at `asOf`, oldest first) and every page's reads decayed with
   * `halfLifeHours`. At most one of `buffer` and `window`.
   */
  window?: { minutes: number; reads: readonly TimedRead[]; decayed: ReadonlyMap<string, number> };
  /**
   * False when `popularity` is neither decayed reads nor an advanceable buffer (a bundle that does not
   * say what its buffer held): it is then kept as it is and only the scales advance.
   */
  advancePopularity: boolean;
}

/**
 * A bundle's popularity tables advanced with the reads after their reference time. Holds one value per
 * table per page it was given or accepted (pages `admits` refuses, such as pages outside the
 * catalogue, are dropped), and no reader id. Values are kept at an internal reference time and
 * rescaled when `tables()` moves it forward, so a read costs O(scales) and a snapshot O(pages).
 */
export class LivePopularity {
  readonly #base: LivePopularityBase;
  readonly #lambdas: readonly number[];
  /** Decayed reads with the base's half-life: the popularity, or a serving buffer's tie-break. */
  readonly #decayed: Map<string, number>;
  readonly #scales: Map<string, number[]>;
  /** The portal's reads per bucket, when the base kept them. */
  readonly #portal: Map<number, number> | undefined;
  /** A serving buffer's latest pages, oldest first (undefined: no buffer). */
  readonly #buffer: LatestItems<string> | undefined;
  /** A serving window's reads, oldest accepted first (undefined: no window). */
  readonly #window: { minutes: number; reads: LatestItems<TimedRead> } | undefined;
  /** The decay rate of the base's half-life (per ms). */
  readonly #lambda: number;
  #reference: number;
  #latest: number;
  #pending = 0;

  constructor(
    base: LivePopularityBase,
    private readonly admits: (page: string) => boolean,
    maxWindowReads: number = LIVE_WINDOW_MAX_READS,
  ) {
    this.#base = base;
    this.#lambdas = POPULARITY_SCALES_HOURS.map(decayRate);
    this.#decayed = new Map(base.buffer?.decayed ?? base.window?.decayed ?? base.popularity);
    this.#lambda = decayRate(base.halfLifeHours);
    this.#buffer =
      base.buffer === undefined ? undefined : new LatestItems(base.buffer.reads, base.buffer.pages);
    this.#window =
      base.window === undefined
        ? undefined
        : {
            minutes: base.window.minutes,
            reads: new LatestItems(maxWindowReads, base.window.reads),
          };
    this.#scales = new Map([...base.popularityScales].map(([p, v]) => [p, [...v]]));
    this.#portal = base.portal === undefined ? undefined : new Map(base.portal);
    this.#reference = base.asOf;
    this.#latest = base.asOf;
  }

  /** The tables' reference time so far: the base's, or the latest accepted read's when later. */
  get latest(): number {
    return this.#latest;
  }

  /** True once a read after the base's reference time was accepted (the tables moved from the base). */
  get moved(): boolean {
    return this.#latest > this.#base.asOf;
  }

  /** Reads accepted since the last `tables()`. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Counts a read. Ignored (false) when it is at or before the base's reference time (the snapshot
   * counted it), more than `LIVE_MAX_LEAD_MS` after the latest read so far (a wrong clock), or
   * `admits` refuses its page.
   */
  record(read: TimedRead): boolean {
    if (!(read.timestamp > this.#base.asOf)) return false;
    if (read.timestamp > this.#latest + LIVE_MAX_LEAD_MS || !this.admits(read.page)) return false;
    // Far ahead of the reference, exp(+rate · gap) would lose range: rescale first (rare).
    if (read.timestamp - this.#reference > REBASE_AFTER_MS) this.#rebase(read.timestamp);
    const age = this.#reference - read.timestamp;
    if (this.#base.advancePopularity) {
      this.#decayed.set(read.page, (this.#decayed.get(read.page) ?? 0) + Math.exp(-this.#lambda * age));
      this.#buffer?.push(read.page);
      this.#window?.reads.push({ page: read.page, timestamp: read.timestamp });
    }
    let values = this.#scales.get(read.page);
    if (values === undefined) {
      values = this.#lambdas.map(() => 0);
      this.#scales.set(read.page, values);
    }
    for (let k = 0; k < this.#lambdas.length; k++)
      values[k] = (values[k] as number) + Math.exp(-(this.#lambdas[k] as number) * age);
    if (this.#portal !== undefined) {
      const b = portalBucket(read.timestamp);
      this.#portal.set(b, (this.#portal.get(b) ?? 0) + 1);
    }
    if (read.timestamp > this.#latest) {
      this.#latest = read.timestamp;
      this.#evict();
    }
    this.#pending += 1;
    return true;
  }

  /** The tables as of `latest` (new maps: later reads never change them). */
  tables(): PopularityTables {
    this.#rebase(this.#latest);
    this.#pending = 0;
    let popularity: Map<string, number>;
    if (!this.#base.advancePopularity) popularity = new Map(this.#base.popularity);
    else if (this.#buffer !== undefined)
      popularity = recentBufferCounts(this.#buffer.toArray(), this.#decayed);
    else if (this.#window !== undefined)
      popularity = recentWindowCounts(this.#window.reads, this.#latest, this.#window.minutes, this.#decayed);
    else popularity = new Map(this.#decayed);
    return {
      asOf: this.#latest,
      popularity,
      popularityScales: new Map([...this.#scales].map(([p, v]) => [p, [...v]])),
      ...(this.#portal === undefined ? {} : { portal: new Map(this.#portal) }),
    };
  }

  /**
   * Drops the window's oldest reads that fell out of it (reads arrive nearly in time order: one that
   * came late stays until the reads before it go, and `tables()` counts only those in the window).
   */
  #evict(): void {
    const window = this.#window;
    if (window === undefined) return;
    window.reads.dropOldestWhile((r) => !inRecentWindow(r.timestamp, this.#latest, window.minutes));
  }

  #rebase(to: number): void {
    const dt = to - this.#reference;
    if (dt === 0) return;
    if (this.#base.advancePopularity) {
      const f = Math.exp(-this.#lambda * dt);
      for (const [page, v] of this.#decayed) this.#decayed.set(page, v * f);
    }
    const factors = this.#lambdas.map((l) => Math.exp(-l * dt));
    for (const values of this.#scales.values())
      for (let k = 0; k < factors.length; k++) values[k] = (values[k] as number) * (factors[k] as number);
    this.#reference = to;
  }
}

/**
 * How far past the tables' latest read a read may be and still move them. The reference time is the
 * latest read's, so one read with a wrong clock (a client's, or a receipt time stamped on a replay of
 * old data) would otherwise age every article by the gap at once: the fresh window would empty and
 * every count decay to nothing. A read further ahead is refused; the next snapshot's bundle re-anchors
 * the tables.
 */
export const LIVE_MAX_LEAD_MS = 7 * 24 * HOUR_MS;

/** Gap after which a read rescales the values first (2^24 at the shortest half-life of an hour). */
const REBASE_AFTER_MS = 24 * HOUR_MS;

/** True when a bundle's popularity table is a recent-click buffer rather than decayed reads (whether or not it says what the buffer held). */
export function servesRecentBuffer(manifest: Pick<BundleManifest, "strategy" | "params">): boolean {
  if (manifest.strategy.kind === "baseline") return manifest.strategy.name === "recent-buffer";
  const serving = manifest.params.serving_popularity;
  return typeof serving === "string" && (serving.startsWith("buffer") || serving.startsWith("window"));
}

/** A bundle's tables ready to advance: reads of pages `admits` accepts, after its reference time. */
export function bundleLivePopularity(
  bundle: Pick<LoadedBundle, "popularity"> & {
    manifest: Pick<BundleManifest, "asOf" | "strategy" | "params">;
  },
  admits: (page: string) => boolean,
): LivePopularity {
  const { buffer, window, portal } = bundle.popularity;
  return new LivePopularity(
    {
      asOf: bundle.manifest.asOf,
      halfLifeHours: bundle.popularity.halfLifeHours,
      popularity: new Map(bundle.popularity.entries),
      popularityScales: new Map(Object.entries(bundle.popularity.scales)),
      ...(portal === undefined ? {} : { portal: new Map(portal) }),
      ...(buffer === undefined
        ? {}
        : { buffer: { reads: buffer.reads, pages: buffer.pages, decayed: new Map(buffer.decayed) } }),
      ...(window === undefined
        ? {}
        : {
            window: {
              minutes: window.minutes,
              reads: window.reads.map(([page, timestamp]) => ({ page, timestamp })),
              decayed: new Map(window.decayed),
            },
          }),
      advancePopularity: buffer !== undefined || window !== undefined || !servesRecentBuffer(bundle.manifest),
    },
    admits,
  );
}
