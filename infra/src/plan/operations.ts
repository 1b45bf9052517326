/**
 * What keeps the platform running, as data: the EventBridge patterns that see a task die, the
 * engine's `recover` and `erase --pending` runs, training's online `decide`, and the rule that makes
 * MLflow pick up a rotated database password. Pure; components serialise these and the invariants (invariants/operations.ts) compare against them.
 */

/** Where ECS Exec sessions are logged (the cluster's executeCommandConfiguration). */
export const ecsExecLogGroupName = (prefix: string) => `/gplay/${prefix}/ecs-exec`;

/** The engine's recovery command (featstore-engine/src/main.ts `recover`), as a container override. */
export const RECOVER_COMMAND = ["node", "dist/main.js", "recover"] as const;

/**
 * How often `recover` runs without a failure event. It re-runs ingestions `started` longer ago than
 * the engine's GPLAY_INGEST_TIME_LIMIT_S (1 h by default), so a task killed early (out of memory,
 * spot of bad luck) is picked up at most this long after its limit has passed.
 */
export const RECOVER_SCHEDULE = "rate(1 hour)";

/**
 * The engine's erasure command (featstore-engine/src/main.ts `erase`): finishes every ledger entry the
 * api's `POST /admin/erasures` left `requested` (docs/privacy.md).
 */
export const ERASE_PENDING_COMMAND = ["node", "dist/main.js", "erase", "--pending"] as const;

/**
 * How often `erase --pending` runs: a reader erased through the api is out of the lake (raw files,
 * partitions, impression log, MLflow's text artifacts) at most this long after the request. A run
 * with nothing `requested` reads the ledger and stops.
 */
export const ERASE_SCHEDULE = "rate(1 hour)";

/**
 * Training's online decision (training/src/cli.ts `decide`, docs/online.md): `@challenger` against
 * `@champion` on the impression log. The image runs the compiled CLI beside `dist/main.js`.
 */
export const DECIDE_COMMAND = ["node", "dist/cli.js", "decide"] as const;

/** The container overrides of a scheduled or event-driven run of one command in one container. */
export function commandInput(
  containerName: string,
  command: readonly string[],
): { containerOverrides: { name: string; command: string[] }[] } {
  return { containerOverrides: [{ name: containerName, command: [...command] }] };
}

/**
 * "ECS Task State Change" for a task of this cluster that stopped after failing: an essential
 * container exited non-zero (out of memory, killed, crashed), or the task never started (image pull,
 * secret fetch). Tasks stopped by a deployment or scale-in exit 0 and do not match.
 */
export function taskFailedPattern(clusterArn: string, startedBy?: string) {
  return {
    source: ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    detail: {
      clusterArn: [clusterArn],
      lastStatus: ["STOPPED"],
      ...(startedBy !== undefined && { startedBy: [{ prefix: startedBy.slice(0, STARTED_BY_MAX) }] }),
      $or: [{ containers: { exitCode: [{ "anything-but": 0 }] } }, { stopCode: ["TaskFailedToStart"] }],
    },
  };
}

/** `arn:aws:events:<region>:<account>:rule/<prefix>-*`, from the ARN of one of the platform's rules. */
export const platformRulesArnPattern = (ruleArn: string, namePrefix: string) =>
  ruleArn.replace(/:rule\/.*$/, `:rule/${namePrefix}-*`);

/** ECS keeps at most this many characters of `startedBy`: the pattern matches on that prefix. */
const STARTED_BY_MAX = 36;

/** ECS sets `startedBy` of a task an EventBridge rule runs to `events-rule/<rule name>`. */
export const startedByRule = (ruleName: string) => `events-rule/${ruleName}`;

/** The readable alert a failed task sends to the alarm topic (an input transformer). */
export const TASK_FAILED_ALERT = {
  inputPathsMap: {
    group: "$.detail.group",
    task: "$.detail.taskArn",
    stopCode: "$.detail.stopCode",
    reason: "$.detail.stoppedReason",
  },
  inputTemplate:
    '"ECS task <task> of <group> stopped after failing (<stopCode>): <reason>. Its logs are in the workload\'s log group (docs/security.md)."',
} as const;

