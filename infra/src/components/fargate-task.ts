import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy, executionPolicy } from "../plan/iam.js";
import { containerDefinition } from "../plan/tasks.js";

export interface FargateTaskArgs {
  family: string;
  containerName: string;
  image: pulumi.Input<string>;
  cpu: number;
  memory: number;
  region: string;
  logGroupName: string;
  logRetentionDays: number;
  /** Plain, non-secret settings. */
  environment: Record<string, pulumi.Input<string>>;
  /** Variable name → Secrets Manager ARN (optionally `:json-key::`); injected by ECS at start. */
  secrets: Record<string, pulumi.Input<string>>;
  /** Secrets Manager secret ARNs the execution role may read (without JSON-key suffixes). */
  secretArns: pulumi.Input<string>[];
  /** The task role's policy document, already serialised (none: the application calls no AWS API). */
  taskPolicy?: pulumi.Input<string>;
  repositoryArn: pulumi.Input<string>;
  keyArn: pulumi.Input<string>;
  /** The account the roles live in: only its ECS may assume them (aws:SourceAccount). */
  accountId: pulumi.Input<string>;
  /** The environment's workload boundary (infra/bootstrap), carried by both roles. */
  permissionsBoundary: pulumi.Input<string>;
  port?: number;
  healthCheckPath?: string;
  /** Replaces the image's entrypoint (a one-shot job of a service's image). */
  entryPoint?: string[];
}

/**
 * A Fargate task definition with its own log group (retention set), its own execution role (pull
 * this image, write this log group, read these secrets) and its own least-privilege task role.
 */
export class FargateTask extends pulumi.ComponentResource {
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly taskRole: aws.iam.Role;
  readonly executionRole: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: FargateTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:ecs:FargateTask", name, {}, opts);
    const parent = { parent: this };

    // Logs of this workload, kept for the configured retention, encrypted with the platform key.
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: args.logGroupName, retentionInDays: args.logRetentionDays, kmsKeyId: args.keyArn },
      parent,
    );

    const trust = pulumi
      .output(args.accountId)
      .apply((accountId) => JSON.stringify(assumeRolePolicy("ecs-tasks.amazonaws.com", accountId)));
    // The ECS agent's role for this task only.
    this.executionRole = new aws.iam.Role(
      `${name}-execution`,
      {
        assumeRolePolicy: trust,
        description: `ECS agent for ${args.family}`,
        permissionsBoundary: args.permissionsBoundary,
      },
      parent,
    );
    // What the agent may do: pull, log, read the task's secrets.
    new aws.iam.RolePolicy(
      `${name}-execution`,
      {
        role: this.executionRole.id,
        policy: pulumi
          .all([args.repositoryArn, this.logGroup.arn, pulumi.all(args.secretArns), args.keyArn])
          .apply(([repositoryArn, logGroupArn, secretArns, keyArn]) =>
            JSON.stringify(executionPolicy({ repositoryArn, logGroupArn, secretArns, keyArn })),
          ),
      },
      parent,
    );

    // The application's role.
    this.taskRole = new aws.iam.Role(
      `${name}-task`,
      {
        assumeRolePolicy: trust,
        description: `Application role of ${args.family}`,
        permissionsBoundary: args.permissionsBoundary,
      },
      parent,
    );
    // What the application may do (see plan/iam.ts).
    if (args.taskPolicy !== undefined)
      new aws.iam.RolePolicy(`${name}-task`, { role: this.taskRole.id, policy: args.taskPolicy }, parent);

    // The task definition: one essential container, awsvpc networking, logs to the group above.
    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-taskdef`,
      {
        family: args.family,
        cpu: String(args.cpu),
        memory: String(args.memory),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        containerDefinitions: pulumi.jsonStringify([
          containerDefinition<pulumi.Input<string>>({
            name: args.containerName,
            image: args.image,
            cpu: args.cpu,
            memory: args.memory,
            environment: args.environment,
            secrets: args.secrets,
            logGroup: this.logGroup.name,
            region: args.region,
            ...(args.port !== undefined && { port: args.port }),
            ...(args.healthCheckPath !== undefined && { healthCheckPath: args.healthCheckPath }),
            ...(args.entryPoint !== undefined && { entryPoint: args.entryPoint }),
          }),
        ]),
      },
      parent,
    );

    this.registerOutputs({
      taskDefinitionArn: this.taskDefinition.arn,
      taskRoleArn: this.taskRole.arn,
      executionRoleArn: this.executionRole.arn,
      logGroupName: this.logGroup.name,
    });
  }
}
