import {
  type ColdstartResponse,
  decodeInteractionLog,
  type Logger,
  type PredictResponse,
  type UserItem,
} from "@gplay/common";
import type { ArticleMeta } from "../domain/articles.js";
import type { ModelProvider } from "./ports.js";

/** The offline figures of a registered model version: the metrics of the training run behind it. */
export interface ModelFigures {
  /** Undefined when the version has no run (or the run no metrics). */
  figures(version: string): Promise<{ runId: string; metrics: Record<string, number> } | undefined>;
}

/** What the reader view needs of the recommender: the same calls `/predict` and `/coldstart` make. */
export interface ViewRecommender {
  readUser(userId: string): Promise<UserItem | undefined>;
  /** A debugging view: its lists are not served to a reader, so they carry no impression id. */
  predict(request: { userId: string; k: number }): Promise<Omit<PredictResponse, "impressionId">>;
  coldstart(request: { k: number }): Promise<Omit<ColdstartResponse, "impressionId">>;
}

export interface RecentRead {
  page: string;
  readAt: number;
  /** Undefined when the article is not in the catalogue the api holds. */
  article: Pick<ArticleMeta, "title" | "url" | "section" | "region"> | undefined;
}

export interface ReaderViewModel {
  userId: string | undefined;
  /** False for a reader the feature store does not know (answered from cold start). */
  known: boolean;
  recentReads: RecentRead[];
  recommendations: Omit<PredictResponse, "impressionId"> | undefined;
  coldstart: Omit<ColdstartResponse, "impressionId">;
  /** The live model and its offline figures; null when no model is served. */
  model: { version: string; runId?: string; metrics: Record<string, number>; unavailable?: string } | null;
}

export interface ReaderViewOptions {
  recentReads: number;
  k: number;
}

/**
 * The reader view (a page for people, off unless GPLAY_READER_VIEW): a reader's recent reads beside
 * what `/predict` answers them, the cold-start list, and the served model's offline figures. It reads
 * only, through the same recommender as the routes, so the page shows exactly what clients get.
 */
export class ReaderView {
  constructor(
    private readonly deps: {
      recommender: ViewRecommender;
      article: (page: string) => ArticleMeta | undefined;
      model: ModelProvider;
      figures?: ModelFigures;
      logger?: Logger;
    },
    private readonly options: ReaderViewOptions = { recentReads: 10, k: 10 },
  ) {}

  async view(userId: string | undefined): Promise<ReaderViewModel> {
    const { recommender } = this.deps;
    const [user, recommendations, coldstart, model] = await Promise.all([
      userId === undefined ? undefined : recommender.readUser(userId),
      userId === undefined ? undefined : recommender.predict({ userId, k: this.options.k }),
      recommender.coldstart({ k: this.options.k }),
      this.#model(),
    ]);
    const recentReads =
      user === undefined
        ? []
        : decodeInteractionLog(user.log)
            .sort((a, b) => b.timestamp - a.timestamp)
            .slice(0, this.options.recentReads)
            .map((i) => ({ page: i.page, readAt: i.timestamp, article: this.deps.article(i.page) }));
    return { userId, known: user !== undefined, recentReads, recommendations, coldstart, model };
  }

  async #model(): Promise<ReaderViewModel["model"]> {
    const state = this.deps.model.current();
    if (state.status !== "ready") return null;
    const version = state.ranker.modelVersion;
    if (this.deps.figures === undefined) return { version, metrics: {}, unavailable: "no model registry" };
    try {
      const figures = await this.deps.figures.figures(version);
      return figures === undefined
        ? { version, metrics: {}, unavailable: "the version has no training run" }
        : { version, ...figures };
    } catch (error) {
      // The page still shows the reader; it says why the figures are missing.
      this.deps.logger?.warn({ err: error, version }, "could not read the model's offline figures");
      return { version, metrics: {}, unavailable: "the registry did not answer" };
    }
  }
}