/**
 * Secrets Manager events (recorded by CloudTrail) after which a secret holds a new current value:
 * a rotation, a new value put, or a version stage moved.
 */
export const SECRET_CHANGE_EVENTS = [
  "RotationSucceeded",
  "PutSecretValue",
  "UpdateSecretVersionStage",
] as const;

export function secretChangedPattern(secretArn: string) {
  return {
    source: ["aws.secretsmanager"],
    "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
    detail: {
      eventName: [...SECRET_CHANGE_EVENTS],
      $or: [
        { requestParameters: { secretId: [secretArn] } },
        { additionalEventData: { SecretId: [secretArn] } },
      ],
    },
  };
}

/** MLflow's own database user (mlflow/server/bootstrap_db.py creates it; never the RDS master). */
export const MLFLOW_DB_APP_USER = "mlflow_app";

/**
 * The bootstrap of that user, in the MLflow image (mlflow/Dockerfile copies the script there), as
 * the task's entrypoint (the image's own starts the server).
 */
export const MLFLOW_DB_BOOTSTRAP_COMMAND = ["python", "/app/bootstrap_db.py"] as const;

export interface RotationRunbookArgs {
  clusterArn: string;
  serviceName: string;
  bootstrapTaskDefinitionArn: string;
  subnetIds: string[];
  securityGroupIds: string[];
}

/**
 * The SSM Automation runbook the secret-change rule starts: run the bootstrap task (it sets the new
 * password in PostgreSQL), wait for it to stop, require exit code 0, then force a new deployment of
 * MLflow so its tasks start with the new secret (ECS reads secrets only when a task starts).
 */
export function mlflowDbRotationRunbook(a: RotationRunbookArgs) {
  const tasks = ["{{ applyPassword.taskArn }}"];
  return {
    schemaVersion: "0.3",
    description: "Apply MLflow's rotated database password, then restart MLflow's tasks with it",
    assumeRole: "{{ AutomationAssumeRole }}",
    parameters: { AutomationAssumeRole: { type: "String", description: "The automation role" } },
    mainSteps: [
      {
        name: "applyPassword",
        action: "aws:executeAwsApi",
        inputs: {
          Service: "ecs",
          Api: "RunTask",
          cluster: a.clusterArn,
          taskDefinition: a.bootstrapTaskDefinitionArn,
          launchType: "FARGATE",
          count: 1,
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: a.subnetIds,
              securityGroups: a.securityGroupIds,
              assignPublicIp: "DISABLED",
            },
          },
        },
        outputs: [{ Name: "taskArn", Selector: "$.tasks[0].taskArn", Type: "String" }],
      },
      {
        name: "waitForPassword",
        action: "aws:waitForAwsResourceProperty",
        timeoutSeconds: 900,
        inputs: {
          Service: "ecs",
          Api: "DescribeTasks",
          cluster: a.clusterArn,
          tasks,
          PropertySelector: "$.tasks[0].lastStatus",
          DesiredValues: ["STOPPED"],
        },
      },
      {
        name: "requireSuccess",
        action: "aws:assertAwsResourceProperty",
        inputs: {
          Service: "ecs",
          Api: "DescribeTasks",
          cluster: a.clusterArn,
          tasks,
          PropertySelector: "$.tasks[0].containers[0].exitCode",
          DesiredValues: ["0"],
        },
      },
      {
        name: "restartMlflow",
        action: "aws:executeAwsApi",
        inputs: {
          Service: "ecs",
          Api: "UpdateService",
          cluster: a.clusterArn,
          service: a.serviceName,
          forceNewDeployment: true,
        },
      },
    ],
  };
}

/**
 * The final snapshot's name: the base and the time the instance was created, so a replaced (or
 * re-created) instance never collides with the snapshot its predecessor left. The instance ignores
 * later changes of it, so the name stays the one of its creation.
 */
export function finalSnapshotName(base: string, createdAt: Date): string {
  return `${base}-${createdAt.toISOString().replace(/\D/g, "").slice(0, 14)}`;
}
