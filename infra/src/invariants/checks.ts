import {
  API_EVENTS_PREFIX,
  ENGINE_MIN_TASK_MEMORY_MIB,
  ENGINE_NODE_OPTIONS,
  lakeBucketNames,
  METRIC_NAMESPACE,
  METRICS,
  rawObjectCreatedPattern,
  rawObjectInputTransformer,
  snapshotReadyInputTransformer,
  snapshotReadyPattern,
  TABLES,
  tableNames,
} from "@gplay/common";
import { auditBucketName } from "../plan/audit.js";
import { interfaceEndpointServices } from "../plan/aws-services.js";
import { WILDCARD_ACTIONS } from "../plan/iam.js";
import { resourceNames, WORKLOADS, WORKSPACE_OF, type Workload } from "../plan/names.js";
import { API_PROXY_HOPS, ENV, MIN_DRAIN_DELAY_MS, SECRET_NAME_PATTERN } from "../plan/tasks.js";
import { BUCKET_POLICY_INVARIANTS } from "./bucket-policies.js";
import { type Invariant, type InvariantContext, problems, statements } from "./core.js";
import { DELIVERY_INVARIANTS } from "./delivery.js";
import { EDGE_INVARIANTS } from "./edge.js";
import { HARDENING_INVARIANTS } from "./hardening.js";
import { WORKLOAD_IDENTITY_INVARIANTS } from "./identity.js";
import { INTERNAL_TLS_INVARIANTS } from "./internal-tls.js";
import { OPERATIONS_INVARIANTS } from "./operations.js";
import { asArray, belongsTo, deepEqual, json, ofType, type RecordedResource, T } from "./resources.js";
import { RETENTION_INVARIANTS } from "./retention.js";
import {
  containers,
  family,
  isTaskDefArn,
  policiesOfRole,
  privateSubnetIds,
  roleOf,
  ruleWithPattern,
  secretArnOf,
  serviceByName,
  targetsOfRule,
  taskDef,
  transformerEquals,
  varsOf,
} from "./workloads.js";

export type { Invariant, InvariantContext } from "./core.js";
export { secretArnOf } from "./workloads.js";

type R = readonly RecordedResource[];

function bucketsByZone(rs: R, ctx: InvariantContext) {
  const names = lakeBucketNames(ctx.prefix);
  const find = (n: string) => ofType(rs, T.bucket).find((b) => b.inputs.bucket === n);
  return { names, raw: find(names.raw), processed: find(names.processed), models: find(names.models) };
}

function forEachBucket(
  rs: R,
  ctx: InvariantContext,
  type: string,
  ok: (child: RecordedResource) => boolean,
  what: string,
) {
  const { names } = bucketsByZone(rs, ctx);
  return Object.values(names).flatMap((n) => {
    const bucket = ofType(rs, T.bucket).find((b) => b.inputs.bucket === n);
    if (bucket === undefined) return [`bucket ${n} is missing`];
    const children = ofType(rs, type).filter((c) => belongsTo(c, bucket, "bucket"));
    return children.some(ok) ? [] : [`bucket ${n} has no ${what}`];
  });
}

/**
 * The platform's invariants as pure checks over recorded resources. Each returns the violations it
 * found (empty = holds). The mock tests run them on the whole program; the policy pack runs them on
 * a stack; the mutation test removes one property at a time and expects the matching check to fail.
 * Newer areas live in their own files (edge, delivery, bucket policies) and are appended here.
 */
