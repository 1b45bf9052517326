import {
  type InputTransformer,
  rawObjectCreatedPattern,
  rawObjectInputTransformer,
  snapshotReadyInputTransformer,
  snapshotReadyPattern,
} from "@gplay/common";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, dlqPolicy, eventsRunTaskPolicy } from "../plan/iam.js";
import {
  commandInput,
  DECIDE_COMMAND,
  ERASE_PENDING_COMMAND,
  ERASE_SCHEDULE,
  platformRulesArnPattern,
  RECOVER_COMMAND,
  RECOVER_SCHEDULE,
  startedByRule,
  taskFailedPattern,
} from "../plan/operations.js";

export interface PipelineTask {
  taskDefinitionArn: pulumi.Input<string>;
  taskRoleArn: pulumi.Input<string>;
  executionRoleArn: pulumi.Input<string>;
}

export interface PipelinesArgs {
  /** Physical names of the rules: `${namePrefix}-raw-created`, …. */
  namePrefix: string;
  rawBucket: string;
  processedBucket: string;
  dlqName: string;
  clusterArn: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<string>[];
  /**
   * featstore-engine; its container runs `recover` on a schedule and when an ingest task fails, and
   * `erase --pending` on a schedule.
   */
  ingest: PipelineTask & { containerName: string };
  /** training; with `decideSchedule` (the online loop is on) its container also runs `decide`. */
  training: PipelineTask & {
    containerName: string;
    schedule: string;
    decideSchedule?: string;
    /** MLflow's client group (components/mlflow-service.ts): its load balancer accepts only these. */
    mlflowClientSecurityGroupId: pulumi.Input<string>;
  };
  /** The account: only its EventBridge may assume the events role (aws:SourceAccount). */
  accountId: pulumi.Input<string>;
  /** The environment's workload boundary (infra/bootstrap), carried by the events role. */
  permissionsBoundary: pulumi.Input<string>;
}

/** Egress of every batch task: AWS APIs over HTTPS (NAT or interface endpoints). */
const HTTPS_TO_AWS = {
  protocol: "tcp",
  fromPort: 443,
  toPort: 443,
  cidrBlocks: ["0.0.0.0/0"],
  description: "AWS APIs",
};

/** How long EventBridge keeps retrying a target before the event goes to the dead-letter queue. */
export const RETRY_POLICY = { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 } as const;

/**
 * The event-driven pipelines: a raw object under `raw/` runs featstore-engine; a "Snapshot Ready"
 * event or the schedule runs training. Patterns and input transformers come from common, retries
 * are bounded, and undeliverable events land in an encrypted dead-letter queue.
 */
export class Pipelines extends pulumi.ComponentResource {
  readonly dlq: aws.sqs.Queue;
  readonly ingestRule: aws.cloudwatch.EventRule;
  readonly snapshotRule: aws.cloudwatch.EventRule;
  readonly scheduleRule: aws.cloudwatch.EventRule;
  /** `recover` on a schedule, and when a task the raw rule started stops after failing. */
  readonly recoverScheduleRule: aws.cloudwatch.EventRule;
  readonly recoverOnFailureRule: aws.cloudwatch.EventRule;
  /** `erase --pending` on a schedule: finishes the erasures the api's admin route recorded. */
  readonly eraseScheduleRule: aws.cloudwatch.EventRule;
  /** training's online `decide` on a schedule, when the online loop is on. */
  readonly decideScheduleRule?: aws.cloudwatch.EventRule;
  /** Carried by featstore-engine tasks (also for a manual `aws ecs run-task`): HTTPS egress only. */
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;
  /** Carried by training tasks (with MLflow's client group): HTTPS egress only. */
  readonly trainingSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: PipelinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:events:Pipelines", name, {}, opts);
    const parent = { parent: this };

