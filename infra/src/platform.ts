import { MLFLOW_ARTIFACTS_PREFIX } from "@gplay/common";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiService } from "./components/api-service.js";
import { FargateTask } from "./components/fargate-task.js";
import { DataLake } from "./components/lake.js";
import { MLFLOW_DB, MlflowDatabase } from "./components/mlflow-database.js";
import { MlflowService } from "./components/mlflow-service.js";
import { Monitoring } from "./components/monitoring.js";
import { Network } from "./components/network.js";
import { Pipelines } from "./components/pipelines.js";
import { ContainerImages } from "./components/registry.js";
import { FeatureTables } from "./components/tables.js";
import type { PlatformConfig } from "./plan/config.js";
import {
  apiPolicy,
  featstoreEnginePolicy,
  mlflowPolicy,
  type PolicyDocument,
  type TaskPolicyContext,
  trainingPolicy,
} from "./plan/iam.js";
import { resourceNames } from "./plan/names.js";
import { ENV } from "./plan/tasks.js";

export interface PlatformOptions extends pulumi.ComponentResourceOptions {
  /** Monorepo root: the Docker build context of every image. */
  repoRoot: string;
}

/** What the services, CI and operators need from a stack (exported by index.ts). */
export interface PlatformOutputs {
  apiUrl: pulumi.Output<string>;
  mlflowTrackingUri: pulumi.Output<string>;
  clusterName: pulumi.Output<string>;
  services: { api: pulumi.Output<string>; mlflow: pulumi.Output<string> };
  buckets: { raw: pulumi.Output<string>; processed: pulumi.Output<string>; models: pulumi.Output<string> };
  tables: Record<string, string>;
  repositoryUrls: Record<string, pulumi.Output<string>>;
  taskDefinitions: Record<string, pulumi.Output<string>>;
  privateSubnetIds: pulumi.Output<string>[];
  batchSecurityGroupId: pulumi.Output<string>;
  dlqUrl: pulumi.Output<string>;
  alarmTopicArn: pulumi.Output<string>;
  dashboardName: string;
  resourcePrefix: string;
}

/**
 * The whole platform of one environment: network, lake, feature tables, images, cluster, the four
 * workloads, event pipelines and monitoring. `index.ts` builds one from the validated config.
 */
export class Platform extends pulumi.ComponentResource {
  readonly outputs: PlatformOutputs;

