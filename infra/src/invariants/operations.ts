import {
  AWS_SERVICES_CALLED,
  CALLED_ON_THE_TASKS_BEHALF,
  endpointServiceOfAction,
} from "../plan/aws-services.js";
import { WORKLOADS } from "../plan/names.js";
import {
  MLFLOW_DB_BOOTSTRAP_COMMAND,
  RECOVER_COMMAND,
  secretChangedPattern,
  startedByRule,
  taskFailedPattern,
} from "../plan/operations.js";
import { ENV } from "../plan/tasks.js";
import { type Invariant, problems, statements } from "./core.js";
import { asArray, deepEqual, json, ofType, type RecordedResource, T } from "./resources.js";
import {
  family,
  isTaskDefArn,
  policiesOfRole,
  roleOf,
  secretArnOf,
  serviceByName,
  targetsOfRule,
  taskDef,
  varsOf,
} from "./workloads.js";

/**
 * What keeps running: failed tasks are seen (an alert) and their ingestions recovered (the engine's
 * `recover`, on a schedule and on the failure event); every AWS service a task calls is declared, so
 * endpoint-only egress has an endpoint for it.
 */
type R = readonly RecordedResource[];

const clusterArn = (rs: R) => ofType(rs, T.cluster)[0]?.inputs.arn as string | undefined;
const rulesWithPattern = (rs: R, pattern: unknown) =>
  ofType(rs, T.rule).filter((r) => deepEqual(json(r.inputs.eventPattern), pattern));

/** Whether a target runs featstore-engine's `recover` command. */
function runsRecover(t: RecordedResource, engineFamily: string): boolean {
  const input = json(t.inputs.input) as { containerOverrides?: { command?: string[] }[] } | undefined;
  return (
    isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, engineFamily) &&
    asArray(input?.containerOverrides).some((o) => deepEqual(o.command, [...RECOVER_COMMAND]))
  );
}

interface RunbookStep {
  name: string;
  action: string;
  inputs: Record<string, unknown>;
}

