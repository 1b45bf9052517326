import {
  type ApiContext,
  type ColdstartRequest,
  type ColdstartResponse,
  decodeInteractionLog,
  type Logger,
  type CandidateTier as PoolTier,
  type PredictFallback,
  type PredictRequest,
  type PredictResponse,
  type RecommendedItem,
  rankScore,
  type UserItem,
} from "@gplay/common";
import { toRecommendedItem } from "../domain/articles.js";
import { type CandidateTier, coVisitNeighbours, selectFromTiers } from "../domain/candidates.js";
import { type ReadSet, readSetOf } from "../domain/read-set.js";
import { RefreshAheadCache } from "../domain/refresh-ahead-cache.js";
import type { Clock, ModelProvider, Ranker, RankerInput, UserStore } from "./ports.js";
import type { ServingData } from "./serving-data.js";

/** The reason an item of the recommendation path gives for itself. */
const TIER_REASONS: Record<PoolTier, RecommendedItem["reason"]> = {
  popular: "popular-global",
  "co-visited": "co-visited",
  "content-similar": "content-similar",
  "popular-section": "popular-section",
  "popular-region": "popular-region",
  "fill-popular": "popular-any-age",
  "fill-newest": "newest",
};

/**
 * A cached reader older than this share of the TTL is served and re-read in the background, so a hot
 * reader's request never waits for the store (a reader's requests cluster within seconds; without it every
 * one of them paid a GetItem each time its entry expired, the api's slowest requests at steady load).
 */
const REFRESH_AHEAD_SHARE = 0.75;

export interface RecommenderOptions {
  /** Hot-reader cache: short, so a click recorded by another task is excluded within seconds. */
  userCacheTtlMs: number;
  userCacheMaxEntries: number;
}

export interface RecommenderDeps {
  users: UserStore;
  data: ServingData;
  model: ModelProvider;
  clock: Clock;
  logger?: Logger;
}

/**
 * The two recommendation use cases. `predict` runs common's one recommendation path with the
 * served version (the path training evaluates) and falls back to cold start (saying why) when there
 * is no model, no such reader or the model fails; `coldstart` serves fresh popular articles shaped by the visit's clicks.
 * A reader's whole history and the request's exclusions are never returned.
 */
export class Recommender {
  readonly #users: RefreshAheadCache<UserItem | undefined>;

