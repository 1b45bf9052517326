/**
 * The training task, as ECS (or the local task runner) starts it on "Snapshot Ready": the snapshot
 * arrives in the container-override variables (GPLAY_SNAPSHOT_BUCKET / _MANIFEST_KEY / _ID); without
 * them the `latest` pointer of the environment's processed bucket is used. Exit code 0 on success
 * (promoted or not), 1 on failure.
 */
import {
  createLogger,
  createMetrics,
  isAppError,
  loggerMetricsSink,
  parseEnv,
  SNAPSHOT_OVERRIDE_VARS,
} from "@gplay/common";
import { runTrainingJob } from "./app/run-job.js";
import { trainingEnvSchema } from "./env.js";
import { createTrainingApp, SERVICE, VERSION } from "./wiring.js";

async function main(): Promise<void> {
  const env = parseEnv(trainingEnvSchema, process.env);
  const app = await createTrainingApp(env);
  const started = Date.now();
  try {
    const outcome = await runTrainingJob(
      app.deps,
      { bucket: app.bucket, manifestKey: env[SNAPSHOT_OVERRIDE_VARS.manifestKey] },
      app.config,
    );
    createMetrics(
      { service: SERVICE, environment: env.GPLAY_ENVIRONMENT },
      loggerMetricsSink(app.logger),
    ).emit({
      trainingDuration: (Date.now() - started) / 1000,
      trainingNdcg10: outcome.evaluation.model.all.ndcg10,
      trainingPromoted: outcome.promoted ? 1 : 0,
    });
  } finally {
    app.close();
  }
}

main().catch((error: unknown) => {
  const logger = createLogger({ service: SERVICE, version: VERSION });
  // Counted even when the configuration itself was invalid: the TrainingFailures alarm watches this.
  createMetrics(
    { service: SERVICE, environment: process.env.GPLAY_ENVIRONMENT ?? "local" },
    loggerMetricsSink(logger),
  ).emit({ trainingFailures: 1 });
  logger.error(
    {
      err: error,
      code: isAppError(error) ? error.code : "INTERNAL",
      message: error instanceof Error ? error.message : String(error),
    },
    "training task failed",
  );
  process.exitCode = 1;
});
