import type { ReadyResponse } from "@gplay/common";
import type { Clock, ModelProvider } from "./ports.js";
import type { ServingData } from "./serving-data.js";

export interface ReadinessOptions {
  /** When true (the default in AWS), no model means not ready. */
  requireModel: boolean;
  /** The feature store counts as unreachable when the last successful refresh is older than this. */
  maxDataAgeMs: number;
}

/** Readiness: a model is loaded, the feature store answered recently and the task is not draining. */
export class Readiness {
  #draining = false;

  constructor(
    private readonly deps: { model: ModelProvider; data: ServingData; clock: Clock },
    private readonly options: ReadinessOptions,
  ) {}

  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  check(): ReadyResponse {
    const model = this.deps.model.current();
    const modelCheck =
      model.status === "ready"
        ? { ok: true, detail: `model version ${model.ranker.modelVersion} loaded` }
        : { ok: !this.options.requireModel, detail: `no model: ${model.reason}` };
    const status = this.deps.data.status;
    const age = status.loadedAt === undefined ? undefined : this.deps.clock.now() - status.loadedAt;
    const storeCheck =
      age === undefined
        ? {
            ok: false,
            detail: `feature store not loaded yet${status.lastError ? `: ${status.lastError}` : ""}`,
          }
        : age > this.options.maxDataAgeMs
          ? {
              ok: false,
              detail: `feature store not reached for ${Math.round(age / 1000)} s: ${status.lastError ?? "no refresh"}`,
            }
          : { ok: true, detail: `${status.articles} articles loaded ${Math.round(age / 1000)} s ago` };
    const drainCheck = this.#draining
      ? { ok: false, detail: "draining: shutting down" }
      : { ok: true, detail: "accepting traffic" };
    return {
      ready: modelCheck.ok && storeCheck.ok && drainCheck.ok,
      modelVersion: model.status === "ready" ? model.ranker.modelVersion : null,
      checks: { model: modelCheck, featureStore: storeCheck, draining: drainCheck },
    };
  }
}