export const INVARIANTS: Invariant[] = [
  {
    id: "lake-buckets",
    description:
      "the three lake buckets are common's lakeBucketNames(prefix) (beside them only the audit-log bucket)",
    check: (rs, ctx) => {
      const expected = Object.values(lakeBucketNames(ctx.prefix)).sort();
      const actual = ofType(rs, T.bucket)
        .map((b) => b.inputs.bucket)
        .filter((b) => b !== auditBucketName(ctx.prefix))
        .sort();
      return deepEqual(actual, expected)
        ? []
        : [`buckets ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
    },
  },
  {
    id: "lake-sse",
    description: "every lake bucket has default SSE-KMS encryption",
    check: (rs, ctx) =>
      forEachBucket(
        rs,
        ctx,
        T.sse,
        (c) =>
          asArray(c.inputs.rules).some(
            (r) =>
              r.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms" &&
              r.applyServerSideEncryptionByDefault?.kmsMasterKeyId !== undefined,
          ),
        "SSE-KMS default encryption",
      ),
  },
  {
    id: "lake-public-access-block",
    description: "every lake bucket blocks all public access",
    check: (rs, ctx) =>
      forEachBucket(
        rs,
        ctx,
        T.pab,
        (c) =>
          ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
            (k) => c.inputs[k] === true,
          ),
        "full public access block",
      ),
  },
  {
    id: "lake-tls-only",
    description: "every lake bucket policy denies requests without TLS",
    check: (rs, ctx) =>
      forEachBucket(
        rs,
        ctx,
        T.bucketPolicy,
        (c) =>
          statements(c.inputs.policy).some(
            (s) =>
              s.Effect === "Deny" &&
              s.Condition?.Bool?.["aws:SecureTransport"] === "false" &&
              asArray(s.Resource).some((r) => r.endsWith("/*")),
          ),
        "TLS-only bucket policy",
      ),
  },
  {
    id: "lake-versioning",
    description: "raw and models buckets are versioned",
    check: (rs, ctx) => {
      const { raw, models } = bucketsByZone(rs, ctx);
      return [raw, models].flatMap((b) => {
        if (b === undefined) return ["a versioned bucket is missing"];
        const ok = ofType(rs, T.versioning).some(
          (v) => belongsTo(v, b, "bucket") && v.inputs.versioningConfiguration?.status === "Enabled",
        );
        return ok ? [] : [`bucket ${b.inputs.bucket} is not versioned`];
      });
    },
  },
  {
    id: "lake-lifecycle",
    description: "every lake bucket has enabled lifecycle rules that abort stale multipart uploads",
    check: (rs, ctx) =>
      forEachBucket(
        rs,
        ctx,
        T.lifecycle,
        (c) =>
          asArray(c.inputs.rules).length > 0 &&
          asArray(c.inputs.rules).every(
            (r) => r.status === "Enabled" && r.abortIncompleteMultipartUpload?.daysAfterInitiation > 0,
          ),
        "lifecycle rules",
      ),
  },
  {
    id: "lake-eventbridge",
    description: "the raw bucket sends its object events to EventBridge",
    check: (rs, ctx) => {
      const { raw } = bucketsByZone(rs, ctx);
      if (raw === undefined) return ["raw bucket missing"];
      return ofType(rs, T.notification).some(
        (n) => belongsTo(n, raw, "bucket") && n.inputs.eventbridge === true,
      )
        ? []
        : ["raw bucket has no EventBridge notification"];
    },
  },
  {
    id: "ingest-rule-contract",
    description:
      "the raw rule uses common's rawObjectCreatedPattern and rawObjectInputTransformer and runs featstore-engine",
    check: (rs, ctx) => {
      const rule = ruleWithPattern(rs, rawObjectCreatedPattern(lakeBucketNames(ctx.prefix).raw));
      if (rule === undefined) return ["no rule with common's rawObjectCreatedPattern"];
      const targets = targetsOfRule(rs, rule);
      return problems([
        [
          targets.some((t) => transformerEquals(t, rawObjectInputTransformer)),
          "raw rule target does not use rawObjectInputTransformer",
        ],
        [
          targets.some((t) =>
            isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, family(ctx, "featstoreEngine")),
          ),
          "raw rule does not run featstore-engine",
        ],
      ]);
    },
  },
  {
    id: "training-rule-contract",
    description:
      "the snapshot rule uses common's snapshotReadyPattern and snapshotReadyInputTransformer and runs training",
    check: (rs, ctx) => {
      const rule = ruleWithPattern(rs, snapshotReadyPattern(lakeBucketNames(ctx.prefix).processed));
      if (rule === undefined) return ["no rule with common's snapshotReadyPattern"];
      const targets = targetsOfRule(rs, rule);
      return problems([
        [
          targets.some((t) => transformerEquals(t, snapshotReadyInputTransformer)),
          "snapshot rule target does not use snapshotReadyInputTransformer",
        ],
        [
          targets.some((t) => isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, family(ctx, "training"))),
          "snapshot rule does not run training",
        ],
      ]);
    },
  },
  {
    id: "training-schedule",
    description: "a schedule runs training's own command (not another one, such as the online decide)",
    check: (rs, ctx) => {
      // A container override of the command runs something else in training's image (`decide`).
      const overridesCommand = (t: RecordedResource) =>
        asArray(
          (json(t.inputs.input) as { containerOverrides?: { command?: string[] }[] } | undefined)
            ?.containerOverrides,
        ).some((o) => o.command !== undefined);
      const ok = ofType(rs, T.rule)
        .filter(
          (r) =>
            typeof r.inputs.scheduleExpression === "string" &&
            /^(cron|rate)\(/.test(r.inputs.scheduleExpression),
        )
        .some((r) =>
          targetsOfRule(rs, r).some(
            (t) =>
              isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, family(ctx, "training")) &&
              !overridesCommand(t),
          ),
        );
      return ok ? [] : ["no scheduled rule runs training"];
    },
  },
  {
    id: "event-targets-delivery",
    description: "every ECS event target has a bounded retry policy and a dead-letter queue",
    check: (rs) => {
      const queues = ofType(rs, T.queue).map((q) => q.inputs.arn);
      const targets = ofType(rs, T.target);
      if (targets.length === 0) return ["no event targets"];
      return targets.flatMap((t) =>
        problems([
          [
            t.inputs.retryPolicy?.maximumRetryAttempts >= 0 &&
              t.inputs.retryPolicy?.maximumEventAgeInSeconds > 0,
            `${t.name}: no retry policy`,
          ],
          [
            queues.includes(t.inputs.deadLetterConfig?.arn) ||
              (t.inputs.deadLetterConfig?.arn !== undefined && queues.length === 0),
            `${t.name}: no dead-letter queue`,
          ],
        ]),
      );
    },
  },
  {
    id: "event-targets-fargate-private",
    description: "event targets run Fargate tasks in private subnets without public IPs, through a role",
    check: (rs) => {
      const priv = privateSubnetIds(rs);
      // ECS targets (an alert to the SNS topic runs nothing).
      const ecsTargets = ofType(rs, T.target).filter(
        (t) => t.inputs.arn === ofType(rs, T.cluster)[0]?.inputs.arn,
      );
      if (ecsTargets.length === 0) return ["no ECS event targets"];
      return ecsTargets.flatMap((t) => {
        const net = t.inputs.ecsTarget?.networkConfiguration;
        return problems([
          [t.inputs.ecsTarget?.launchType === "FARGATE", `${t.name}: not FARGATE`],
          [net?.assignPublicIp === false, `${t.name}: public IP`],
          [
            asArray<string>(net?.subnets).length > 0 &&
              asArray<string>(net?.subnets).every((s) => priv.size === 0 || priv.has(s)),
            `${t.name}: not in private subnets`,
          ],
          [typeof t.inputs.roleArn === "string" && t.inputs.roleArn.length > 0, `${t.name}: no role`],
        ]);
      });
    },
  },
  {
    id: "dlq-encrypted",
    description: "every SQS queue is encrypted",
    check: (rs) => {
      const queues = ofType(rs, T.queue);
      if (queues.length === 0) return ["no dead-letter queue"];
      return queues
        .filter((q) => q.inputs.sqsManagedSseEnabled !== true && q.inputs.kmsMasterKeyId === undefined)
        .map((q) => `${q.name}: not encrypted`);
    },
  },
  {
    id: "dlq-alarm",
    description: "the dead-letter queue depth has an alarm",
    check: (rs, ctx) => {
      const dlq = resourceNames(ctx.prefix).dlq;
      return ofType(rs, T.alarm).some(
        (a) =>
          a.inputs.namespace === "AWS/SQS" &&
          a.inputs.metricName === "ApproximateNumberOfMessagesVisible" &&
          a.inputs.dimensions?.QueueName === dlq &&
          asArray(a.inputs.alarmActions).length > 0,
      )
        ? []
        : ["no DLQ depth alarm"];
    },
  },
  {
    id: "ecr-images",
    description:
      "each workload has a scanned ECR repository and its task runs an image from it (built from <workspace>/Dockerfile when images are built)",
    check: (rs, ctx) => {
      const names = resourceNames(ctx.prefix);
      return WORKLOADS.flatMap((w) => {
        const repo = ofType(rs, T.repository).find((r) => r.inputs.name === names.repository[w]);
        if (repo === undefined) return [`no repository ${names.repository[w]}`];
        const td = taskDef(rs, ctx, w);
        const image = td === undefined ? undefined : containers(td)[0]?.image;
        const built = ofType(rs, T.image).find(
          (i) => i.inputs.repositoryUrl === repo.inputs.repositoryUrl && i.name.endsWith(WORKSPACE_OF[w]),
        );
        return problems([
          [
            repo.inputs.imageScanningConfiguration?.scanOnPush === true,
            `${names.repository[w]}: no scan on push`,
          ],
          [
            typeof image === "string" &&
              (image.startsWith(`${repo.inputs.repositoryUrl}:`) ||
                image.startsWith(`${repo.inputs.repositoryUrl}@`) ||
                built !== undefined),
            `${w}: image not from its repository`,
          ],
          [
            built === undefined ||
              (typeof built.inputs.dockerfile === "string" &&
                built.inputs.dockerfile.endsWith(`/${WORKSPACE_OF[w]}/Dockerfile`) &&
                typeof built.inputs.context === "string" &&
                built.inputs.dockerfile === `${built.inputs.context}/${WORKSPACE_OF[w]}/Dockerfile`),
            `${w}: image not built from its workspace Dockerfile with the repo root as context`,
          ],
        ]);
      });
    },
  },
  {
    id: "ecs-cluster",
    description: "an ECS cluster with Container Insights",
    check: (rs, ctx) =>
      ofType(rs, T.cluster).some(
        (c) =>
          c.inputs.name === resourceNames(ctx.prefix).cluster &&
          asArray(c.inputs.settings).some((s) => s.name === "containerInsights" && s.value === "enabled"),
      )
        ? []
        : ["no cluster with Container Insights"],
  },
  {
    id: "task-definitions",
    description: "four Fargate task definitions, each with its own roles and awslogs to a declared log group",
    check: (rs, ctx) => {
      const groups = new Set(ofType(rs, T.logGroup).map((g) => g.inputs.name));
      const tds = WORKLOADS.map((w) => [w, taskDef(rs, ctx, w)] as const);
      const roles = tds.map(([, td]) => td?.inputs.taskRoleArn);
      return tds.flatMap(([w, td]) => {
        if (td === undefined) return [`no task definition for ${w}`];
        const c = containers(td)[0] as
          | { logConfiguration?: { logDriver?: string; options?: Record<string, string> } }
          | undefined;
        return problems([
          [
            deepEqual(td.inputs.requiresCompatibilities, ["FARGATE"]) && td.inputs.networkMode === "awsvpc",
            `${w}: not Fargate/awsvpc`,
          ],
          [
            typeof td.inputs.executionRoleArn === "string" &&
              typeof td.inputs.taskRoleArn === "string" &&
              td.inputs.executionRoleArn !== td.inputs.taskRoleArn,
            `${w}: missing roles`,
          ],
          [roles.filter((r) => r === td.inputs.taskRoleArn).length === 1, `${w}: task role shared`],
          [
            c?.logConfiguration?.logDriver === "awslogs" &&
              groups.has(c.logConfiguration.options?.["awslogs-group"]),
            `${w}: logs not sent to a declared group`,
          ],
        ]);
      });
    },
  },
  {
    id: "secrets-not-in-environment",
    description: "secrets reach tasks as ECS secrets from Secrets Manager, never as plain environment",
    check: (rs, ctx) => {
      const out: string[] = [];
      for (const td of ofType(rs, T.taskDefinition)) {
        for (const c of containers(td)) {
          for (const e of asArray(c.environment as { name: string; value: string }[])) {
            if (SECRET_NAME_PATTERN.test(e.name))
              out.push(`${td.inputs.family}: ${e.name} is in plain environment`);
          }
          for (const s of asArray(c.secrets as { name: string; valueFrom: string }[])) {
            if (!/^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(s.valueFrom))
              out.push(`${td.inputs.family}: secret ${s.name} is not from Secrets Manager`);
          }
        }
      }
      const mlflow = taskDef(rs, ctx, "mlflow");
      const dbSecret =
        mlflow === undefined
          ? undefined
          : asArray(containers(mlflow)[0]?.secrets as { name: string }[]).find(
              (s) => s.name === "MLFLOW_DB_PASSWORD",
            );
      if (dbSecret === undefined) out.push("the MLflow database password is not an ECS secret");
      return out;
    },
  },
  {
    id: "task-environment",
    description:
      "each service task gets GPLAY_PREFIX and GPLAY_ENVIRONMENT of this stack (names derive from the prefix, so no bucket/table variables); training and api get MLflow's URI and one model name; the api its keys as a secret",
    check: (rs, ctx) => {
      const out: string[] = [];
      for (const w of ["featstoreEngine", "training", "api"] as const) {
        const v = varsOf(rs, ctx, w);
        if (v === undefined) {
          out.push(`${w}: no container`);
          continue;
        }
        if (v.environment[ENV.prefix] !== ctx.prefix) out.push(`${w}: ${ENV.prefix} is not ${ctx.prefix}`);
        if (v.environment[ENV.environment] !== ctx.environment)
          out.push(`${w}: ${ENV.environment} is not ${ctx.environment}`);
        for (const name of Object.keys(v.environment))
          if (/^GPLAY_(RESOURCE_PREFIX|RAW_BUCKET|PROCESSED_BUCKET|MODELS_BUCKET|TABLE_\w+)$/.test(name))
            out.push(`${w}: ${name} is not read by the service (names derive from ${ENV.prefix})`);
      }
      const training = varsOf(rs, ctx, "training");
      const api = varsOf(rs, ctx, "api");
      for (const [w, v] of [
        ["training", training],
        ["api", api],
      ] as const) {
        if (!(v?.environment[ENV.mlflowTrackingUri] ?? "").startsWith("http"))
          out.push(`${w}: no ${ENV.mlflowTrackingUri}`);
        if (v?.environment[ENV.modelName] === undefined) out.push(`${w}: no ${ENV.modelName}`);
      }
      if (training?.environment[ENV.modelName] !== api?.environment[ENV.modelName])
        out.push("training and api name different models");
      if (api?.secrets[ENV.apiKeys] === undefined) out.push(`api: ${ENV.apiKeys} is not an ECS secret`);
      return out;
    },
  },
  {
    id: "engine-heap",
    description: `the featstore-engine task runs with NODE_OPTIONS "${ENGINE_NODE_OPTIONS}" (the heap cap its memory was measured under) and at least ${ENGINE_MIN_TASK_MEMORY_MIB} MiB`,
    check: (rs, ctx) => {
      const td = taskDef(rs, ctx, "featstoreEngine");
      const v = varsOf(rs, ctx, "featstoreEngine");
      return problems([
        [
          v?.environment[ENV.nodeOptions] === ENGINE_NODE_OPTIONS,
          `featstoreEngine: ${ENV.nodeOptions} is not "${ENGINE_NODE_OPTIONS}"`,
        ],
        [
          Number(td?.inputs.memory) >= ENGINE_MIN_TASK_MEMORY_MIB,
          `featstoreEngine: task memory ${td?.inputs.memory} MiB < ${ENGINE_MIN_TASK_MEMORY_MIB}`,
        ],
      ]);
    },
  },
  {
    id: "mlflow-auth",
    description:
      "MLflow runs its basic-auth app (admin password and Flask key as ECS secrets), accepts its internal load balancer's Host, and training and the api sign in with a secret password",
    check: (rs, ctx) => {
      const v = varsOf(rs, ctx, "mlflow");
      if (v === undefined) return ["no MLflow container"];
      const svc = serviceByName(rs, `${ctx.prefix}-mlflow`);
      const tgArns = asArray(svc?.inputs.loadBalancers).map((lb) => lb.targetGroupArn);
      const lbArns = ofType(rs, T.listener)
        .filter((l) => asArray(l.inputs.defaultActions).some((a) => tgArns.includes(a.targetGroupArn)))
        .map((l) => l.inputs.loadBalancerArn);
      const dnsNames = ofType(rs, T.loadBalancer)
        .filter((lb) => lbArns.includes(lb.inputs.arn))
        .map((lb) => lb.inputs.dnsName);
      const hosts = (v.environment[ENV.mlflowAllowedHosts] ?? "").split(",");
      const clients = (["training", "api"] as const).map((w) => [w, varsOf(rs, ctx, w)] as const);
      return problems([
        [v.environment[ENV.mlflowAuthEnabled] === "true", `MLflow: ${ENV.mlflowAuthEnabled} is not true`],
        [
          v.secrets[ENV.mlflowAuthAdminPassword] !== undefined,
          `MLflow: ${ENV.mlflowAuthAdminPassword} is not an ECS secret`,
        ],
        [
          v.secrets[ENV.mlflowFlaskSecretKey] !== undefined,
          `MLflow: ${ENV.mlflowFlaskSecretKey} is not an ECS secret`,
        ],
        [
          dnsNames.length > 0 && dnsNames.every((d) => typeof d === "string" && hosts.includes(d)),
          `MLflow: ${ENV.mlflowAllowedHosts} does not accept its load balancer's name`,
        ],
        [hosts.some((h) => h.startsWith("localhost")), `MLflow: ${ENV.mlflowAllowedHosts} has no localhost`],
        ...clients.map(([w, c]): [boolean, string] => [
          (c?.environment[ENV.mlflowTrackingUsername] !== undefined &&
            c.secrets[ENV.mlflowTrackingPassword] !== undefined) ||
            c?.secrets.MLFLOW_TRACKING_TOKEN !== undefined,
          `${w}: no MLflow credentials (username + secret password, or a secret token)`,
        ]),
      ]);
    },
  },
  {
    id: "task-secrets-scoped",
    description:
      "each task's execution role may read exactly the Secrets Manager secrets its container references, and every one is encrypted with the platform key",
    check: (rs, ctx) => {
      const out: string[] = [];
      for (const w of WORKLOADS) {
        const td = taskDef(rs, ctx, w);
        const v = varsOf(rs, ctx, w);
        if (td === undefined || v === undefined) {
          out.push(`${w}: no task definition`);
          continue;
        }
        const referenced = [...new Set(Object.values(v.secrets).map(secretArnOf))].sort();
        const readable = [
          ...new Set(
            policiesOfRole(rs, roleOf(rs, td.inputs.executionRoleArn))
              .flatMap((p) => statements(p.inputs.policy))
              .filter((s) => s.Effect === "Allow")
              .filter((s) => asArray(s.Action).some((a) => a.startsWith("secretsmanager:")))
              .flatMap((s) => asArray(s.Resource)),
          ),
        ].sort();
        if (!deepEqual(readable, referenced))
          out.push(
            `${w}: execution role reads ${JSON.stringify(readable)}, container uses ${JSON.stringify(referenced)}`,
          );
        const taskPolicies = policiesOfRole(rs, roleOf(rs, td.inputs.taskRoleArn));
        if (
          taskPolicies.some((p) =>
            statements(p.inputs.policy).some((s) =>
              asArray(s.Action).some((a) => a.startsWith("secretsmanager:")),
            ),
          )
        )
          out.push(`${w}: the task role reads secrets (only the execution role should)`);
      }
      for (const s of ofType(rs, T.secret))
        if (s.inputs.kmsKeyId === undefined)
          out.push(`${s.inputs.name}: not encrypted with the platform key`);
      return out;
    },
  },
  {
    id: "api-public-alb",
    description: "the API runs behind an internet-facing ALB whose target group checks /healthz",
    check: (rs, ctx) => {
      const svc = serviceByName(rs, `${ctx.prefix}-api`);
      if (svc === undefined) return ["no API service"];
      const tgArns = asArray(svc.inputs.loadBalancers).map((lb) => lb.targetGroupArn);
      const tg = ofType(rs, T.targetGroup).find((t) => tgArns.includes(t.inputs.arn));
      const listeners = ofType(rs, T.listener).filter((l) =>
        asArray(l.inputs.defaultActions).some((a) => a.targetGroupArn === tg?.inputs.arn),
      );
      const lbs = ofType(rs, T.loadBalancer).filter((lb) =>
        listeners.some((l) => l.inputs.loadBalancerArn === lb.inputs.arn),
      );
      return problems([
        [tg !== undefined, "API service has no target group"],
        [tg?.inputs.healthCheck?.path === "/healthz", "API health check is not /healthz"],
        [lbs.some((lb) => lb.inputs.internal === false), "API is not behind a public ALB"],
      ]);
    },
  },
  {
    id: "api-drain",
    description:
      "the api keeps serving after SIGTERM until the ALB stops routing to it (GPLAY_DRAIN_DELAY_MS), and its drain fits in the target group's deregistration delay and the container's stopTimeout",
    check: (rs, ctx) => {
      const svc = serviceByName(rs, `${ctx.prefix}-api`);
      const td = taskDef(rs, ctx, "api");
      const vars = varsOf(rs, ctx, "api");
      if (svc === undefined || td === undefined || vars === undefined) return ["no API service or task"];
      const tgArns = asArray(svc.inputs.loadBalancers).map((lb) => lb.targetGroupArn);
      const tg = ofType(rs, T.targetGroup).find((t) => tgArns.includes(t.inputs.arn));
      const delay = Number(vars.environment[ENV.drainDelayMs]);
      const timeout = Number(vars.environment[ENV.drainTimeoutMs]);
      const deregistrationMs = Number(tg?.inputs.deregistrationDelay) * 1_000;
      const stopMs = Number(containers(td)[0]?.stopTimeout) * 1_000;
      return problems([
        [
          delay >= MIN_DRAIN_DELAY_MS,
          `api: ${ENV.drainDelayMs} is ${vars.environment[ENV.drainDelayMs]}, under ${MIN_DRAIN_DELAY_MS} ms (requests still routed would be reset)`,
        ],
        [Number.isInteger(timeout) && timeout > 0, `api: ${ENV.drainTimeoutMs} is not set`],
        [
          delay + timeout <= deregistrationMs,
          `api: drain (${delay} + ${timeout} ms) outlasts the target group's deregistration delay (${deregistrationMs} ms)`,
        ],
        [
          delay + timeout <= stopMs,
          `api: drain (${delay} + ${timeout} ms) outlasts the container's stopTimeout (${stopMs} ms)`,
        ],
      ]);
    },
  },
  {
    id: "api-client-ip",
    description:
      "the api trusts exactly the ALB's hop of X-Forwarded-For, so its per-IP limit sees the client's address and never the balancer node's or one the client wrote",
    check: (rs, ctx) => {
      const hops = varsOf(rs, ctx, "api")?.environment[ENV.trustProxyHops];
      return problems([
        [
          hops === String(API_PROXY_HOPS),
          `api: ${ENV.trustProxyHops} is ${hops ?? "unset"}, expected ${API_PROXY_HOPS} (the ALB)`,
        ],
      ]);
    },
  },
  {
    id: "api-autoscaling",
    description: "the API scales on CPU and on request count",
    check: (rs, ctx) => {
      const target = ofType(rs, T.scalingTarget).find(
        (t) => typeof t.inputs.resourceId === "string" && t.inputs.resourceId.endsWith(`/${ctx.prefix}-api`),
      );
      if (target === undefined) return ["no scaling target for the API"];
      const policies = ofType(rs, T.scalingPolicy).filter(
        (p) => p.inputs.resourceId === target.inputs.resourceId,
      );
      const kinds = policies.map(
        (p) =>
          p.inputs.targetTrackingScalingPolicyConfiguration?.predefinedMetricSpecification
            ?.predefinedMetricType,
      );
      return problems([
        [kinds.includes("ECSServiceAverageCPUUtilization"), "no CPU scaling policy"],
        [kinds.includes("ALBRequestCountPerTarget"), "no request-count scaling policy"],
        [target.inputs.maxCapacity >= target.inputs.minCapacity, "max capacity below min"],
      ]);
    },
  },
  {
    id: "api-prod-ha",
    description: "in prod, at least 2 API tasks across at least 2 AZs",
    check: (rs, ctx) => {
      if (ctx.environment !== "prod") return [];
      const svc = serviceByName(rs, `${ctx.prefix}-api`);
      const target = ofType(rs, T.scalingTarget).find(
        (t) => typeof t.inputs.resourceId === "string" && t.inputs.resourceId.endsWith(`/${ctx.prefix}-api`),
      );
      const subnets = asArray<string>(svc?.inputs.networkConfiguration?.subnets);
      const azs = new Set(
        ofType(rs, T.subnet)
          .filter((s) => subnets.includes(s.id ?? s.name))
          .map((s) => s.inputs.availabilityZone),
      );
      return problems([
        [svc?.inputs.desiredCount >= 2, "prod API desiredCount < 2"],
        [target?.inputs.minCapacity >= 2, "prod API minimum capacity < 2"],
        [azs.size >= 2, "prod API subnets span fewer than 2 AZs"],
      ]);
    },
  },
  {
    id: "mlflow-internal",
    description:
      "MLflow is reachable only inside the VPC (internal ALB) and has ECS Exec for port forwarding",
    check: (rs, ctx) => {
      const svc = serviceByName(rs, `${ctx.prefix}-mlflow`);
      if (svc === undefined) return ["no MLflow service"];
      const tgArns = asArray(svc.inputs.loadBalancers).map((lb) => lb.targetGroupArn);
      const listeners = ofType(rs, T.listener).filter((l) =>
        asArray(l.inputs.defaultActions).some((a) => tgArns.includes(a.targetGroupArn)),
      );
      const lbs = ofType(rs, T.loadBalancer).filter((lb) =>
        listeners.some((l) => l.inputs.loadBalancerArn === lb.inputs.arn),
      );
      const td = taskDef(rs, ctx, "mlflow");
      const role = roleOf(rs, td?.inputs.taskRoleArn);
      const ssm = policiesOfRole(rs, role).some((p) =>
        statements(p.inputs.policy).some((s) => asArray(s.Action).includes("ssmmessages:OpenDataChannel")),
      );
      return problems([
        [
          lbs.length > 0 && lbs.every((lb) => lb.inputs.internal === true),
          "MLflow load balancer is not internal",
        ],
        [svc.inputs.networkConfiguration?.assignPublicIp === false, "MLflow tasks get public IPs"],
        [svc.inputs.enableExecuteCommand === true, "MLflow has no ECS Exec"],
        [ssm, "MLflow task role cannot open ECS Exec channels"],
      ]);
    },
  },
  {
    id: "rds-private-encrypted",
    description:
      "MLflow's PostgreSQL is encrypted, private, with an RDS-managed password, reachable from a security group only",
    check: (rs) => {
      const dbs = ofType(rs, T.db);
      if (dbs.length === 0) return ["no database"];
      const priv = privateSubnetIds(rs);
      return dbs.flatMap((db) => {
        const group = ofType(rs, T.dbSubnetGroup).find(
          (g) => g.inputs.name === db.inputs.dbSubnetGroupName || g.id === db.inputs.dbSubnetGroupName,
        );
        const sgs = ofType(rs, T.securityGroup).filter((sg) =>
          asArray(db.inputs.vpcSecurityGroupIds).includes(sg.id ?? sg.name),
        );
        return problems([
          [db.inputs.engine === "postgres", `${db.name}: not PostgreSQL`],
          [
            db.inputs.storageEncrypted === true && db.inputs.kmsKeyId !== undefined,
            `${db.name}: not encrypted with the platform key`,
          ],
          [db.inputs.publiclyAccessible === false, `${db.name}: publicly accessible`],
          [
            db.inputs.manageMasterUserPassword === true && db.inputs.password === undefined,
            `${db.name}: password not managed in Secrets Manager`,
          ],
          [
            group !== undefined && asArray<string>(group.inputs.subnetIds).every((s) => priv.has(s)),
            `${db.name}: not in private subnets`,
          ],
          [
            sgs.length > 0 &&
              sgs.every((sg) =>
                asArray(sg.inputs.ingress).every(
                  (i) => asArray(i.cidrBlocks).length === 0 && asArray(i.securityGroups).length > 0,
                ),
              ),
            `${db.name}: ingress not limited to security groups`,
          ],
        ]);
      });
    },
  },
  {
    id: "dynamodb-tables",
    description:
      "common's tables: on demand, PITR, SSE, TTL attribute, key schema; deletion protection in prod",
    check: (rs, ctx) => {
      const names = tableNames(ctx.prefix);
      return (Object.keys(TABLES) as (keyof typeof TABLES)[]).flatMap((key) => {
        const def = TABLES[key];
        const t = ofType(rs, T.table).find((x) => x.inputs.name === names[key]);
        if (t === undefined) return [`no table ${names[key]}`];
        return problems([
          [t.inputs.billingMode === "PAY_PER_REQUEST", `${names[key]}: not on demand`],
          [t.inputs.pointInTimeRecovery?.enabled === true, `${names[key]}: no point-in-time recovery`],
          [t.inputs.serverSideEncryption?.enabled === true, `${names[key]}: no SSE`],
          [
            t.inputs.ttl?.enabled === true && t.inputs.ttl?.attributeName === def.ttlAttribute,
            `${names[key]}: TTL attribute is not ${def.ttlAttribute}`,
          ],
          [
            t.inputs.hashKey === def.partitionKey.name &&
              asArray(t.inputs.attributes).some(
                (a) => a.name === def.partitionKey.name && a.type === def.partitionKey.type,
              ),
            `${names[key]}: key schema differs from common`,
          ],
          [
            ctx.environment !== "prod" || t.inputs.deletionProtectionEnabled === true,
            `${names[key]}: no deletion protection in prod`,
          ],
        ]);
      });
    },
  },
  {
    id: "vpc-private-subnets",
    description: "tasks and services run in private subnets (no public IPs on launch), across 2+ AZs in prod",
    check: (rs, ctx) => {
      const priv = ofType(rs, T.subnet).filter((s) => s.inputs.tags?.Tier === "private");
      const ids = privateSubnetIds(rs);
      const azs = new Set(priv.map((s) => s.inputs.availabilityZone));
      return problems([
        [priv.length > 0, "no private subnets"],
        [
          ofType(rs, T.subnet).every((s) => s.inputs.mapPublicIpOnLaunch !== true),
          "a subnet assigns public IPs on launch",
        ],
        [ctx.environment !== "prod" || azs.size >= 2, "prod private subnets span fewer than 2 AZs"],
        ...ofType(rs, T.service).map((s): [boolean, string] => [
          s.inputs.networkConfiguration?.assignPublicIp === false &&
            asArray<string>(s.inputs.networkConfiguration?.subnets).every((id) => ids.has(id)),
          `${s.inputs.name}: not in private subnets without public IP`,
        ]),
      ]);
    },
  },
  {
    id: "vpc-endpoints-egress",
    description:
      "gateway endpoints for S3 and DynamoDB; NAT, or an interface endpoint for every other service a task calls (plan/aws-services.ts: ECR, Logs, Secrets Manager, EventBridge, SSM messages)",
    check: (rs) => {
      const eps = ofType(rs, T.endpoint);
      const has = (suffix: string, kind: string) =>
        eps.some(
          (e) =>
            typeof e.inputs.serviceName === "string" &&
            e.inputs.serviceName.endsWith(`.${suffix}`) &&
            e.inputs.vpcEndpointType === kind &&
            (kind === "Gateway"
              ? asArray(e.inputs.routeTableIds).length > 0
              : e.inputs.privateDnsEnabled === true),
        );
      const privateTables = ofType(rs, T.routeTable).filter(
        (t) => !asArray(t.inputs.routes).some((r) => r.gatewayId !== undefined),
      );
      const natEverywhere =
        ofType(rs, T.natGateway).length > 0 &&
        privateTables.length > 0 &&
        privateTables.every((t) =>
          asArray(t.inputs.routes).some((r) => r.cidrBlock === "0.0.0.0/0" && r.natGatewayId !== undefined),
        );
      const missing = interfaceEndpointServices().filter((s) => !has(s, "Interface"));
      return problems([
        [has("s3", "Gateway"), "no S3 gateway endpoint"],
        [has("dynamodb", "Gateway"), "no DynamoDB gateway endpoint"],
        [
          natEverywhere || missing.length === 0,
          `private subnets have neither NAT nor the interface endpoints tasks need (missing: ${missing.join(", ")})`,
        ],
      ]);
    },
  },
  {
    id: "no-public-ingress",
    description: "only the API load balancer accepts traffic from the internet, on 80/443",
    check: (rs) =>
      ofType(rs, T.securityGroup).flatMap((sg) =>
        asArray(sg.inputs.ingress)
          .filter(
            (i) => asArray(i.cidrBlocks).includes("0.0.0.0/0") || asArray(i.ipv6CidrBlocks).includes("::/0"),
          )
          .filter(
            (i) =>
              !(sg.name.endsWith("-api-alb") && [80, 443].includes(i.fromPort) && i.fromPort === i.toPort),
          )
          .map((i) => `${sg.name}: internet ingress on ${i.fromPort}-${i.toPort}`),
      ),
  },
  {
    id: "iam-least-privilege",
    description:
      "no wildcard actions; '*' resources only where AWS requires; S3 scoped to the workload's buckets and prefixes; DynamoDB to table ARNs",
    check: (rs, ctx) => {
      const names = resourceNames(ctx.prefix);
      const allowedBuckets: Record<Workload, string[]> = {
        // erasure rewrites MLflow's text artifacts under mlflow/ (plan/erasure-iam.ts)
        featstoreEngine: [names.buckets.raw, names.buckets.processed, names.buckets.models],
        training: [names.buckets.processed],
        // the api drops its click files under raw/api-events/ (checked to the action and prefix below)
        api: [names.buckets.raw],
        mlflow: [names.buckets.models],
      };
      const out: string[] = [];
      for (const p of ofType(rs, T.rolePolicy)) {
        for (const s of statements(p.inputs.policy)) {
          if (s.Effect !== "Allow") continue;
          for (const a of asArray(s.Action))
            if (a === "*" || a.endsWith(":*")) out.push(`${p.name}: wildcard action ${a}`);
          if (
            asArray(s.Resource).includes("*") &&
            !asArray(s.Action).every((a) => WILDCARD_ACTIONS.includes(a))
          )
            out.push(`${p.name}: Resource "*" for ${asArray(s.Action).join(",")}`);
          for (const r of asArray(s.Resource)) {
            const m = /^arn:aws:s3:::([^/]+)\/(.*)$/.exec(r);
            if (m !== null && (m[2] === "*" || m[2] === ""))
              out.push(`${p.name}: S3 object access not scoped to a prefix (${r})`);
            if (r.startsWith("arn:aws:dynamodb:") && !/:table\/[^*]+$/.test(r))
              out.push(`${p.name}: DynamoDB resource not a table ARN (${r})`);
          }
        }
      }
      for (const w of WORKLOADS) {
        const td = taskDef(rs, ctx, w);
        const role = roleOf(rs, td?.inputs.taskRoleArn);
        const pols = policiesOfRole(rs, role);
        if (pols.length === 0) out.push(`${w}: no task role policy`);
        for (const p of pols)
          for (const s of statements(p.inputs.policy))
            for (const r of asArray(s.Resource)) {
              const m = /^arn:aws:s3:::([^/]+)/.exec(r);
              if (m?.[1] !== undefined && !allowedBuckets[w].includes(m[1]))
                out.push(`${w}: may access bucket ${m[1]}`);
              if (
                w === "api" &&
                m !== null &&
                !(
                  r === `arn:aws:s3:::${names.buckets.raw}/${API_EVENTS_PREFIX}*` &&
                  deepEqual(asArray(s.Action), ["s3:PutObject"])
                )
              )
                out.push(
                  `api: S3 access beyond PutObject under ${API_EVENTS_PREFIX} (${asArray(s.Action).join(",")} on ${r})`,
                );
            }
      }
      return out;
    },
  },
  {
    id: "events-role-scoped",
    description:
      "the events role may only run the featstore-engine and training task definitions and pass their roles",
    check: (rs, ctx) => {
      const targets = ofType(rs, T.target).filter((t) => t.inputs.ecsTarget !== undefined);
      const role = roleOf(rs, targets[0]?.inputs.roleArn);
      const stmts = policiesOfRole(rs, role).flatMap((p) => statements(p.inputs.policy));
      const tds = (["featstoreEngine", "training"] as const).map((w) => taskDef(rs, ctx, w));
      const expectedTds = tds.map((td) => td?.inputs.arn).sort();
      const expectedRoles = tds.flatMap((td) => [td?.inputs.taskRoleArn, td?.inputs.executionRoleArn]).sort();
      const run = stmts.filter((s) => asArray(s.Action).includes("ecs:RunTask"));
      const pass = stmts.filter((s) => asArray(s.Action).includes("iam:PassRole"));
      return problems([
        [role !== undefined, "no events role"],
        [
          run.length > 0 &&
            run.every(
              (s) =>
                deepEqual([...asArray(s.Resource)].sort(), expectedTds) &&
                s.Condition?.ArnEquals?.["ecs:cluster"] !== undefined,
            ),
          "ecs:RunTask not limited to the two task definitions on the cluster",
        ],
        [
          pass.length > 0 && pass.every((s) => deepEqual([...asArray(s.Resource)].sort(), expectedRoles)),
          "iam:PassRole not limited to the tasks' roles",
        ],
        [
          stmts.every((s) => asArray(s.Action).every((a) => a === "ecs:RunTask" || a === "iam:PassRole")),
          "events role has other permissions",
        ],
      ]);
    },
  },
  {
    id: "log-retention",
    description: "every log group has a retention period",
    check: (rs) => {
      const groups = ofType(rs, T.logGroup);
      if (groups.length === 0) return ["no log groups"];
      return groups
        .filter((g) => !(g.inputs.retentionInDays > 0))
        .map((g) => `${g.inputs.name}: no retention`);
    },
  },
  {
    id: "alarms",
    description:
      "alarms on common's METRICS (API 5xx, p99 latency, failed ingestion) with Service/Environment, and CPU/memory per service",
    check: (rs, ctx) => {
      const alarms = ofType(rs, T.alarm);
      const app = (key: keyof typeof METRICS, stat: (a: RecordedResource) => boolean) =>
        alarms.some(
          (a) =>
            a.inputs.namespace === METRIC_NAMESPACE &&
            a.inputs.metricName === METRICS[key].name &&
            a.inputs.dimensions?.Service === METRICS[key].service &&
            a.inputs.dimensions?.Environment === ctx.environment &&
            stat(a) &&
            asArray(a.inputs.alarmActions).length > 0,
        );
      const ecs = (service: string, metric: string) =>
        alarms.some(
          (a) =>
            a.inputs.namespace === "AWS/ECS" &&
            a.inputs.metricName === metric &&
            a.inputs.dimensions?.ServiceName === service,
        );
      return problems([
        [app("api5xx", (a) => a.inputs.statistic === "Sum"), "no API 5xx alarm"],
        [app("apiLatency", (a) => a.inputs.extendedStatistic === "p99"), "no API p99 latency alarm"],
        [app("ingestFailures", () => true), "no failed-ingestion alarm"],
        ...["api", "mlflow"].flatMap((s) =>
          ["CPUUtilization", "MemoryUtilization"].map((m): [boolean, string] => [
            ecs(`${ctx.prefix}-${s}`, m),
            `no ${m} alarm for ${s}`,
          ]),
        ),
      ]);
    },
  },
  {
    id: "dashboard",
    description: "a CloudWatch dashboard",
    check: (rs) =>
      ofType(rs, T.dashboard).some(
        (d) =>
          asArray((json(d.inputs.dashboardBody) as { widgets?: unknown[] } | undefined)?.widgets).length > 0,
      )
        ? []
        : ["no dashboard with widgets"],
  },
  {
    id: "kms-rotation",
    description: "customer-managed keys rotate",
    check: (rs) => {
      const keys = ofType(rs, T.kmsKey);
      if (keys.length === 0) return ["no platform key"];
      return keys.filter((k) => k.inputs.enableKeyRotation !== true).map((k) => `${k.name}: no rotation`);
    },
  },
  ...EDGE_INVARIANTS,
  ...INTERNAL_TLS_INVARIANTS,
  ...DELIVERY_INVARIANTS,
  ...BUCKET_POLICY_INVARIANTS,
  ...WORKLOAD_IDENTITY_INVARIANTS,
  ...OPERATIONS_INVARIANTS,
  ...HARDENING_INVARIANTS,
  ...RETENTION_INVARIANTS,
];

/** Runs every invariant; returns violations by invariant id (only the failing ones). */
export function checkAll(
  resources: readonly RecordedResource[],
  ctx: InvariantContext,
): Record<string, string[]> {
  return Object.fromEntries(
    INVARIANTS.map((inv) => [inv.id, inv.check(resources, ctx)] as const).filter(([, v]) => v.length > 0),
  );
}