  constructor(name: string, cfg: PlatformConfig, opts: PlatformOptions) {
    const { repoRoot, ...componentOpts } = opts;
    super("gplay:platform:Platform", name, {}, componentOpts);
    const parent = { parent: this };
    const names = resourceNames(cfg.prefix);
    const prod = cfg.environment === "prod";

    const identity = aws.getCallerIdentityOutput({}, parent);

    // The platform key: lake objects, tables, the database and its secret.
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `${cfg.prefix} data at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: prod ? 30 : 7,
      },
      parent,
    );
    // A readable name for the key.
    new aws.kms.Alias(`${name}-key`, { name: `alias/${cfg.prefix}`, targetKeyId: key.keyId }, parent);

    const network = new Network(
      `${name}-network`,
      { cidr: cfg.vpcCidr, azCount: cfg.azCount, egress: cfg.egress, region: cfg.region },
      parent,
    );
    const lake = new DataLake(
      `${name}-lake`,
      { names: names.buckets, keyArn: key.arn, forceDestroy: !cfg.deletionProtection },
      parent,
    );
    const tables = new FeatureTables(
      `${name}-tables`,
      { names: names.tables, keyArn: key.arn, deletionProtection: cfg.deletionProtection },
      parent,
    );
    const images = new ContainerImages(
      `${name}-images`,
      {
        repositoryNames: names.repository,
        buildImages: cfg.buildImages,
        imageTag: cfg.imageTag,
        repoRoot,
        forceDelete: !cfg.deletionProtection,
      },
      parent,
    );

    // The cluster every task and service runs in, with Container Insights metrics.
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { name: names.cluster, settings: [{ name: "containerInsights", value: "enabled" }] },
      parent,
    );

    const database = new MlflowDatabase(
      `${name}-mlflow-db`,
      {
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        keyArn: key.arn,
        ...cfg.database,
        deletionProtection: cfg.deletionProtection,
      },
      parent,
    );

    const eventBusArn = pulumi.interpolate`arn:aws:events:${cfg.region}:${identity.accountId}:event-bus/default`;
    const policyContext: pulumi.Output<TaskPolicyContext> = pulumi
      .all([tables.arns, key.arn, eventBusArn])
      .apply(([tableArns, keyArn, busArn]) => ({
        buckets: names.buckets,
        tableArns,
        keyArn,
        eventBusArn: busArn,
      }));
    const policy = (build: (ctx: TaskPolicyContext) => PolicyDocument) =>
      policyContext.apply((ctx) => JSON.stringify(build(ctx)));

    const baseEnv = {
      [ENV.environment]: cfg.environment,
      [ENV.prefix]: cfg.prefix,
      [ENV.region]: cfg.region,
    };
    const tableEnv = {
      [ENV.tableUsers]: names.tables.users,
      [ENV.tableItems]: names.tables.items,
      [ENV.tableColdstart]: names.tables.coldstart,
      [ENV.tableIngestions]: names.tables.ingestions,
    };
    const task = (workload: "featstoreEngine" | "training" | "api" | "mlflow") => ({
      family: names.family[workload],
      containerName: names.container[workload],
      image: images.imageUris[workload],
      region: cfg.region,
      logGroupName: names.logGroup[workload],
      logRetentionDays: cfg.logRetentionDays,
      repositoryArn: images.repositories[workload].arn,
      keyArn: key.arn,
    });

    const mlflowTask = new FargateTask(
      `${name}-mlflow`,
      {
        ...task("mlflow"),
        ...cfg.mlflow,
        port: cfg.mlflow.port,
        environment: {
          ...baseEnv,
          [ENV.port]: String(cfg.mlflow.port),
          [ENV.mlflowDbHost]: database.instance.address,
          [ENV.mlflowDbPort]: String(MLFLOW_DB.port),
          [ENV.mlflowDbName]: MLFLOW_DB.name,
          [ENV.mlflowDbUser]: MLFLOW_DB.username,
          [ENV.mlflowArtifactsDestination]: `s3://${names.buckets.models}/${MLFLOW_ARTIFACTS_PREFIX}`,
        },
        // The RDS-managed secret is JSON; ECS extracts its `password` key.
        secrets: { [ENV.mlflowDbPassword]: pulumi.interpolate`${database.masterSecretArn}:password::` },
        secretArns: [database.masterSecretArn],
        taskPolicy: policy(mlflowPolicy),
      },
      parent,
    );
    const mlflow = new MlflowService(
      `${name}-mlflow`,
      {
        serviceName: `${cfg.prefix}-mlflow`,
        clusterArn: cluster.arn,
        vpcId: network.vpcId,
        vpcCidr: network.cidr,
        privateSubnetIds: network.privateSubnetIds,
        taskDefinitionArn: mlflowTask.taskDefinition.arn,
        containerName: names.container.mlflow,
        port: cfg.mlflow.port,
        desiredCount: cfg.mlflow.desiredCount,
        extraSecurityGroupIds: [database.clientSecurityGroup.id],
      },
      parent,
    );

    const engineTask = new FargateTask(
      `${name}-featstore-engine`,
      {
        ...task("featstoreEngine"),
        ...cfg.featstoreEngine,
        environment: {
          ...baseEnv,
          ...tableEnv,
          [ENV.rawBucket]: names.buckets.raw,
          [ENV.processedBucket]: names.buckets.processed,
        },
        secrets: {},
        secretArns: [],
        taskPolicy: policy(featstoreEnginePolicy),
      },
      parent,
    );
    const trainingTask = new FargateTask(
      `${name}-training`,
      {
        ...task("training"),
        cpu: cfg.training.cpu,
        memory: cfg.training.memory,
        environment: {
          ...baseEnv,
          ...tableEnv,
          [ENV.processedBucket]: names.buckets.processed,
          [ENV.modelsBucket]: names.buckets.models,
          [ENV.mlflowTrackingUri]: mlflow.trackingUri,
        },
        secrets: {},
        secretArns: [],
        taskPolicy: policy(trainingPolicy),
      },
      parent,
    );
    const apiTask = new FargateTask(
      `${name}-api`,
      {
        ...task("api"),
        cpu: cfg.api.cpu,
        memory: cfg.api.memory,
        port: cfg.api.port,
        healthCheckPath: "/healthz",
        environment: {
          ...baseEnv,
          ...tableEnv,
          [ENV.port]: String(cfg.api.port),
          [ENV.modelsBucket]: names.buckets.models,
          [ENV.mlflowTrackingUri]: mlflow.trackingUri,
        },
        secrets: {},
        secretArns: [],
        taskPolicy: policy(apiPolicy),
      },
      parent,
    );

    const api = new ApiService(
      `${name}-api`,
      {
        serviceName: `${cfg.prefix}-api`,
        clusterArn: cluster.arn,
        clusterName: cluster.name,
        vpcId: network.vpcId,
        vpcCidr: network.cidr,
        publicSubnetIds: network.publicSubnetIds,
        privateSubnetIds: network.privateSubnetIds,
        taskDefinitionArn: apiTask.taskDefinition.arn,
        containerName: names.container.api,
        port: cfg.api.port,
        minCount: cfg.api.minCount,
        maxCount: cfg.api.maxCount,
        cpuTargetPercent: cfg.api.cpuTargetPercent,
        requestsPerTarget: cfg.api.requestsPerTarget,
        deletionProtection: cfg.deletionProtection,
        ...(cfg.certificateArn !== undefined && { certificateArn: cfg.certificateArn }),
        ...(cfg.domain !== undefined && { domain: cfg.domain }),
        ...(cfg.hostedZoneId !== undefined && { hostedZoneId: cfg.hostedZoneId }),
      },
      parent,
    );

    const pipelines = new Pipelines(
      `${name}-pipelines`,
      {
        namePrefix: cfg.prefix,
        rawBucket: names.buckets.raw,
        processedBucket: names.buckets.processed,
        dlqName: names.dlq,
        clusterArn: cluster.arn,
        vpcId: network.vpcId,
        vpcCidr: network.cidr,
        privateSubnetIds: network.privateSubnetIds,
        ingest: {
          taskDefinitionArn: engineTask.taskDefinition.arn,
          taskRoleArn: engineTask.taskRole.arn,
          executionRoleArn: engineTask.executionRole.arn,
        },
        training: {
          taskDefinitionArn: trainingTask.taskDefinition.arn,
          taskRoleArn: trainingTask.taskRole.arn,
          executionRoleArn: trainingTask.executionRole.arn,
          schedule: cfg.training.schedule,
        },
      },
      parent,
    );

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        region: cfg.region,
        name: names.dashboard,
        ...(cfg.alarmEmail !== undefined && { alarmEmail: cfg.alarmEmail }),
        context: {
          environment: cfg.environment,
          clusterName: cluster.name,
          services: { api: api.service.name, mlflow: mlflow.service.name },
          dlqName: pipelines.dlq.name,
          albArnSuffix: api.loadBalancer.arnSuffix,
        },
      },
      parent,
    );

    this.outputs = {
      apiUrl: api.url,
      mlflowTrackingUri: mlflow.trackingUri,
      clusterName: cluster.name,
      services: { api: api.service.name, mlflow: mlflow.service.name },
      buckets: {
        raw: lake.buckets.raw.bucket,
        processed: lake.buckets.processed.bucket,
        models: lake.buckets.models.bucket,
      },
      tables: { ...names.tables },
      repositoryUrls: {
        featstoreEngine: images.repositories.featstoreEngine.repositoryUrl,
        training: images.repositories.training.repositoryUrl,
        api: images.repositories.api.repositoryUrl,
        mlflow: images.repositories.mlflow.repositoryUrl,
      },
      taskDefinitions: {
        featstoreEngine: engineTask.taskDefinition.arn,
        training: trainingTask.taskDefinition.arn,
      },
      privateSubnetIds: network.privateSubnetIds,
      batchSecurityGroupId: pipelines.taskSecurityGroup.id,
      dlqUrl: pipelines.dlq.url,
      alarmTopicArn: monitoring.topic.arn,
      dashboardName: names.dashboard,
      resourcePrefix: cfg.prefix,
    };
    this.registerOutputs({ apiUrl: api.url, mlflowTrackingUri: mlflow.trackingUri });
  }
}
