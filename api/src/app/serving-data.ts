import {
  type ArticleCatalogue,
  type ArticleFeatureSource,
  type ColdstartItem,
  coldstartListId,
  type Logger,
  POPULARITY_WINDOWS_HOURS,
  type PopularityWindow,
  type RankedEntry,
  toAppError,
  unpackContentVector,
} from "@gplay/common";
import { type ArticleMeta, isFresh } from "../domain/articles.js";
import { TtlCache } from "../domain/ttl-cache.js";
import type { ArticleSource, Clock, ColdstartSource } from "./ports.js";

export type PopularScope = "global" | `section:${string}` | `region:${string}`;

export interface ServingDataOptions {
  /** Articles published this many hours before the snapshot's `asOf` count as fresh. */
  freshnessHours: number;
  /** Popularity windows read per scope, shortest (freshest signal) first. */
  windowsHours?: readonly PopularityWindow[];
  /** Newest fresh articles kept per section for the same-section candidate source. */
  freshPerSection?: number;
  coVisitCacheTtlMs: number;
  coVisitCacheMaxEntries: number;
}

interface State {
  articles: Map<string, ArticleMeta>;
  /** The same articles as the recommendation world reads them; a new object on every refresh. */
  catalogue: ArticleCatalogue;
  popular: Map<string, RankedEntry[]>;
  freshBySection: Map<string, ArticleMeta[]>;
  /** Every known article, newest first: the last resort when the lists hold fewer unread pages than asked. */
  newest: RankedEntry[];
  snapshotId: string | null;
  asOf: number | null;
  loadedAt: number;
}

export interface RefreshSummary {
  articles: number;
  lists: number;
  snapshotId: string | null;
}

/**
 * What the API serves from memory: article metadata (a Scan of the items table) and the cold-start
 * popularity lists of the current snapshot, swapped atomically on each refresh, so a new snapshot's
 * articles and lists are served without a restart. Co-visitation rows (one per article) are read on
 * demand and kept in a TTL cache that is emptied when the snapshot changes.
 */
export class ServingData {
  #state: State | undefined;
  #lastError: string | undefined;
  #lastAttemptAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<RefreshSummary> | undefined;
  readonly #coVisit: TtlCache<readonly RankedEntry[]>;
  readonly #windows: readonly PopularityWindow[];

