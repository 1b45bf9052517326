/**
 * The experiment tracker and model registry over MLflow's REST API, through @gplay/mlflow.
 */
import { AppError } from "@gplay/common";
import type { MlflowClient } from "@gplay/mlflow";
import type { ExperimentTracker, MetricPoint, OnlineRegistry } from "../app/ports.js";

export class MlflowTracker implements ExperimentTracker, OnlineRegistry {
  constructor(private readonly client: MlflowClient) {}

  async startRun(experiment: string, runName: string, tags: Record<string, string>): Promise<string> {
    const experimentId = await this.client.getOrCreateExperiment(experiment);
    const run = await this.client.createRun({ experimentId, runName, tags });
    return run.info.run_id;
  }

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    await this.client.logBatch(runId, { params });
  }

  async logMetrics(runId: string, metrics: readonly MetricPoint[]): Promise<void> {
    const timestamp = Date.now();
    await this.client.logBatch(runId, {
      metrics: metrics.map((m) => ({ key: m.key, value: m.value, step: m.step ?? 0, timestamp })),
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.client.logBatch(runId, { tags });
  }

  async logDataset(
    runId: string,
    d: { name: string; digest: string; source: string; profile: string },
  ): Promise<void> {
    await this.client.logInputs(runId, [
      {
        dataset: { name: d.name, digest: d.digest, source_type: "s3", source: d.source, profile: d.profile },
        tags: { "mlflow.data.context": "training" },
      },
    ]);
  }

  async uploadDir(runId: string, localDir: string, artifactDir = ""): Promise<void> {
    await this.client.uploadArtifacts(runId, localDir, artifactDir);
  }

  async finishRun(runId: string, status: "FINISHED" | "FAILED"): Promise<void> {
    await this.client.updateRun(runId, { status });
  }

  async aliasVersion(name: string, alias: string): Promise<string | undefined> {
    try {
      return (await this.client.getModelVersionByAlias(name, alias)).version;
    } catch (error) {
      if (error instanceof AppError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  async downloadVersion(name: string, version: string, dir: string): Promise<void> {
    await this.client.downloadModel(`models:/${name}/${version}`, dir);
  }

  async registerVersion(
    name: string,
    runId: string,
    tags: Record<string, string>,
    artifactPath = "",
  ): Promise<string> {
    const mv = await this.client.registerModel(name, runId, artifactPath, {
      tags,
      description: `training run ${runId}`,
    });
    return mv.version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.setAlias(name, alias, version);
  }

  async moveProductionStage(name: string, version: string): Promise<void> {
    await this.client.transitionModelVersionStage(name, version, "Production", true);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.client.deleteAlias(name, alias);
  }

  async setVersionTags(name: string, version: string, tags: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(tags))
      await this.client.setModelVersionTag(name, version, key, value);
  }
}
