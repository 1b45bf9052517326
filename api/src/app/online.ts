import type {
  ColdstartRequest,
  ColdstartResponse,
  Logger,
  PredictRequest,
  PredictResponse,
  ServingArm,
} from "@gplay/common";
import { armOf } from "../domain/impressions.js";
import type { ModelProvider } from "./ports.js";
import type { Recommender } from "./recommend.js";
import type { ImpressionRecorder, ServedListInput } from "./record-impressions.js";

export interface OnlineOptions {
  /** Share of readers (0..1) the challenger serves, sticky by a hash of the reader id. */
  challengerShare: number;
  /** `split`: the challenger answers its share; `shadow`: it scores every request unseen. */
  challengerMode: "split" | "shadow";
  /** Salt of the reader hash: changing it reshuffles readers between arms. */
  salt: string;
}

export interface OnlineDeps {
  recommender: Recommender;
  impressions: ImpressionRecorder;
  champion: ModelProvider;
  /** The `@challenger` version's provider (absent: the champion serves everyone). */
  challenger?: ModelProvider;
  logger?: Logger;
  now?: () => number;
}

/**
 * The online loop on the request path: picks the reader's arm (the challenger's share of readers when
 * a `@challenger` version is loaded, the champion otherwise), answers through the recommender with
 * that arm's model, and records the served list in the impression log, returning its id with the
 * response. In shadow mode the champion answers and the challenger's list is scored and recorded
 * after the response, off the request's time. Both arms' providers swap versions by one reference
 * assignment (ModelLifecycle), so a swap never fails a request.
 */
export class OnlineServing {
  constructor(
    private readonly deps: OnlineDeps,
    private readonly options: OnlineOptions,
  ) {}

  /** The arm that answers `userId` now, and its model. */
  arm(userId: string): { arm: "champion" | "challenger"; model: ModelProvider } {
    const { challenger, champion } = this.deps;
    if (
      challenger !== undefined &&
      this.options.challengerMode === "split" &&
      challenger.current().status === "ready" &&
      armOf(userId, this.options.challengerShare, this.options.salt) === "challenger"
    )
      return { arm: "challenger", model: challenger };
    return { arm: "champion", model: champion };
  }

  async predict(request: PredictRequest): Promise<PredictResponse> {
    const now = this.deps.now ?? (() => performance.now());
    const { arm, model } = this.arm(request.userId);
    const started = now();
    const response = await this.deps.recommender.predict(request, model);
    const state = model.current();
    const impressionId = this.deps.impressions.served(
      state.status === "ready"
        ? listOf(request.userId, response, arm, state.ranker.modelVersion, now() - started)
        : listOf(request.userId, response, "none", undefined, now() - started),
    );
    if (this.options.challengerMode === "shadow") this.#shadow(request);
    return { ...response, impressionId };
  }

  async coldstart(request: ColdstartRequest): Promise<ColdstartResponse> {
    const now = this.deps.now ?? (() => performance.now());
    const started = now();
    const response = await this.deps.recommender.coldstart(request);
    const impressionId = this.deps.impressions.served({
      userId: undefined,
      modelVersion: "coldstart",
      arm: "none",
      strategy: "coldstart",
      items: response.items,
      latencyMs: now() - started,
    });
    return { ...response, impressionId };
  }

  #shadow(request: PredictRequest): void {
    const challenger = this.deps.challenger;
    if (challenger === undefined || challenger.current().status !== "ready") return;
    const now = this.deps.now ?? (() => performance.now());
    setImmediate(() => {
      const started = now();
      this.deps.recommender
        .predict(request, challenger)
        .then((response) => {
          const state = challenger.current();
          const version = state.status === "ready" ? state.ranker.modelVersion : undefined;
          this.deps.impressions.shadow(
            listOf(request.userId, response, "challenger", version, now() - started),
          );
        })
        .catch((error: unknown) =>
          this.deps.logger?.warn({ event: "shadow-failed", err: error }, "shadow scoring failed"),
        );
    });
  }
}

/**
 * The impression-log view of a prediction. A model-error fallback is told apart (strategy
 * `model-error`) and kept under the failing arm's version, so the error-rate guardrail sees it.
 */
function listOf(
  userId: string,
  response: Omit<PredictResponse, "impressionId">,
  arm: ServingArm,
  armVersion: string | undefined,
  latencyMs: number,
): ServedListInput {
  const failed = response.fallback === "model-error";
  return {
    userId,
    modelVersion: response.modelVersion ?? (failed && armVersion !== undefined ? armVersion : "coldstart"),
    arm,
    strategy: failed ? "model-error" : response.strategy,
    items: response.items,
    latencyMs,
  };
}