    // Undeliverable events (RunTask kept failing), encrypted at rest, kept 14 days for redrive.
    this.dlq = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: args.dlqName, sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600 },
      parent,
    );

    // featstore-engine calls only AWS APIs (HTTPS); nothing calls it, and it has no way to MLflow.
    const taskSg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: args.vpcId,
        description: "featstore-engine tasks: AWS APIs only",
        ingress: [],
        egress: [HTTPS_TO_AWS],
        tags: { Name: `${name}-tasks` },
      },
      parent,
    );
    this.taskSecurityGroup = taskSg;
    // training calls AWS APIs; MLflow's client group (also on its tasks) lets it reach MLflow over
    // HTTPS. Nothing calls it.
    this.trainingSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-training`,
      {
        vpcId: args.vpcId,
        description: "training tasks: AWS APIs",
        ingress: [],
        egress: [HTTPS_TO_AWS],
        tags: { Name: `${name}-training` },
      },
      parent,
    );
    const trainingGroups = [this.trainingSecurityGroup.id, args.training.mlflowClientSecurityGroupId];

    // Role EventBridge assumes to start the two batch tasks.
    const role = new aws.iam.Role(
      `${name}-events`,
      {
        assumeRolePolicy: pulumi
          .output(args.accountId)
          .apply((accountId) => JSON.stringify(assumeRolePolicy("events.amazonaws.com", accountId))),
        description: "EventBridge runs batch tasks",
        permissionsBoundary: args.permissionsBoundary,
      },
      parent,
    );
    // Only these two task definitions, only on this cluster, only passing their own roles.
    new aws.iam.RolePolicy(
      `${name}-events`,
      {
        role: role.id,
        policy: pulumi
          .all([
            args.clusterArn,
            args.ingest.taskDefinitionArn,
            args.training.taskDefinitionArn,
            args.ingest.taskRoleArn,
            args.ingest.executionRoleArn,
            args.training.taskRoleArn,
            args.training.executionRoleArn,
          ])
          .apply(([clusterArn, ingestTd, trainingTd, ...roleArns]) =>
            JSON.stringify(
              eventsRunTaskPolicy({ clusterArn, taskDefinitionArns: [ingestTd, trainingTd], roleArns }),
            ),
          ),
      },
      parent,
    );

    const ecsTarget = (
      taskDefinitionArn: pulumi.Input<string>,
      securityGroupIds: pulumi.Input<string>[] = [taskSg.id],
    ) => ({
      taskDefinitionArn,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      taskCount: 1,
      networkConfiguration: {
        subnets: args.privateSubnetIds,
        securityGroups: securityGroupIds,
        assignPublicIp: false,
      },
    });
    const transformer = (t: InputTransformer) => ({
      inputPaths: t.inputPathsMap,
      inputTemplate: t.inputTemplate,
    });
    const delivery = { retryPolicy: RETRY_POLICY, deadLetterConfig: { arn: this.dlq.arn } };

    // New objects under raw/ in this environment's raw bucket.
    this.ingestRule = new aws.cloudwatch.EventRule(
      `${name}-raw-created`,
      {
        name: `${args.namePrefix}-raw-created`,
        description: "Raw file created: run featstore-engine",
        eventPattern: JSON.stringify(rawObjectCreatedPattern(args.rawBucket)),
      },
      parent,
    );
    // Runs featstore-engine with the object in its container overrides.
    new aws.cloudwatch.EventTarget(
      `${name}-raw-created`,
      {
        rule: this.ingestRule.name,
        arn: args.clusterArn,
        roleArn: role.arn,
        ecsTarget: ecsTarget(args.ingest.taskDefinitionArn),
        inputTransformer: transformer(rawObjectInputTransformer),
        ...delivery,
      },
      parent,
    );

    // Snapshots of this environment's processed bucket.
    this.snapshotRule = new aws.cloudwatch.EventRule(
      `${name}-snapshot-ready`,
      {
        name: `${args.namePrefix}-snapshot-ready`,
        description: "Snapshot ready: run training",
        eventPattern: JSON.stringify(snapshotReadyPattern(args.processedBucket)),
      },
      parent,
    );
    // Runs training on the announced snapshot.
    new aws.cloudwatch.EventTarget(
      `${name}-snapshot-ready`,
      {
        rule: this.snapshotRule.name,
        arn: args.clusterArn,
        roleArn: role.arn,
        ecsTarget: ecsTarget(args.training.taskDefinitionArn, trainingGroups),
        inputTransformer: transformer(snapshotReadyInputTransformer),
        ...delivery,
      },
      parent,
    );

    // Periodic retraining, on the latest snapshot, even without new data.
    this.scheduleRule = new aws.cloudwatch.EventRule(
      `${name}-training-schedule`,
      {
        name: `${args.namePrefix}-training-schedule`,
        description: "Scheduled training on the latest snapshot",
        scheduleExpression: args.training.schedule,
      },
      parent,
    );
    // Runs training without overrides: it reads processed/snapshots/latest.json.
    new aws.cloudwatch.EventTarget(
      `${name}-training-schedule`,
      {
        rule: this.scheduleRule.name,
        arn: args.clusterArn,
        roleArn: role.arn,
        ecsTarget: ecsTarget(args.training.taskDefinitionArn, trainingGroups),
        ...delivery,
      },
      parent,
    );

    // A run of one command in a task's container (the engine's `recover` and `erase --pending`,
    // training's `decide`), without transformer: the command is the whole input.
    type CommandTask = { taskDefinitionArn: pulumi.Input<string>; containerName: string };
    const commandTarget = (
      rule: aws.cloudwatch.EventRule,
      id: string,
      task: CommandTask,
      command: readonly string[],
      securityGroupIds?: pulumi.Input<string>[],
    ) =>
      new aws.cloudwatch.EventTarget(
        `${name}-${id}`,
        {
          rule: rule.name,
          arn: args.clusterArn,
          roleArn: role.arn,
          ecsTarget: ecsTarget(task.taskDefinitionArn, securityGroupIds),
          input: JSON.stringify(commandInput(task.containerName, command)),
          ...delivery,
        },
        parent,
      );
    // A rule `${namePrefix}-<id>` on a schedule, with one target running one command.
    const scheduledCommand = (
      id: string,
      description: string,
      scheduleExpression: string,
      task: CommandTask,
      command: readonly string[],
      securityGroupIds?: pulumi.Input<string>[],
    ) => {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${id}`,
        { name: `${args.namePrefix}-${id}`, description, scheduleExpression },
        parent,
      );
      commandTarget(rule, id, task, command, securityGroupIds);
      return rule;
    };
    // The engine's `recover` (featstore-engine/src/main.ts): re-runs ingestions whose task is gone.
    // Periodically: ingestions killed before their time limit are stale once it has passed.
    this.recoverScheduleRule = scheduledCommand(
      "recover-schedule",
      "Scheduled featstore-engine recover",
      RECOVER_SCHEDULE,
      args.ingest,
      RECOVER_COMMAND,
    );
    // An ingest task the raw rule started stopped after failing (a recover run that fails does not
    // match: it was not started by the raw rule, so recoveries never loop).
    this.recoverOnFailureRule = new aws.cloudwatch.EventRule(
      `${name}-recover-on-failure`,
      {
        name: `${args.namePrefix}-recover-on-failure`,
        description: "An ingest task failed: run featstore-engine recover",
        eventPattern: pulumi
          .output(args.clusterArn)
          .apply((cluster) =>
            JSON.stringify(taskFailedPattern(cluster, startedByRule(`${args.namePrefix}-raw-created`))),
          ),
      },
      parent,
    );
    // Runs featstore-engine's recover command at once (an ingestion stopped at its time limit is stale now).
    commandTarget(this.recoverOnFailureRule, "recover-on-failure", args.ingest, RECOVER_COMMAND);

    // Periodic erasure (docs/privacy.md): finishes every ledger entry the api's
    // `POST /admin/erasures` left `requested`.
    this.eraseScheduleRule = scheduledCommand(
      "erase-schedule",
      "Scheduled featstore-engine erase --pending",
      ERASE_SCHEDULE,
      args.ingest,
      ERASE_PENDING_COMMAND,
    );
    // The online decision (docs/online.md): promote or stop `@challenger` on the impression log,
    // with training's environment and network (it reaches MLflow); only with the online loop on.
    if (args.training.decideSchedule !== undefined)
      this.decideScheduleRule = scheduledCommand(
        "online-decide",
        "Scheduled training decide (online loop)",
        args.training.decideSchedule,
        args.training,
        DECIDE_COMMAND,
        trainingGroups,
      );

    // EventBridge may write to the dead-letter queue for the platform's rules only (all named
    // `${namePrefix}-…`: these, and the alert rule of the monitoring component).
    new aws.sqs.QueuePolicy(
      `${name}-dlq`,
      {
        queueUrl: this.dlq.url,
        policy: pulumi
          .all([this.dlq.arn, this.ingestRule.arn])
          .apply(([queueArn, ruleArn]) =>
            JSON.stringify(dlqPolicy(queueArn, [platformRulesArnPattern(ruleArn, args.namePrefix)])),
          ),
      },
      parent,
    );

    this.registerOutputs({ dlqUrl: this.dlq.url, ingestRule: this.ingestRule.name });
  }
}
