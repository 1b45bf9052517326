/**
 * Local entry point:
 *   training train [--manifest KEY]      train on a snapshot (default processed/snapshots/latest.json)
 *   training rollback --version N        move the `champion` alias (and stage Production) to version N
 *   training decide                      the online decision: @challenger against @champion on the clicks
 *                                        in processed/impressions (promote, stop or keep collecting)
 *   training parity --api URL --key KEY [--readers N]
 *                                        compare what the running api serves with training's offline
 *                                        lists for the champion (list agreement, NDCG@10 side by side)
 * Configuration comes from the same environment variables as the task (see env.ts).
 */
import { parseArgs } from "node:util";
import { AppError, createLogger, isAppError, parseEnv } from "@gplay/common";
import { HttpServedRecommendations } from "./adapters/http-served-recommendations.js";
import { runOnlineDecision } from "./app/decide-online.js";
import { runTrainingJob } from "./app/run-job.js";
import { compareServedWithOffline, formatParityReport } from "./app/served-parity.js";
import { CHAMPION_ALIAS, rollback } from "./app/train.js";
import { trainingEnvSchema } from "./env.js";
import { createTrainingApp, SERVICE, VERSION } from "./wiring.js";

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      version: { type: "string" },
      api: { type: "string" },
      key: { type: "string" },
      readers: { type: "string", default: "250" },
    },
  });
  const command = positionals[0];
  if (command !== "train" && command !== "rollback" && command !== "parity" && command !== "decide")
    throw new AppError(
      "CONFIG_INVALID",
      "usage: cli.ts train [--manifest KEY] | rollback --version N | parity --api URL --key KEY [--readers N] | decide",
    );
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
    } else if (command === "decide") {
      const report = await runOnlineDecision(
        { log: app.impressionLog, registry: app.registry, tracker: app.registry, logger: app.logger },
        { modelName: app.config.modelName, experimentName: app.config.experimentName },
      );
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (command === "parity") {
      if (values.api === undefined || values.key === undefined)
        throw new AppError("CONFIG_INVALID", "parity needs --api URL and --key KEY (an API key of that api)");
      const report = await compareServedWithOffline(
        { ...app.deps, registry: app.registry, api: new HttpServedRecommendations(values.api, values.key) },
        {
          bucket: app.bucket,
          modelName: app.config.modelName,
          alias: CHAMPION_ALIAS,
          readers: Number(values.readers),
          validationReaders: app.config.maxEvalReaders,
          seed: app.config.seed,
        },
      );
      process.stdout.write(formatParityReport(report));
      if (report.identical !== report.compared) process.exitCode = 1;
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