export const OPERATIONS_INVARIANTS: Invariant[] = [
  {
    id: "mlflow-db-rotation",
    description:
      "MLflow signs in to PostgreSQL as its own user with a platform secret (not the RDS master's, which RDS rotates); a new value of that secret starts a runbook that sets it (bootstrap_db.py) and then forces a new MLflow deployment",
    check: (rs, ctx) => {
      const v = varsOf(rs, ctx, "mlflow");
      if (v === undefined) return ["no MLflow container"];
      const masters = new Set(ofType(rs, T.db).map((db) => db.inputs.username));
      const valueFrom = v.secrets[ENV.mlflowDbPassword];
      const secret = ofType(rs, T.secret).find(
        (s) => valueFrom !== undefined && s.inputs.arn === secretArnOf(valueFrom),
      );
      const rules = secret === undefined ? [] : rulesWithPattern(rs, secretChangedPattern(secret.inputs.arn));
      const svc = serviceByName(rs, `${ctx.prefix}-mlflow`);
      const runbooks = rules
        .flatMap((r) => targetsOfRule(rs, r))
        .flatMap((t) =>
          ofType(rs, T.ssmDocument).filter(
            (d) =>
              typeof t.inputs.arn === "string" &&
              t.inputs.arn.includes(`:automation-definition/${d.inputs.name}:`),
          ),
        );
      const ordered = runbooks.some((d) => {
        const steps = asArray(
          (json(d.inputs.content) as { mainSteps?: RunbookStep[] } | undefined)?.mainSteps,
        );
        const bootstrap = steps.findIndex((s) => {
          const td = ofType(rs, T.taskDefinition).find((x) => x.inputs.arn === s.inputs.taskDefinition);
          const c =
            td === undefined
              ? undefined
              : asArray(json(td.inputs.containerDefinitions) as { entryPoint?: string[] }[])[0];
          return s.inputs.Api === "RunTask" && deepEqual(c?.entryPoint, [...MLFLOW_DB_BOOTSTRAP_COMMAND]);
        });
        const redeploy = steps.findIndex(
          (s) =>
            s.inputs.Api === "UpdateService" &&
            s.inputs.forceNewDeployment === true &&
            s.inputs.service === svc?.inputs.name,
        );
        return bootstrap >= 0 && redeploy > bootstrap;
      });
      return problems([
        [
          v.environment[ENV.mlflowDbUser] !== undefined && !masters.has(v.environment[ENV.mlflowDbUser]),
          `MLflow signs in to PostgreSQL as the RDS master user (${v.environment[ENV.mlflowDbUser]})`,
        ],
        [secret !== undefined, "MLflow's database password is not a secret the platform declares"],
        [rules.length > 0, "no rule sees a new value of MLflow's database password"],
        [
          ordered,
          "no runbook started on a new database password sets it (bootstrap_db.py) and then redeploys MLflow",
        ],
      ]);
    },
  },
  {
    id: "ecs-exec-logging",
    description:
      "ECS Exec sessions are encrypted with a key and logged to a declared, encrypted log group, which every task that allows ECS Exec may write to",
    check: (rs) => {
      const cluster = ofType(rs, T.cluster)[0];
      if (cluster === undefined) return ["no cluster"];
      const exec = cluster.inputs.configuration?.executeCommandConfiguration;
      const group = ofType(rs, T.logGroup).find(
        (g) => g.inputs.name === exec?.logConfiguration?.cloudWatchLogGroupName,
      );
      const writers = ofType(rs, T.service)
        .filter((svc) => svc.inputs.enableExecuteCommand === true)
        .map((svc) => {
          const td = ofType(rs, T.taskDefinition).find((t) => t.inputs.arn === svc.inputs.taskDefinition);
          const writes = policiesOfRole(rs, roleOf(rs, td?.inputs.taskRoleArn))
            .flatMap((p) => statements(p.inputs.policy))
            .some(
              (st) =>
                asArray(st.Action).includes("logs:PutLogEvents") &&
                asArray(st.Resource).some((r) => group !== undefined && r.startsWith(`${group.inputs.arn}:`)),
            );
          return [writes, `${svc.inputs.name}: allows ECS Exec but cannot write the session log`] as [
            boolean,
            string,
          ];
        });
      return problems([
        [exec?.logging === "OVERRIDE", "ECS Exec sessions are not logged (logging is not OVERRIDE)"],
        [typeof exec?.kmsKeyId === "string", "ECS Exec sessions are not encrypted with a key"],
        [
          group !== undefined && exec?.logConfiguration?.cloudWatchEncryptionEnabled === true,
          "ECS Exec sessions do not go to a declared log group with encryption on",
        ],
        ...writers,
      ]);
    },
  },
  {
    id: "mlflow-prod-ha",
    description: "prod runs at least 2 MLflow tasks",
    check: (rs, ctx) =>
      ctx.environment !== "prod" ||
      Number(serviceByName(rs, `${ctx.prefix}-mlflow`)?.inputs.desiredCount) >= 2
        ? []
        : ["prod MLflow desiredCount < 2"],
  },
  {
    id: "task-failure-alert",
    description:
      "an EventBridge rule sees every task of the cluster that stops after failing (non-zero exit, or never started) and alerts the topic the alarms notify",
    check: (rs) => {
      const cluster = clusterArn(rs);
      if (cluster === undefined) return ["no cluster"];
      const alarmTopics = new Set(ofType(rs, T.alarm).flatMap((a) => asArray(a.inputs.alarmActions)));
      const topics = new Set(ofType(rs, T.topic).map((t) => t.inputs.arn));
      const alerting = rulesWithPattern(rs, taskFailedPattern(cluster)).filter((r) =>
        targetsOfRule(rs, r).some((t) => topics.has(t.inputs.arn) && alarmTopics.has(t.inputs.arn)),
      );
      return alerting.length > 0
        ? []
        : ["no rule on ECS Task State Change STOPPED with a failure sends to the alarm topic"];
    },
  },
  {
    id: "ingest-recovery",
    description:
      "featstore-engine's recover command runs on a schedule and when an ingest task the raw rule started stops after failing",
    check: (rs, ctx) => {
      const cluster = clusterArn(rs);
      if (cluster === undefined) return ["no cluster"];
      const engine = family(ctx, "featstoreEngine");
      const scheduled = ofType(rs, T.rule).filter((r) =>
        /^(cron|rate)\(/.test(String(r.inputs.scheduleExpression ?? "")),
      );
      const onFailure = rulesWithPattern(
        rs,
        taskFailedPattern(cluster, startedByRule(`${ctx.prefix}-raw-created`)),
      );
      const recovers = (rules: RecordedResource[]) =>
        rules.some((r) => targetsOfRule(rs, r).some((t) => runsRecover(t, engine)));
      return problems([
        [recovers(scheduled), "no schedule runs featstore-engine recover"],
        [recovers(onFailure), "no rule runs featstore-engine recover when an ingest task fails"],
      ]);
    },
  },
  {
    id: "task-aws-services",
    description:
      "every AWS service a task role or execution role may call is in plan/aws-services.ts (the list the interface endpoints come from)",
    check: (rs, ctx) =>
      WORKLOADS.flatMap((w) => {
        const td = taskDef(rs, ctx, w);
        if (td === undefined) return [`${w}: no task definition`];
        const undeclared = (roleArn: unknown, declared: readonly string[]) =>
          policiesOfRole(rs, roleOf(rs, roleArn))
            .flatMap((p) => statements(p.inputs.policy))
            .filter((s) => s.Effect === "Allow")
            .flatMap((s) => asArray(s.Action))
            .map(endpointServiceOfAction)
            .filter((svc) => !declared.includes(svc) && !CALLED_ON_THE_TASKS_BEHALF.includes(svc));
        const task = [...new Set(undeclared(td.inputs.taskRoleArn, AWS_SERVICES_CALLED[w]))];
        const agent = [...new Set(undeclared(td.inputs.executionRoleArn, AWS_SERVICES_CALLED.agent))];
        return [
          ...task.map((svc) => `${w}: its task role may call ${svc}, which AWS_SERVICES_CALLED.${w} lacks`),
          ...agent.map(
            (svc) => `${w}: its execution role may call ${svc}, which AWS_SERVICES_CALLED.agent lacks`,
          ),
        ];
      }),
  },
];
