import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, doc } from "../plan/iam.js";
import { mlflowDbRotationRunbook, secretChangedPattern } from "../plan/operations.js";
import type { FargateTask } from "./fargate-task.js";
import { RETRY_POLICY } from "./pipelines.js";

export interface MlflowDbUserArgs {
  /** Physical name prefix of the rule and the runbook (`<prefix>-mlflow-db-…`). */
  namePrefix: string;
  region: string;
  accountId: pulumi.Input<string>;
  permissionsBoundary: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  /** MLflow's ECS service: replaced (a new deployment) once the new password is set. */
  serviceName: pulumi.Input<string>;
  /** The secret holding MLflow's database password: a new value of it starts the runbook. */
  passwordSecretArn: pulumi.Input<string>;
  /** The one-shot task running mlflow/server/bootstrap_db.py with the master and MLflow secrets. */
  bootstrapTask: FargateTask;
  privateSubnetIds: pulumi.Input<string>[];
  /** The bootstrap task's groups: HTTPS to AWS APIs, and the database's client group. */
  securityGroupIds: pulumi.Input<string>[];
  dlqArn: pulumi.Input<string>;
}

/**
 * MLflow's own database user, rotation-safe. MLflow signs in as `mlflow_app`, not as the RDS master
 * (whose managed secret RDS rotates every 7 days). When the user's secret gets a new value (first
 * deploy, `pulumi config set --secret gplay:mlflowDbPassword` + `pulumi up`, or a rotation),
 * EventBridge starts an SSM Automation runbook: the bootstrap task sets the password in PostgreSQL,
 * then MLflow gets a new deployment, whose tasks read the new secret (docs/security.md).
 */
export class MlflowDbUser extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule;
  readonly runbook: aws.ssm.Document;

  constructor(name: string, args: MlflowDbUserArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:mlflow:MlflowDbUser", name, {}, opts);
    const parent = { parent: this };
    // A role `service` assumes for this account, with the workload boundary and one inline policy.
    const role = (id: string, service: string, description: string, policy: pulumi.Input<string>) => {
      const r = new aws.iam.Role(
        `${name}-${id}`,
        {
          assumeRolePolicy: pulumi
            .output(args.accountId)
            .apply((accountId) => JSON.stringify(assumeRolePolicy(service, accountId))),
          description,
          permissionsBoundary: args.permissionsBoundary,
        },
        parent,
      );
      new aws.iam.RolePolicy(`${name}-${id}`, { role: r.id, policy }, parent);
      return r;
    };

    // The runbook: set the password (bootstrap task), wait for success, redeploy MLflow.
    this.runbook = new aws.ssm.Document(
      `${name}-runbook`,
      {
        name: `${args.namePrefix}-mlflow-db-rotation`,
        documentType: "Automation",
        documentFormat: "JSON",
        content: pulumi
          .all([
            args.clusterArn,
            args.serviceName,
            args.bootstrapTask.taskDefinition.arn,
            pulumi.all(args.privateSubnetIds),
            pulumi.all(args.securityGroupIds),
          ])
          .apply(([clusterArn, serviceName, td, subnetIds, securityGroupIds]) =>
            JSON.stringify(
              mlflowDbRotationRunbook({
                clusterArn,
                serviceName,
                bootstrapTaskDefinitionArn: td,
                subnetIds,
                securityGroupIds,
              }),
            ),
          ),
      },
      parent,
    );

    // The role the runbook acts as: run the bootstrap task, watch it, redeploy MLflow; nothing else.
    const automationRole = role(
      "automation",
      "ssm.amazonaws.com",
      "MLflow database password rotation runbook",
      // Only the bootstrap task on this cluster, only MLflow's service.
      pulumi
        .all([
          args.clusterArn,
          args.clusterName,
          args.serviceName,
          args.accountId,
          args.bootstrapTask.taskDefinition.arn,
          args.bootstrapTask.taskRole.arn,
          args.bootstrapTask.executionRole.arn,
        ])
        .apply(([clusterArn, clusterName, serviceName, accountId, td, ...roleArns]) =>
          JSON.stringify(
            doc(
              {
                Sid: "RunBootstrap",
                Effect: "Allow",
                Action: ["ecs:RunTask"],
                Resource: [td],
                Condition: { ArnEquals: { "ecs:cluster": clusterArn } },
              },
              {
                Sid: "WatchBootstrap",
                Effect: "Allow",
                Action: ["ecs:DescribeTasks"],
                Resource: [`arn:aws:ecs:${args.region}:${accountId}:task/${clusterName}/*`],
              },
              {
                Sid: "PassBootstrapRoles",
                Effect: "Allow",
                Action: ["iam:PassRole"],
                Resource: roleArns,
                Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
              },
              {
                Sid: "RedeployMlflow",
                Effect: "Allow",
                Action: ["ecs:UpdateService"],
                Resource: [`arn:aws:ecs:${args.region}:${accountId}:service/${clusterName}/${serviceName}`],
              },
            ),
          ),
        ),
    );

    // The role EventBridge assumes to start the runbook (and hand it its role).
    const definitionArn = pulumi.interpolate`arn:aws:ssm:${args.region}:${args.accountId}:automation-definition/${this.runbook.name}`;
    const eventsRole = role(
      "events",
      "events.amazonaws.com",
      "EventBridge starts the MLflow database password runbook",
      // Only this runbook, only passing its role to SSM.
      pulumi.all([definitionArn, automationRole.arn]).apply(([definition, roleArn]) =>
        JSON.stringify(
          doc(
            {
              Sid: "StartRunbook",
              Effect: "Allow",
              Action: ["ssm:StartAutomationExecution"],
              Resource: [definition, `${definition}:*`],
            },
            {
              Sid: "PassRunbookRole",
              Effect: "Allow",
              Action: ["iam:PassRole"],
              Resource: [roleArn],
              Condition: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
            },
          ),
        ),
      ),
    );

    // The MLflow user's secret got a new value (put by Pulumi, rotated, or a stage moved).
    this.rule = new aws.cloudwatch.EventRule(
      `${name}-secret-changed`,
      {
        name: `${args.namePrefix}-mlflow-db-secret-changed`,
        description: "MLflow's database password changed: apply it and redeploy MLflow",
        eventPattern: pulumi
          .output(args.passwordSecretArn)
          .apply((arn) => JSON.stringify(secretChangedPattern(arn))),
      },
      parent,
    );
    // Starts the runbook with its role.
    new aws.cloudwatch.EventTarget(
      `${name}-secret-changed`,
      {
        rule: this.rule.name,
        arn: pulumi.interpolate`${definitionArn}:$DEFAULT`,
        roleArn: eventsRole.arn,
        input: automationRole.arn.apply((roleArn) => JSON.stringify({ AutomationAssumeRole: [roleArn] })),
        retryPolicy: RETRY_POLICY,
        deadLetterConfig: { arn: args.dlqArn },
      },
      parent,
    );

    this.registerOutputs({ rule: this.rule.name, runbook: this.runbook.name });
  }
}
