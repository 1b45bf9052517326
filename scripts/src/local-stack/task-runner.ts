import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import {
  AppError,
  type AwsClients,
  applyInputTransformer,
  CONTAINER_NAMES,
  containerOverridesSchema,
  createLogger,
  ENGINE_NODE_ARGS,
  type InputTransformer,
  type Logger,
  overridesToEnvironment,
  rawObjectInputTransformer,
  snapshotReadyInputTransformer,
} from "@gplay/common";
import { normaliseEmulatorEvent } from "./emulator-quirks.js";
import { stackPaths } from "./paths.js";
import { sleep } from "./processes.js";
import type { ProvisionedEnvironment } from "./provision.js";
import { type LocalStackEndpoints, stackEnvironment } from "./stack.js";
import { localAwsClients } from "./test-support.js";

/** The two kinds of task EventBridge starts in AWS, and what the runner needs to imitate each. */
export const TASK_KINDS = {
  ingest: {
    transformer: rawObjectInputTransformer,
    container: CONTAINER_NAMES.featstoreEngine,
    queue: "ingest",
    dlq: "ingestDlq",
    // Under the heap settings the engine's ECS task runs with (common's engine-runtime.ts).
    defaultCommand: [
      "node",
      ...ENGINE_NODE_ARGS,
      "--conditions=@gplay/source",
      "--import",
      "tsx",
      "featstore-engine/src/main.ts",
    ],
  },
  training: {
    transformer: snapshotReadyInputTransformer,
    container: CONTAINER_NAMES.training,
    queue: "training",
    dlq: "trainingDlq",
    defaultCommand: ["node", "--conditions=@gplay/source", "--import", "tsx", "training/src/main.ts"],
  },
} as const satisfies Record<
  string,
  {
    transformer: InputTransformer;
    container: string;
    queue: keyof ProvisionedEnvironment["queues"];
    dlq: keyof ProvisionedEnvironment["queues"];
    defaultCommand: readonly string[];
  }
>;
export type TaskKind = keyof typeof TASK_KINDS;

export interface LocalTaskRunnerOptions {
  endpoints: LocalStackEndpoints;
  /** The SQS stand-in for RunTask that the EventBridge rule targets. */
  queueUrl: string;
  /** Where a task that failed `maxAttempts` times (or an unusable event) goes. */
  dlqUrl: string;
  /** Applied to each event, exactly as the rule's ECS target would. */
  transformer: InputTransformer;
  /** The container whose overrides become the command's environment. */
  container: string;
  /** Program and arguments, like the container's command. */
  command: readonly string[];
  /** Working directory of the command; the repository root by default. */
  cwd?: string;
  /** Extra variables for every task (e.g. table names), under the overrides. */
  env?: Record<string, string>;
  /** The environment the command starts from (PATH, HOME…); `process.env` by default. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Attempts per message before it goes to the DLQ (default 3). */
  maxAttempts?: number;
  /** Backoff before retry n is `backoffSeconds * 2^(n-1)` seconds (default 2; 0 retries at once). */
  backoffSeconds?: number;
  /** SQS long-poll wait (default 10 s; `stop()` interrupts it). */
  waitTimeSeconds?: number;
  /** A task running longer is killed and counts as failed (default 30 min). */
  taskTimeoutMs?: number;
  /** Appended with every task's stdout/stderr; `.local/stack/tasks/<container>.log` by default. */
  taskLogFile?: string;
  logger?: Logger;
}

export type TaskOutcome = "succeeded" | "retrying" | "dead-lettered";

export interface TaskResult {
  messageId: string;
  attempt: number;
  outcome: TaskOutcome;
  /** The override variables the task received (empty for an unusable event). */
  overrides: Record<string, string>;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Why it failed: exit status and the end of stderr, or the validation error. */
  error?: string;
}

interface TaskExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  timedOut: boolean;
}

