import type { MlflowClient } from "@gplay/mlflow";
import type { ModelFigures } from "../app/reader-view.js";

/**
 * A registered version's offline figures: the metrics of the MLflow run that produced it (the last
 * value of each). Versions never change their run, so each is read once.
 */
export class MlflowModelFigures implements ModelFigures {
  readonly #cache = new Map<
    string,
    Promise<{ runId: string; metrics: Record<string, number> } | undefined>
  >();

  constructor(
    private readonly client: MlflowClient,
    private readonly modelName: string,
  ) {}

  figures(version: string): Promise<{ runId: string; metrics: Record<string, number> } | undefined> {
    let cached = this.#cache.get(version);
    if (cached === undefined) {
      cached = this.#read(version);
      // A failure is not cached: the next page view asks again.
      cached.catch(() => this.#cache.delete(version));
      this.#cache.set(version, cached);
    }
    return cached;
  }

  async #read(version: string): Promise<{ runId: string; metrics: Record<string, number> } | undefined> {
    const modelVersion = await this.client.getModelVersion(this.modelName, version);
    if (modelVersion.run_id === undefined || modelVersion.run_id === "") return undefined;
    const run = await this.client.getRun(modelVersion.run_id);
    const latest = new Map<string, { value: number; step: number; timestamp: number }>();
    for (const m of run.data.metrics) {
      const seen = latest.get(m.key);
      if (seen === undefined || m.step > seen.step || (m.step === seen.step && m.timestamp >= seen.timestamp))
        latest.set(m.key, { value: m.value, step: m.step, timestamp: m.timestamp });
    }
    return {
      runId: modelVersion.run_id,
      metrics: Object.fromEntries(
        [...latest].map(([k, v]) => [k, v.value]).sort(([a], [b]) => String(a).localeCompare(String(b))),
      ),
    };
  }
}
