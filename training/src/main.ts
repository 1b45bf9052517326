/**
 * The training task, as ECS (or the local task runner) starts it on "Snapshot Ready": the snapshot
 * arrives in the container-override variables (GPLAY_SNAPSHOT_BUCKET / _MANIFEST_KEY / _ID); without
 * them the `latest` pointer of the environment's processed bucket is used. Exit code 0 on success
 * (promoted or not), 1 on failure.
 */
import { createLogger, isAppError, parseEnv, SNAPSHOT_OVERRIDE_VARS } from "@gplay/common";
import { runTrainingJob } from "./app/run-job.js";
import { trainingEnvSchema } from "./env.js";
import { createTrainingApp, SERVICE, VERSION } from "./wiring.js";

async function main(): Promise<void> {
  const env = parseEnv(trainingEnvSchema, process.env);
  const app = await createTrainingApp(env);
  try {
    await runTrainingJob(
      app.deps,
      { bucket: app.bucket, manifestKey: env[SNAPSHOT_OVERRIDE_VARS.manifestKey] },
      app.config,
    );
  } finally {
    app.close();
  }
}

main().catch((error: unknown) => {
  const logger = createLogger({ service: SERVICE, version: VERSION });
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
