/**
 * Own data on a running local stack (docs/data.md):
 *   pnpm upload DIR --prefix P [--run-tasks] [--no-wait] [--timeout-s 900]
 *       G1 files → raw/, then the ingestion summary
 *   pnpm ingestions --prefix P [--json]   the summary of every ingestion so far
 * The environment P must exist on the stack (the demo provisions gplay-demo-<hash>; or
 * `pnpm stack provision --prefix P`), and something must run the ingest tasks: the demo,
 * `pnpm stack runner --prefix P --queue ingest`, or this command with --run-tasks (it then runs
 * them itself until its files are done; the snapshot step is left to you).
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { AppError, isAppError, lakeBucketNames, resourcePrefixSchema } from "@gplay/common";
import { silentRunnerLogger } from "../demo/progress.js";
import { provisionEnvironment } from "../local-stack/provision.js";
import { readLocalStack } from "../local-stack/stack.js";
import { LocalTaskRunner } from "../local-stack/task-runner.js";
import { localAwsClients } from "../local-stack/test-support.js";
import { formatIngestionSummary, listIngestions } from "./ingestion-summary.js";
import { uploadFolder } from "./upload-folder.js";

const USAGE =
  "usage: pnpm upload DIR --prefix P [--run-tasks] [--no-wait] [--timeout-s S] | pnpm ingestions --prefix P [--json]";

async function main(argv: string[]): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      prefix: { type: "string" },
      "no-wait": { type: "boolean", default: false },
      "timeout-s": { type: "string", default: "900" },
      json: { type: "boolean", default: false },
      "run-tasks": { type: "boolean", default: false },
    },
  });
  const [command, dir] = positionals;
  if (values.prefix === undefined || (command === "upload" && dir === undefined))
    throw new AppError("VALIDATION_FAILED", USAGE);
  const prefix = resourcePrefixSchema.parse(values.prefix);
  const endpoints = await readLocalStack();
  const clients = localAwsClients(endpoints);
  try {
    // --run-tasks needs the environment's queues: it provisions them (idempotent) before anything else.
    const environment =
      command === "upload" && values["run-tasks"] ? await provisionEnvironment(endpoints, prefix) : undefined;
    const bucket = lakeBucketNames(prefix).raw;
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
      throw new AppError(
        "NOT_FOUND",
        `no environment "${prefix}" on the local stack (bucket ${bucket} is missing): run the demo, or \`pnpm stack provision --prefix ${prefix}\``,
        { cause: error },
      );
    });
    if (command === "ingestions") {
      const rows = await listIngestions(clients, prefix);
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else for (const line of formatIngestionSummary(rows, prefix)) console.log(line);
      return 0;
    }
    if (command !== "upload") throw new AppError("VALIDATION_FAILED", USAGE);
    const timeoutS = Number(values["timeout-s"]);
    // The stand-in for "EventBridge → ECS RunTask" of this environment, while this command waits.
    const runner = environment
      ? LocalTaskRunner.forEnvironment("ingest", endpoints, environment, {
          env: { GPLAY_PREFIX: prefix, LOG_LEVEL: "warn", GPLAY_SNAPSHOT_AFTER_INGEST: "false" },
          logger: silentRunnerLogger,
          waitTimeSeconds: 1,
        })
      : undefined;
    runner?.start();
    try {
      const result = await uploadFolder(
        clients,
        prefix,
        resolve(process.env.INIT_CWD ?? ".", dir as string),
        {
          wait: !values["no-wait"],
          timeoutMs: (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 900) * 1000,
          log: (line) => console.log(line),
        },
      );
      if (runner !== undefined)
        console.log(
          `next, the snapshot step (cold-start lists, co-visitation, Snapshot Ready): eval "$(pnpm stack env --export)"; GPLAY_PREFIX=${prefix} pnpm --filter @gplay/featstore-engine ingest snapshot`,
        );
      return result.rows?.some((r) => r.status !== "succeeded") ? 1 : 0;
    } finally {
      await runner?.stop();
    }
  } finally {
    clients.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      isAppError(error)
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error),
    );
    process.exitCode = isAppError(error, "VALIDATION_FAILED") ? 2 : 1;
  },
);