const STDERR_TAIL_BYTES = 2_000;
/** The SQS maximum. */
const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The local stand-in for "EventBridge → ECS RunTask": long-polls the rule's SQS queue, turns each
 * event into container overrides with common's input transformer, validates them, and starts the
 * configured command with the overrides as its environment (plus the stack's variables).
 * Exit 0 deletes the message; a failure makes it visible again after a backoff (the attempt count is
 * SQS's receive count, so retries survive a runner restart); after `maxAttempts` it is sent to the
 * DLQ and deleted.
 */
export class LocalTaskRunner {
  private readonly options: Required<
    Omit<LocalTaskRunnerOptions, "cwd" | "env" | "baseEnv" | "logger" | "taskLogFile">
  >;
  private readonly cwd: string;
  private readonly extraEnv: Record<string, string>;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly logger: Logger;
  private readonly taskLogFile: string;
  private clients: AwsClients | undefined;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private running: ChildProcess | undefined;
  private taskLog: WriteStream | undefined;
  private readonly listeners = new Set<(result: TaskResult) => void>();
  /** Every task outcome so far, oldest first. */
  readonly results: TaskResult[] = [];

  constructor(options: LocalTaskRunnerOptions) {
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new AppError("VALIDATION_FAILED", `maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    if (options.command.length === 0) throw new AppError("VALIDATION_FAILED", "The task command is empty.");
    this.options = {
      endpoints: options.endpoints,
      queueUrl: options.queueUrl,
      dlqUrl: options.dlqUrl,
      transformer: options.transformer,
      container: options.container,
      command: options.command,
      maxAttempts,
      backoffSeconds: options.backoffSeconds ?? 2,
      waitTimeSeconds: Math.min(20, Math.max(0, options.waitTimeSeconds ?? 10)),
      taskTimeoutMs: options.taskTimeoutMs ?? 30 * 60_000,
    };
    const paths = stackPaths();
    this.cwd = options.cwd ?? paths.repoRoot;
    this.extraEnv = options.env ?? {};
    this.baseEnv = options.baseEnv ?? process.env;
    this.taskLogFile =
      options.taskLogFile ?? join(options.endpoints.stateDir, "tasks", `${options.container}.log`);
    this.logger = (options.logger ?? createLogger({ service: "local-task-runner", version: "0.1.0" })).child({
      queue: options.queueUrl.split("/").pop(),
      container: options.container,
    });
  }

  /**
   * A runner for one provisioned environment's ingest or training queue. Tasks also get
   * `GPLAY_PREFIX` (the environment's prefix), as the ECS task definitions set it.
   */
  static forEnvironment(
    kind: TaskKind,
    endpoints: LocalStackEndpoints,
    environment: ProvisionedEnvironment,
    options: Partial<
      Omit<LocalTaskRunnerOptions, "endpoints" | "queueUrl" | "dlqUrl" | "transformer" | "container">
    > = {},
  ): LocalTaskRunner {
    const spec = TASK_KINDS[kind];
    return new LocalTaskRunner({
      command: spec.defaultCommand,
      ...options,
      // What the task definition sets statically in AWS: the environment's resource prefix.
      env: { GPLAY_PREFIX: environment.prefix, ...options.env },
      endpoints,
      queueUrl: environment.queues[spec.queue].url,
      dlqUrl: environment.queues[spec.dlq].url,
      transformer: spec.transformer,
      container: spec.container,
    });
  }

  get started(): boolean {
    return this.loop !== undefined;
  }

  /** Starts polling in the background; returns at once. */
  start(): void {
    if (this.loop !== undefined) return;
    this.clients = localAwsClients(this.options.endpoints);
    this.abort = new AbortController();
    mkdirSync(join(this.taskLogFile, ".."), { recursive: true });
    this.taskLog = createWriteStream(this.taskLogFile, { flags: "a" });
    this.logger.info({ command: this.options.command }, "task runner started");
    this.loop = this.pollLoop(this.abort.signal);
  }

  /**
   * Stops polling. A running task may finish within `graceMs`; after that it is terminated (its
   * message then reappears later, as with a stopped ECS task).
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.loop === undefined) return;
    this.abort?.abort();
    const child = this.running;
    if (child !== undefined) {
      const timer = setTimeout(() => killGroup(child, "SIGTERM"), graceMs);
      await this.loop;
      clearTimeout(timer);
    } else {
      await this.loop;
    }
    this.loop = undefined;
    this.clients?.destroy();
    this.clients = undefined;
    await new Promise<void>((resolve) =>
      this.taskLog === undefined ? resolve() : this.taskLog.end(resolve),
    );
    this.taskLog = undefined;
    this.logger.info("task runner stopped");
  }

  /** Calls `listener` with every task outcome from now on; returns an unsubscribe function. */
  onResult(listener: (result: TaskResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first outcome (past or future) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (result: TaskResult) => boolean, timeoutMs = 60_000): Promise<TaskResult> {
    const past = this.results.find(predicate);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new AppError("TIMEOUT", `No matching task outcome within ${timeoutMs} ms.`));
      }, timeoutMs);
      const unsubscribe = this.onResult((result) => {
        if (!predicate(result)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(result);
      });
    });
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pollOnce(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.logger.error({ err: error }, "polling the task queue failed; retrying in 1 s");
        await sleep(1_000);
      }
    }
  }

  private async pollOnce(signal: AbortSignal): Promise<void> {
    const sqs = this.sqs();
    const visibility = Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(this.options.taskTimeoutMs / 1000) + 60);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: this.options.waitTimeSeconds,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
      { abortSignal: signal },
    );
    for (const message of received.Messages ?? []) {
      await this.handle(message);
    }
  }

  private sqs() {
    if (this.clients === undefined) throw new AppError("INTERNAL", "The task runner is not started.");
    return this.clients.sqs;
  }

  private async handle(message: Message): Promise<void> {
    const messageId = message.MessageId ?? "unknown";
    const attempt = Number.parseInt(message.Attributes?.ApproximateReceiveCount ?? "1", 10) || 1;
    const log = this.logger.child({ messageId, attempt });
    const started = Date.now();

    let overrides: Record<string, string>;
    try {
      overrides = this.overridesOf(message.Body ?? "", messageId);
    } catch (error) {
      // An event the transformer cannot turn into valid overrides never will: no retries.
      const reason = error instanceof Error ? error.message : String(error);
      log.error({ reason }, "unusable event: moved to the DLQ without running a task");
      await this.deadLetter(message, attempt, `invalid event: ${reason}`);
      this.record({
        messageId,
        attempt,
        outcome: "dead-lettered",
        overrides: {},
        exitCode: null,
        signal: null,
        durationMs: 0,
        error: reason,
      });
      return;
    }

    log.info({ overrides }, "starting task");
    const exit = await this.runTask(overrides, messageId, attempt);
    const durationMs = Date.now() - started;
    const base = { messageId, attempt, overrides, exitCode: exit.exitCode, signal: exit.signal, durationMs };
    if (exit.exitCode === 0) {
      await this.sqs().send(
        new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      log.info({ durationMs }, "task succeeded");
      this.record({ ...base, outcome: "succeeded" });
      return;
    }
    const error = describeFailure(exit);
    if (attempt >= this.options.maxAttempts) {
      await this.deadLetter(message, attempt, error);
      log.error({ error, durationMs }, `task failed ${attempt} time(s): moved to the DLQ`);
      this.record({ ...base, outcome: "dead-lettered", error });
      return;
    }
    const backoff = Math.min(MAX_VISIBILITY_SECONDS, this.options.backoffSeconds * 2 ** (attempt - 1));
    await this.sqs().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: Math.round(backoff),
      }),
    );
    log.warn({ error, backoffSeconds: backoff }, "task failed: will retry");
    this.record({ ...base, outcome: "retrying", error });
  }

  /** Event → transformer → validated overrides → the container's environment variables. */
  private overridesOf(body: string, messageId: string): Record<string, string> {
    const event = normaliseEmulatorEvent(JSON.parse(body), messageId);
    const transformed: unknown = JSON.parse(applyInputTransformer(this.options.transformer, event));
    const parsed = containerOverridesSchema.safeParse(transformed);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
      throw new AppError("VALIDATION_FAILED", `container overrides are invalid: ${problems.join("; ")}`);
    }
    return overridesToEnvironment(parsed.data, this.options.container);
  }

  private async deadLetter(message: Message, attempt: number, reason: string): Promise<void> {
    await this.sqs().send(
      new SendMessageCommand({
        QueueUrl: this.options.dlqUrl,
        MessageBody: message.Body ?? "",
        MessageAttributes: {
          attempts: { DataType: "Number", StringValue: String(attempt) },
          reason: { DataType: "String", StringValue: reason.slice(0, 1_000) || "unknown" },
          sourceMessageId: { DataType: "String", StringValue: message.MessageId ?? "unknown" },
        },
      }),
    );
    await this.sqs().send(
      new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }

  private runTask(overrides: Record<string, string>, messageId: string, attempt: number): Promise<TaskExit> {
    const [program, ...args] = this.options.command;
    const env = {
      ...this.baseEnv,
      ...stackEnvironment(this.options.endpoints),
      ...this.extraEnv,
      ...overrides,
    };
    this.taskLog?.write(`\n=== ${new Date().toISOString()} message ${messageId} attempt ${attempt}\n`);
    return new Promise((resolve) => {
      let stderrTail = "";
      let timedOut = false;
      const child = spawn(program ?? "", args, {
        cwd: this.cwd,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      this.running = child;
      child.stdout?.on("data", (chunk: Buffer) => this.taskLog?.write(chunk));
      child.stderr?.on("data", (chunk: Buffer) => {
        this.taskLog?.write(chunk);
        stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, "SIGKILL");
      }, this.options.taskTimeoutMs);
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        this.running = undefined;
        resolve({ exitCode, signal, stderrTail, timedOut });
      };
      child.on("error", (error) => {
        stderrTail = `${stderrTail}\ncould not start ${program}: ${error.message}`;
        finish(null, null);
      });
      child.on("close", (code, signal) => finish(code, signal));
    });
  }

  private record(result: TaskResult): void {
    this.results.push(result);
    for (const listener of [...this.listeners]) listener(result);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function describeFailure(exit: TaskExit): string {
  const status = exit.timedOut
    ? "timed out"
    : exit.signal !== null
      ? `killed by ${exit.signal}`
      : exit.exitCode === null
        ? "did not start"
        : `exited with ${exit.exitCode}`;
  const tail = exit.stderrTail.trim().split("\n").slice(-5).join("\n");
  return tail.length > 0 ? `${status}: ${tail}` : status;
}
