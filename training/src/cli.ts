/**
 * Local entry point:
 *   training train [--manifest KEY]      train on a snapshot (default processed/snapshots/latest.json)
 *   training rollback --version N        move the `champion` alias (and stage Production) to version N
 * Configuration comes from the same environment variables as the task (see env.ts).
 */
import { parseArgs } from "node:util";
import { AppError, createLogger, isAppError, parseEnv } from "@gplay/common";
import { runTrainingJob } from "./app/run-job.js";
import { rollback } from "./app/train.js";
import { trainingEnvSchema } from "./env.js";
import { createTrainingApp, SERVICE, VERSION } from "./wiring.js";

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { manifest: { type: "string" }, version: { type: "string" } },
  });
  const command = positionals[0];
  if (command !== "train" && command !== "rollback")
    throw new AppError("CONFIG_INVALID", "usage: cli.ts train [--manifest KEY] | rollback --version N");
  const env = parseEnv(trainingEnvSchema, process.env);
  const app = await createTrainingApp(env);
  try {
    if (command === "train") {
      const outcome = await runTrainingJob(
        app.deps,
        { bucket: app.bucket, manifestKey: values.manifest },
        app.config,
      );
      app.logger.info({ runId: outcome.runId, version: outcome.version, promoted: outcome.promoted }, "done");
    } else {
      if (values.version === undefined || !/^\d+$/.test(values.version))
        throw new AppError("CONFIG_INVALID", "rollback needs --version N (a registered version number)");
      const { previous } = await rollback(app.registry, app.config.modelName, values.version);
      app.logger.info(
        { model: app.config.modelName, previous, champion: values.version },
        "champion rolled back",
      );
    }
  } finally {
    app.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const logger = createLogger({ service: SERVICE, version: VERSION });
  logger.error(
    {
      err: error,
      code: isAppError(error) ? error.code : "INTERNAL",
      message: error instanceof Error ? error.message : String(error),
    },
    "training command failed",
  );
  process.exitCode = 1;
});