  constructor(
    private readonly articles: ArticleSource,
    private readonly lists: ColdstartSource,
    private readonly options: ServingDataOptions,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.#windows = options.windowsHours ?? POPULARITY_WINDOWS_HOURS;
    this.#coVisit = new TtlCache(options.coVisitCacheTtlMs, options.coVisitCacheMaxEntries, () =>
      clock.now(),
    );
  }

  /** Reloads articles and lists; concurrent calls share one load. Keeps the old state on failure. */
  refresh(): Promise<RefreshSummary> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(): Promise<RefreshSummary> {
    this.#lastAttemptAt = this.clock.now();
    try {
      const articleList = await this.articles.scanArticles();
      const articles = new Map(articleList.map((a) => [a.page, a]));
      const scopes = new Set<PopularScope>(["global"]);
      for (const a of articleList) {
        if (a.section) scopes.add(`section:${a.section}`);
        if (a.region) scopes.add(`region:${a.region}`);
      }
      const ids = [...scopes].flatMap((scope) => this.#windows.map((w) => coldstartListId.popular(scope, w)));
      const rows = await this.lists.getLists(ids);
      const { snapshotId, asOf } = snapshotOf(rows);
      const popular = new Map<string, RankedEntry[]>();
      for (const scope of scopes) {
        const merged = mergeWindows(this.#windows.map((w) => rows.get(coldstartListId.popular(scope, w))));
        if (merged.length > 0) popular.set(scope, merged);
      }
      const reference = asOf ?? this.clock.now();
      const freshBySection = new Map<string, ArticleMeta[]>();
      for (const a of articleList) {
        if (!isFresh(a, reference, this.options.freshnessHours)) continue;
        const list = freshBySection.get(a.section) ?? [];
        list.push(a);
        freshBySection.set(a.section, list);
      }
      const keep = this.options.freshPerSection ?? 200;
      for (const [section, list] of freshBySection)
        freshBySection.set(section, list.sort((x, y) => y.issued - x.issued).slice(0, keep));
      if (this.#state?.snapshotId !== snapshotId) this.#coVisit.clear();
      const newest = [...articles.values()]
        .sort((x, y) => y.issued - x.issued || (x.page < y.page ? -1 : 1))
        .map((a) => ({ page: a.page, score: a.issued }));
      this.#state = {
        articles,
        catalogue: articleCatalogue(articles),
        popular,
        freshBySection,
        newest,
        snapshotId,
        asOf,
        loadedAt: this.clock.now(),
      };
      this.#lastError = undefined;
      const summary = { articles: articles.size, lists: rows.size, snapshotId };
      this.logger?.info({ event: "serving-data-refreshed", ...summary }, "serving data refreshed");
      return summary;
    } catch (error) {
      const appError = toAppError(error, "Loading articles and cold-start lists failed");
      // Readiness is an open route: it gets the error's code and AWS error name, never its message.
      const awsError = appError.details.awsError;
      this.#lastError = `${appError.code}${typeof awsError === "string" ? ` (${awsError})` : ""}`;
      this.logger?.error({ event: "serving-data-refresh-failed", err: appError }, appError.message);
      throw appError;
    }
  }

  /** Refreshes every `intervalMs` (failures are logged and the previous data kept). */
  startRefreshing(intervalMs: number): void {
    this.stopRefreshing();
    this.#timer = setInterval(() => {
      this.refresh().catch(() => undefined);
    }, intervalMs);
    this.#timer.unref();
  }

  stopRefreshing(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get loaded(): boolean {
    return this.#state !== undefined;
  }

  get status(): {
    loadedAt: number | undefined;
    lastAttemptAt: number | undefined;
    lastError: string | undefined;
    articles: number;
  } {
    return {
      loadedAt: this.#state?.loadedAt,
      lastAttemptAt: this.#lastAttemptAt,
      lastError: this.#lastError,
      articles: this.#state?.articles.size ?? 0,
    };
  }

  get snapshotId(): string | null {
    return this.#state?.snapshotId ?? null;
  }

  /** Reference time for freshness: the snapshot's `asOf`, or now before any snapshot exists. */
  referenceMs(): number {
    return this.#state?.asOf ?? this.clock.now();
  }

  article(page: string): ArticleMeta | undefined {
    return this.#state?.articles.get(page);
  }

  /** The loaded articles as common's recommendation world reads them (empty before the first load). */
  catalogue(): ArticleCatalogue {
    return this.#state?.catalogue ?? EMPTY_CATALOGUE;
  }

  isFresh(page: string): boolean {
    const article = this.article(page);
    return article !== undefined && isFresh(article, this.referenceMs(), this.options.freshnessHours);
  }

  /** A scope's popular pages, best first (windows merged, shortest window first). */
  popular(scope: PopularScope): readonly RankedEntry[] {
    return this.#state?.popular.get(scope) ?? [];
  }

  /** Every known article, newest first (score = issued, epoch ms). */
  newest(): readonly RankedEntry[] {
    return this.#state?.newest ?? [];
  }

  /** The newest fresh articles of a section. */
  freshInSection(section: string): readonly ArticleMeta[] {
    return this.#state?.freshBySection.get(section) ?? [];
  }

  /** Co-visitation neighbours of each page (pages without a row map to no entry). One BatchGet for misses. */
  async coVisit(pages: readonly string[]): Promise<Map<string, readonly RankedEntry[]>> {
    const out = new Map<string, readonly RankedEntry[]>();
    const missing: string[] = [];
    for (const page of new Set(pages)) {
      const cached = this.#coVisit.get(page);
      if (cached === undefined) missing.push(page);
      else out.set(page, cached);
    }
    if (missing.length > 0) {
      const rows = await this.lists.getLists(missing.map((p) => coldstartListId.covisit(p)));
      for (const page of missing) {
        const entries = rows.get(coldstartListId.covisit(page))?.entries ?? [];
        this.#coVisit.set(page, entries);
        out.set(page, entries);
      }
    }
    return out;
  }
}

const EMPTY_CATALOGUE: ArticleCatalogue = { get: () => undefined, entries: () => [] };

/**
 * A catalogue over the loaded articles whose content vectors are unpacked on first use (the world
 * unpacks the fresh ones and the features those of each request's candidates; a full catalogue of
 * unpacked vectors would not fit a task's memory). A malformed vector counts as none (similarity 0),
 * as in training.
 */
function articleCatalogue(articles: ReadonlyMap<string, ArticleMeta>): ArticleCatalogue {
  const sources = new Map<string, ArticleFeatureSource>();
  return {
    get(page) {
      const cached = sources.get(page);
      if (cached !== undefined) return cached;
      const meta = articles.get(page);
      if (meta === undefined) return undefined;
      let vector: ArticleFeatureSource["vector"];
      try {
        vector =
          meta.vector === undefined || meta.vector.length === 0
            ? undefined
            : unpackContentVector(meta.vector);
      } catch {
        vector = undefined;
      }
      const source = {
        page: meta.page,
        section: meta.section,
        region: meta.region,
        issued: meta.issued,
        vector,
      };
      sources.set(page, source);
      return source;
    },
    entries: () => articles.values(),
  };
}

/** Concatenates a scope's window lists, shortest window first, keeping each page's first appearance. */
export function mergeWindows(lists: readonly (ColdstartItem | undefined)[]): RankedEntry[] {
  const seen = new Set<string>();
  const out: RankedEntry[] = [];
  for (const list of lists) {
    for (const entry of list?.entries ?? []) {
      if (seen.has(entry.page)) continue;
      seen.add(entry.page);
      out.push(entry);
    }
  }
  return out;
}

/** The newest snapshot among the loaded rows. */
function snapshotOf(rows: ReadonlyMap<string, ColdstartItem>): {
  snapshotId: string | null;
  asOf: number | null;
} {
  let best: ColdstartItem | undefined;
  for (const row of rows.values()) if (best === undefined || row.asOf > best.asOf) best = row;
  return { snapshotId: best?.snapshotId ?? null, asOf: best?.asOf ?? null };
}