  constructor(
    private readonly deps: RecommenderDeps,
    options: RecommenderOptions,
  ) {
    this.#users = new RefreshAheadCache({
      ttlMs: options.userCacheTtlMs,
      refreshAfterMs: REFRESH_AHEAD_SHARE * options.userCacheTtlMs,
      maxEntries: options.userCacheMaxEntries,
      load: (userId) => deps.users.getUser(userId),
      onRefreshError: (_userId, error) =>
        deps.logger?.warn(
          { event: "reader-refresh-failed", err: error },
          "re-reading a cached reader failed; the cached item is served until it expires",
        ),
      now: () => deps.clock.now(),
    });
  }

  /**
   * The reader's item: from the hot-reader cache (never older than its TTL; re-read in the background
   * when close to it), else one GetItem shared by the reader's concurrent requests.
   */
  readUser(userId: string): Promise<UserItem | undefined> {
    return this.#users.get(userId);
  }

  /** Called after this task wrote a reader's item, so its next prediction sees the new reads at once. */
  rememberUser(user: UserItem): void {
    this.#users.set(user.userId, user);
  }

  async coldstart(request: ColdstartRequest): Promise<Omit<ColdstartResponse, "impressionId">> {
    const clicked = request.recentlyClicked ?? [];
    const readSet = readSetOf(undefined, [...clicked, ...(request.exclude ?? [])]);
    const items = await this.#coldstartItems(clicked, request.context, readSet, request.k);
    return { modelVersion: "coldstart", strategy: "coldstart", snapshotId: this.deps.data.snapshotId, items };
  }

  /** `arm`: the model to rank with (the online loop's champion or challenger); the served one by default. */
  async predict(
    request: PredictRequest,
    arm: ModelProvider = this.deps.model,
  ): Promise<Omit<PredictResponse, "impressionId">> {
    const user = await this.readUser(request.userId);
    const exclude = request.exclude ?? [];
    const readSet = readSetOf(user, exclude);
    const model = arm.current();
    if (user === undefined) {
      // With a model, the version's own cold-start list (what training evaluated for readers without
      // history); without one, the cold-start tables.
      const items =
        model.status === "ready"
          ? await this.#ranked(model.ranker, { interactions: [], userType: "Non-Logged" }, readSet, request.k)
          : await this.#coldstartItems([], request.context, readSet, request.k);
      return this.#fallback(request.userId, "unknown-reader", items ?? []);
    }
    const interactions = decodeInteractionLog(user.log);
    if (model.status === "none") {
      // No evaluated version yet: recent popularity minus what the reader read (the popularity
      // baseline; the co-visitation-first cold-start order scores far below it for known readers).
      const items = await this.#coldstartItems([], request.context, readSet, request.k);
      return this.#fallback(request.userId, "no-model", items);
    }
    try {
      const items = await this.#ranked(
        model.ranker,
        { interactions, userType: user.userType },
        readSet,
        request.k,
      );
      return {
        userId: request.userId,
        modelVersion: model.ranker.modelVersion,
        strategy: "model",
        fallback: null,
        snapshotId: this.deps.data.snapshotId,
        items,
      };
    } catch (error) {
      this.deps.logger?.warn(
        { event: "ranker-failed", modelVersion: model.ranker.modelVersion, err: error },
        "ranker failed; answering from cold start",
      );
      const items = await this.#coldstartItems([], request.context, readSet, request.k);
      return this.#fallback(request.userId, "model-error", items);
    }
  }

  /** common's recommendation path through the served version, as response items. */
  async #ranked(
    ranker: Ranker,
    reader: RankerInput,
    readSet: ReadSet,
    k: number,
  ): Promise<RecommendedItem[]> {
    const { data } = this.deps;
    const recommendation = await ranker.recommend(reader, { k, exclude: readSet });
    const items: RecommendedItem[] = [];
    for (const entry of recommendation.items) {
      const article = data.article(entry.page);
      // The world only holds loaded articles; one missing here was dropped by a refresh in between.
      if (article !== undefined)
        items.push(toRecommendedItem(article, entry.score, TIER_REASONS[entry.tier], entry.relatedTo));
    }
    return items;
  }

  #fallback(
    userId: string,
    fallback: PredictFallback | null,
    items: RecommendedItem[],
  ): Omit<PredictResponse, "impressionId"> {
    return {
      userId,
      modelVersion: null,
      strategy: "coldstart",
      fallback,
      snapshotId: this.deps.data.snapshotId,
      items,
    };
  }

  /** Sections (or regions) to favour: the request's, else those of the clicked articles, newest first. */
  #scopes(kind: "section" | "region", context: ApiContext | undefined, clicked: readonly string[]): string[] {
    const fromContext = context?.[kind];
    if (fromContext !== undefined) return [fromContext];
    const out: string[] = [];
    for (const page of [...clicked].reverse()) {
      const value = this.deps.data.article(page)?.[kind];
      if (value && !out.includes(value)) out.push(value);
    }
    return out;
  }

  #popularTiers(context: ApiContext | undefined, clicked: readonly string[]): CandidateTier[] {
    const { data } = this.deps;
    return [
      ...this.#scopes("section", context, clicked).map((s) => ({
        reason: "popular-section" as const,
        entries: data.popular(`section:${s}`),
      })),
      ...this.#scopes("region", context, clicked).map((r) => ({
        reason: "popular-region" as const,
        entries: data.popular(`region:${r}`),
      })),
      { reason: "popular-global", entries: data.popular("global") },
    ];
  }

  #freshSectionTiers(context: ApiContext | undefined, clicked: readonly string[]): CandidateTier[] {
    return this.#scopes("section", context, clicked).map((s) => ({
      reason: "fresh-section" as const,
      entries: this.deps.data.freshInSection(s).map((a) => ({ page: a.page, score: a.issued })),
    }));
  }

  async #coVisitTier(clicked: readonly string[]): Promise<CandidateTier> {
    if (clicked.length === 0) return { reason: "co-visited", entries: [] };
    return {
      reason: "co-visited",
      entries: coVisitNeighbours(clicked, await this.deps.data.coVisit(clicked)),
    };
  }

  #acceptFresh(readSet: ReadSet) {
    return (page: string) => !readSet.has(page) && this.deps.data.isFresh(page);
  }

  #acceptAnyAge(readSet: ReadSet) {
    return (page: string) => !readSet.has(page) && this.deps.data.article(page) !== undefined;
  }

  /** Cold start: co-visited first, then section/region popularity, then global, fresh only; any age to fill up. */
  async #coldstartItems(
    clicked: readonly string[],
    context: ApiContext | undefined,
    readSet: ReadSet,
    k: number,
  ): Promise<RecommendedItem[]> {
    const { data } = this.deps;
    const tiers = [
      await this.#coVisitTier(clicked),
      ...this.#popularTiers(context, clicked),
      ...this.#freshSectionTiers(context, clicked),
    ];
    const chosen = selectFromTiers(tiers, k, this.#acceptFresh(readSet));
    if (chosen.length < k) {
      const taken = new Set(chosen.map((c) => c.page));
      const filler = selectFromTiers(
        [
          { reason: "popular-any-age", entries: data.popular("global") },
          { reason: "newest", entries: data.newest() },
        ],
        k - chosen.length,
        (page) => !taken.has(page) && this.#acceptAnyAge(readSet)(page),
      );
      chosen.push(...filler);
    }
    return chosen.map((c, rank) =>
      toRecommendedItem(
        data.article(c.page) as NonNullable<ReturnType<ServingData["article"]>>,
        rankScore(rank),
        c.reason,
        c.relatedTo,
      ),
    );
  }
}
