/**
 * The job: resolve the snapshot (given manifest or the `latest` pointer), load it, train, evaluate,
 * log and gate.
 */

import { loadTrainingData } from "./load-data.js";
import type { ArticleVectorSource, SnapshotReader } from "./ports.js";
import type { TrainConfig, TrainDeps, TrainOutcome } from "./train.js";
import { trainAndEvaluate } from "./train.js";

export interface JobDeps extends TrainDeps {
  snapshots: SnapshotReader;
  vectors: ArticleVectorSource;
}

export async function runTrainingJob(
  deps: JobDeps,
  source: { bucket: string; manifestKey?: string | undefined },
  config: TrainConfig,
): Promise<TrainOutcome> {
  const manifestKey = source.manifestKey ?? (await deps.snapshots.latestManifestKey(source.bucket));
  const manifest = await deps.snapshots.readManifest(source.bucket, manifestKey);
  deps.log.info({ snapshotId: manifest.snapshotId, manifestKey, totals: manifest.totals }, "snapshot");
  const data = await loadTrainingData(deps.snapshots, deps.vectors, manifest);
  return trainAndEvaluate(
    deps,
    data,
    { snapshotId: manifest.snapshotId, manifestKey, digest: manifest.digest, bucket: source.bucket },
    config,
  );
}
