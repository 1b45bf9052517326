import { lakeBucketNames, processedKeys, tableNames } from "@gplay/common";
import {
  AWS_SERVICES_CALLED,
  CALLED_ON_THE_TASKS_BEHALF,
  endpointServiceOfAction,
} from "../plan/aws-services.js";
import type { Statement } from "../plan/iam.js";
import type { Workload } from "../plan/names.js";
import { WORKLOADS } from "../plan/names.js";
import {
  DECIDE_COMMAND,
  ERASE_PENDING_COMMAND,
  MLFLOW_DB_BOOTSTRAP_COMMAND,
  RECOVER_COMMAND,
  secretChangedPattern,
  startedByRule,
  taskFailedPattern,
} from "../plan/operations.js";
import { ENV } from "../plan/tasks.js";
import { type Invariant, type InvariantContext, problems, statements } from "./core.js";
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
 * `recover`, on a schedule and on the failure event); erasures the api recorded are finished (the
 * engine's `erase --pending`, on a schedule); with the online loop on, training's `decide` runs on a
 * schedule and can read the impression log; every AWS service a task calls is declared, so
 * endpoint-only egress has an endpoint for it.
 */
type R = readonly RecordedResource[];

const clusterArn = (rs: R) => ofType(rs, T.cluster)[0]?.inputs.arn as string | undefined;
const rulesWithPattern = (rs: R, pattern: unknown) =>
  ofType(rs, T.rule).filter((r) => deepEqual(json(r.inputs.eventPattern), pattern));
const scheduledRules = (rs: R) =>
  ofType(rs, T.rule).filter((r) => /^(cron|rate)\(/.test(String(r.inputs.scheduleExpression ?? "")));

/** Whether a target runs this command in a task of this family (a container override). */
function runsCommand(t: RecordedResource, fam: string, command: readonly string[]): boolean {
  const input = json(t.inputs.input) as { containerOverrides?: { command?: string[] }[] } | undefined;
  return (
    isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, fam) &&
    asArray(input?.containerOverrides).some((o) => deepEqual(o.command, [...command]))
  );
}

/** Whether one of these rules has a target that runs this command in this workload's task. */
const anyRuns = (
  rs: R,
  rules: readonly RecordedResource[],
  ctx: InvariantContext,
  w: Workload,
  command: readonly string[],
) => rules.some((r) => targetsOfRule(rs, r).some((t) => runsCommand(t, family(ctx, w), command)));

/** An IAM resource or condition pattern (`*`, `?`) as a regular expression. */
const iamPattern = (p: string) =>
  new RegExp(
    `^${p
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/** The Allow statements of a workload's task role. */
function taskRoleStatements(rs: R, ctx: InvariantContext, w: Workload): Statement[] {
  const td = taskDef(rs, ctx, w);
  return policiesOfRole(rs, roleOf(rs, td?.inputs.taskRoleArn))
    .flatMap((p) => statements(p.inputs.policy))
    .filter((st) => st.Effect === "Allow");
}

/** Whether the statements allow `action` on `resource` (and, for a listing, the `s3:prefix`). */
function allows(sts: readonly Statement[], action: string, resource: string, listPrefix?: string): boolean {
  return sts.some(
    (st) =>
      asArray(st.Action).includes(action) &&
      asArray(st.Resource).some((r) => iamPattern(r).test(resource)) &&
      (listPrefix === undefined ||
        asArray(st.Condition?.StringLike?.["s3:prefix"]).some((p) => iamPattern(p).test(listPrefix))),
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
      const onFailure = rulesWithPattern(
        rs,
        taskFailedPattern(cluster, startedByRule(`${ctx.prefix}-raw-created`)),
      );
      const recovers = (rules: RecordedResource[]) =>
        anyRuns(rs, rules, ctx, "featstoreEngine", RECOVER_COMMAND);
      const scheduled = scheduledRules(rs);
      return problems([
        [recovers(scheduled), "no schedule runs featstore-engine recover"],
        [recovers(onFailure), "no rule runs featstore-engine recover when an ingest task fails"],
      ]);
    },
  },
  {
    id: "erasure-schedule",
    description:
      "featstore-engine's erase --pending runs on a schedule (it finishes the erasures the api's admin route recorded), and the engine's task role may scan and update the erasure ledger",
    check: (rs, ctx) => {
      const ledger = ofType(rs, T.table).find((t) => t.inputs.name === tableNames(ctx.prefix).erasures);
      const sts = taskRoleStatements(rs, ctx, "featstoreEngine");
      const arn = String(ledger?.inputs.arn ?? "");
      return problems([
        [
          anyRuns(rs, scheduledRules(rs), ctx, "featstoreEngine", ERASE_PENDING_COMMAND),
          "no schedule runs featstore-engine erase --pending",
        ],
        [ledger !== undefined, "no erasure ledger table"],
        [
          ["dynamodb:Scan", "dynamodb:UpdateItem"].every((a) => allows(sts, a, arn)),
          "featstore-engine's task role may not scan and update the erasure ledger",
        ],
      ]);
    },
  },
  {
    id: "online-decision",
    description:
      "the online loop is all or nothing: training's gate sets @challenger (GPLAY_ONLINE_LOOP) exactly when a schedule runs training's decide, and then the api serves the challenger to a share of readers",
    check: (rs, ctx) => {
      const training = varsOf(rs, ctx, "training");
      const api = varsOf(rs, ctx, "api");
      if (training === undefined || api === undefined) return ["no training or api container"];
      const loop = training.environment[ENV.onlineLoop] === "true";
      const decides = anyRuns(rs, scheduledRules(rs), ctx, "training", DECIDE_COMMAND);
      const share = Number(api.environment[ENV.challengerShare] ?? 0);
      return problems([
        [!loop || decides, "training's gate sets @challenger but no schedule runs training decide"],
        [loop || !decides, "a schedule runs training decide but training's gate never sets @challenger"],
        [
          loop === share > 0,
          loop
            ? "the online loop is on but the api serves no reader the challenger (GPLAY_CHALLENGER_SHARE)"
            : "the api serves a challenger share without the online loop",
        ],
      ]);
    },
  },
  {
    id: "decision-reads-impressions",
    description:
      "training's task role may list and read the impression log (processed/impressions/, the decision job's input)",
    check: (rs, ctx) => {
      const bucket = ofType(rs, T.bucket).find(
        (b) => b.inputs.bucket === lakeBucketNames(ctx.prefix).processed,
      );
      if (bucket === undefined) return ["no processed bucket"];
      const prefix = processedKeys.partitionPrefix("impressions");
      const bucketArn = `arn:aws:s3:::${bucket.inputs.bucket}`;
      const sts = taskRoleStatements(rs, ctx, "training");
      return problems([
        [
          allows(sts, "s3:ListBucket", bucketArn, prefix),
          `training's task role may not list ${prefix} of ${bucket.inputs.bucket}`,
        ],
        [
          allows(sts, "s3:GetObject", `${bucketArn}/${prefix}part-0.parquet`),
          `training's task role may not read objects under ${prefix} of ${bucket.inputs.bucket}`,
        ],
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
