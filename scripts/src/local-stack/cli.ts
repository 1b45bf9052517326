/**
 * `pnpm stack up|down|status|env|provision|destroy|runner|release` — the local stack's CLI.
 *
 *   up [--started-by cli|jest] [--lease <pid>] [--json]   start or reuse moto + MLflow
 *   down [--force]                                        stop them, leave no process behind (refuses
 *                                                         while a jest run holds a lease, unless --force)
 *   status [--json]                                       what runs where; exit 1 if not healthy
 *   env [--export]                                        the variables of .local/stack/stack.env
 *   provision --prefix <p> [--json]                       create the local twin of an environment
 *   destroy --prefix <p>                                  remove it
 *   runner --prefix <p> [--queue ingest|training|<name>] [--max-attempts 3] [--backoff 2] [-- <command…>]
 *                                                        run tasks from the rule's queue until Ctrl-C
 *   release --lease <pid>                                 drop a jest run's lease (stops a jest-started stack)
 */
import { parseArgs } from "node:util";
import { createLogger, isAppError } from "@gplay/common";
import { destroyEnvironment, provisionEnvironment } from "./provision.js";
import {
  acquireLease,
  ensureLocalStack,
  liveLeases,
  readLocalStack,
  readStackState,
  releaseLease,
  stackEnvironment,
  stackHealth,
  stopLocalStack,
} from "./stack.js";
import { LocalTaskRunner, TASK_KINDS, type TaskKind } from "./task-runner.js";

const USAGE = "usage: pnpm stack up|down|status|env|provision|destroy|runner|release [options] (see cli.ts)";
const say = (msg: string) => console.error(`[stack] ${msg}`);

function splitCommand(argv: string[]): { own: string[]; command: string[] } {
  const dash = argv.indexOf("--");
  return dash < 0 ? { own: argv, command: [] } : { own: argv.slice(0, dash), command: argv.slice(dash + 1) };
}

async function main(argv: string[]): Promise<number> {
  // The SDK's documented opt-out of its "Node 20 support ends in 2027" warning on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const [verb, ...rest] = argv;
  const { own, command } = splitCommand(rest);
  const { values } = parseArgs({
    args: own,
    options: {
      json: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      export: { type: "boolean", default: false },
      "started-by": { type: "string", default: "cli" },
      lease: { type: "string" },
      prefix: { type: "string" },
      queue: { type: "string", default: "ingest" },
      "max-attempts": { type: "string", default: "3" },
      backoff: { type: "string", default: "2" },
    },
    allowPositionals: false,
  });

  switch (verb) {
    case "up": {
      const started = Date.now();
      const { endpoints, startedHere } = await ensureLocalStack({
        log: say,
        startedBy: values["started-by"],
      });
      if (values.lease !== undefined) await acquireLease(Number.parseInt(values.lease, 10));
      const seconds = (Date.now() - started) / 1000;
      if (values.json) console.log(JSON.stringify({ endpoints, startedHere, seconds }));
      else
        say(
          `${startedHere ? "started" : "reused"} in ${seconds.toFixed(1)} s: aws ${endpoints.awsEndpoint}, mlflow ${endpoints.mlflowUrl}`,
        );
      return 0;
    }
    case "down": {
      const holders = await liveLeases();
      if (holders.length > 0 && !values.force) {
        say(
          `not stopping: test runs (pids ${holders.join(", ")}) are using the stack; use --force to stop anyway`,
        );
        return 1;
      }
      await stopLocalStack();
      say("stopped");
      return 0;
    }
    case "release": {
      if (values.lease === undefined) throw new Error("release needs --lease <pid>");
      const stopped = await releaseLease(Number.parseInt(values.lease, 10));
      console.log(JSON.stringify({ stopped }));
      return 0;
    }
    case "status": {
      const state = await readStackState();
      if (state === undefined) {
        if (values.json) console.log(JSON.stringify({ running: false }));
        else say("not running");
        return 1;
      }
      const health = await stackHealth(state);
      const healthy = health.moto.healthy && health.mlflow.healthy;
      if (values.json) console.log(JSON.stringify({ running: true, healthy, health, state }, null, 2));
      else {
        for (const [name, service] of Object.entries(state.services)) {
          const h = health[name as keyof typeof health];
          say(
            `${name.padEnd(6)} pid ${service.pid} ${service.url} ${h.healthy ? "healthy" : h.running ? "UNHEALTHY" : "NOT RUNNING"} (log ${service.logFile})`,
          );
        }
      }
      return healthy ? 0 : 1;
    }
    case "env": {
      const endpoints = await readLocalStack();
      for (const [k, v] of Object.entries(stackEnvironment(endpoints)))
        console.log(`${values.export ? "export " : ""}${k}=${v}`);
      return 0;
    }
    case "provision": {
      if (values.prefix === undefined) throw new Error("provision needs --prefix <prefix>");
      const environment = await provisionEnvironment(await readLocalStack(), values.prefix);
      if (values.json) console.log(JSON.stringify(environment, null, 2));
      else say(`provisioned ${values.prefix}: buckets ${Object.values(environment.buckets).join(", ")}`);
      return 0;
    }
    case "destroy": {
      if (values.prefix === undefined) throw new Error("destroy needs --prefix <prefix>");
      await destroyEnvironment(await readLocalStack(), values.prefix);
      say(`destroyed ${values.prefix}`);
      return 0;
    }
    case "runner": {
      if (values.prefix === undefined) throw new Error("runner needs --prefix <prefix>");
      const prefix = values.prefix;
      const queue = values.queue;
      const kind: TaskKind | undefined =
        queue === "ingest" || queue === `${prefix}-ingest-tasks`
          ? "ingest"
          : queue === "training" || queue === `${prefix}-training-tasks`
            ? "training"
            : undefined;
      if (kind === undefined)
        throw new Error(
          `unknown --queue ${queue}: ingest, training, ${prefix}-ingest-tasks or ${prefix}-training-tasks`,
        );
      const endpoints = await readLocalStack();
      const environment = await provisionEnvironment(endpoints, prefix);
      const runner = LocalTaskRunner.forEnvironment(kind, endpoints, environment, {
        command: command.length > 0 ? command : TASK_KINDS[kind].defaultCommand,
        maxAttempts: Number.parseInt(values["max-attempts"], 10),
        backoffSeconds: Number.parseFloat(values.backoff),
        logger: createLogger({ service: "local-task-runner", version: "0.1.0", level: "info" }),
      });
      runner.start();
      say(`runner polling ${environment.queues[TASK_KINDS[kind].queue].name}; Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await runner.stop();
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `[stack] ${isAppError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error)}`,
    );
    process.exitCode = 1;
  },
);
