import { ENGINE_NODE_OPTIONS, MLFLOW_ARTIFACTS_PREFIX } from "@gplay/common";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiService } from "./components/api-service.js";
import { AuditLogs } from "./components/audit-logs.js";
import { FargateTask } from "./components/fargate-task.js";
import { DataLake } from "./components/lake.js";
import { MLFLOW_DB, MlflowDatabase } from "./components/mlflow-database.js";
import { MlflowDbUser } from "./components/mlflow-db-user.js";
import { MlflowService } from "./components/mlflow-service.js";
import { MlflowTls } from "./components/mlflow-tls.js";
import { Monitoring } from "./components/monitoring.js";
import { Network } from "./components/network.js";
import { Pipelines } from "./components/pipelines.js";
import { ContainerImages } from "./components/registry.js";
import { FeatureTables } from "./components/tables.js";
import { policyArn, workloadBoundaryName } from "./plan/bootstrap.js";
import type { PlatformConfig } from "./plan/config.js";
import {
  apiPolicy,
  featstoreEnginePolicy,
  mlflowPolicy,
  type PolicyDocument,
  type TaskPolicyContext,
  trainingPolicy,
} from "./plan/iam.js";
import { platformKeyPolicy } from "./plan/keys.js";
import { resourceNames } from "./plan/names.js";
import { ecsExecLogGroupName, MLFLOW_DB_APP_USER, MLFLOW_DB_BOOTSTRAP_COMMAND } from "./plan/operations.js";
import { DEFAULT_RETENTION, type RetentionConfig } from "./plan/retention.js";
import {
  API_DRAIN,
  API_PROXY_HOPS,
  ENV,
  MLFLOW_ADMIN_USERNAME,
  MLFLOW_SERVICE_USERNAME,
  MODEL_NAME,
  mlflowAllowedHosts,
} from "./plan/tasks.js";

/**
 * Secret values from the stack config (`pulumi config set --secret …`, read with `requireSecret`).
 * Each is stored in its own Secrets Manager secret and reaches its tasks as an ECS `secret`.
 */
export interface PlatformSecrets {
  /** `GPLAY_API_KEYS` of the api: JSON [{name, key, ratePerSecond?, burst?}]. */
  apiKeys: pulumi.Input<string>;
  /** MLflow's admin password (the basic-auth app creates the admin with it at first start). */
  mlflowAdminPassword: pulumi.Input<string>;
  /** The basic-auth app's Flask secret key (CSRF), the same in every worker and task. */
  mlflowFlaskSecretKey: pulumi.Input<string>;
  /** Password of the MLflow user training and the api sign in as (docs/deploy.md creates it). */
  mlflowServicePassword: pulumi.Input<string>;
  /** Password of MLflow's own database user (components/mlflow-db-user.ts applies each new value). */
  mlflowDbPassword: pulumi.Input<string>;
}

/** Config keys of the secrets (index.ts reads them; docs/deploy.md lists them). */
export const SECRET_CONFIG_KEYS = {
  apiKeys: "apiKeys",
  mlflowAdminPassword: "mlflowAdminPassword",
  mlflowFlaskSecretKey: "mlflowFlaskSecretKey",
  mlflowServicePassword: "mlflowServicePassword",
  mlflowDbPassword: "mlflowDbPassword",
} as const satisfies Record<keyof PlatformSecrets, string>;

export interface PlatformOptions extends pulumi.ComponentResourceOptions {
  /** Monorepo root: the Docker build context of every image. */
  repoRoot: string;
  /** Retention per store (plan/retention.ts); the defaults when absent. */
  retention?: RetentionConfig;
  secrets: PlatformSecrets;
}

/** What the services, CI and operators need from a stack (exported by index.ts). */
export interface PlatformOutputs {
  apiUrl: pulumi.Output<string>;
  mlflowTrackingUri: pulumi.Output<string>;
  /** The private root CA's certificate (PEM): what a client of `mlflowTrackingUri` trusts. */
  mlflowCaCertificatePem: pulumi.Output<string>;
  clusterName: pulumi.Output<string>;
  services: { api: pulumi.Output<string>; mlflow: pulumi.Output<string> };
  buckets: { raw: pulumi.Output<string>; processed: pulumi.Output<string>; models: pulumi.Output<string> };
  tables: Record<string, string>;
  repositoryUrls: Record<string, pulumi.Output<string>>;
  taskDefinitions: Record<string, pulumi.Output<string>>;
  privateSubnetIds: pulumi.Output<string>[];
  /** featstore-engine's group (HTTPS egress only); training's also reaches MLflow. */
  batchSecurityGroupId: pulumi.Output<string>;
  trainingSecurityGroupId: pulumi.Output<string>;
  /** MLflow's client group: training tasks carry it beside their own (docs/deploy.md). */
  mlflowClientSecurityGroupId: pulumi.Output<string>;
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
    const { repoRoot, secrets, retention = DEFAULT_RETENTION, ...componentOpts } = opts;
    super("gplay:platform:Platform", name, {}, componentOpts);
    const parent = { parent: this };
    const names = resourceNames(cfg.prefix);
    const prod = cfg.environment === "prod";

    const identity = aws.getCallerIdentityOutput({}, parent);
    // Every role the platform creates carries the environment's workload boundary (infra/bootstrap):
    // the deploy role may create no role without it (docs/security.md).
    const permissionsBoundary = identity.accountId.apply((accountId) =>
      policyArn(accountId, workloadBoundaryName(cfg.environment)),
    );

    // The platform key: lake objects, tables, the database and its secrets, images, log groups and
    // the alarm topic (plan/keys.ts: who besides the account may use it).
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `${cfg.prefix} data at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: prod ? 30 : 7,
        policy: identity.accountId.apply((accountId) =>
          JSON.stringify(platformKeyPolicy(accountId, cfg.region)),
        ),
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
    const audit = new AuditLogs(
      `${name}-audit`,
      {
        prefix: cfg.prefix,
        prod,
        region: cfg.region,
        accountId: identity.accountId,
        vpcId: network.vpcId,
        lakeBuckets: Object.values(names.buckets),
        forceDestroy: !cfg.deletionProtection,
      },
      parent,
    );
    const lake = new DataLake(
      `${name}-lake`,
      { names: names.buckets, keyArn: key.arn, forceDestroy: !cfg.deletionProtection, retention },
      parent,
    );
    const tables = new FeatureTables(
      `${name}-tables`,
      {
        names: names.tables,
        keyArn: key.arn,
        deletionProtection: cfg.deletionProtection,
        pitrDays: retention.pitrDays,
      },
      parent,
    );
    const images = new ContainerImages(
      `${name}-images`,
      {
        repositoryNames: names.repository,
        buildImages: cfg.buildImages,
        imageTag: cfg.imageTag,
        ...(cfg.imageDigests !== undefined && { imageDigests: cfg.imageDigests }),
        repoRoot,
        keyArn: key.arn,
        forceDelete: !cfg.deletionProtection,
      },
      parent,
    );

    // ECS Exec sessions (operators' shells and port forwards), kept like the workloads' logs.
    const execLogs = new aws.cloudwatch.LogGroup(
      `${name}-ecs-exec-logs`,
      { name: ecsExecLogGroupName(cfg.prefix), retentionInDays: cfg.logRetentionDays, kmsKeyId: key.arn },
      parent,
    );
    // The cluster every task and service runs in, with Container Insights metrics; ECS Exec
    // sessions are encrypted with the platform key and logged.
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      {
        name: names.cluster,
        settings: [{ name: "containerInsights", value: "enabled" }],
        configuration: {
          executeCommandConfiguration: {
            kmsKeyId: key.arn,
            logging: "OVERRIDE",
            logConfiguration: { cloudWatchLogGroupName: execLogs.name, cloudWatchEncryptionEnabled: true },
          },
        },
      },
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

    // One Secrets Manager secret per value, encrypted with the platform key (which the execution
    // roles may decrypt with); each execution role may read only its own task's secrets.
    const secret = (id: keyof PlatformSecrets, description: string) => {
      const sm = new aws.secretsmanager.Secret(
        `${name}-${id}`,
        {
          name: names.secret[id],
          description,
          kmsKeyId: key.arn,
          recoveryWindowInDays: prod ? 30 : 0,
        },
        parent,
      );
      // The value, from the stack's encrypted config.
      new aws.secretsmanager.SecretVersion(
        `${name}-${id}`,
        { secretId: sm.id, secretString: pulumi.secret(secrets[id]) },
        parent,
      );
      return sm;
    };
    const apiKeysSecret = secret("apiKeys", "GPLAY_API_KEYS of the api (JSON list of clients)");
    const adminPasswordSecret = secret("mlflowAdminPassword", "MLflow basic-auth admin password");
    const flaskKeySecret = secret("mlflowFlaskSecretKey", "MLflow basic-auth Flask secret key");
    const servicePasswordSecret = secret(
      "mlflowServicePassword",
      `Password of the MLflow user ${MLFLOW_SERVICE_USERNAME} (training and api)`,
    );

    const dbPasswordSecret = secret(
      "mlflowDbPassword",
      `Password of MLflow's database user ${MLFLOW_DB_APP_USER} (a new value is applied, then MLflow redeployed)`,
    );

    const eventBusArn = pulumi.interpolate`arn:aws:events:${cfg.region}:${identity.accountId}:event-bus/default`;
    const policyContext: pulumi.Output<TaskPolicyContext> = pulumi
      .all([tables.arns, key.arn, eventBusArn, execLogs.arn])
      .apply(([tableArns, keyArn, busArn, execLogGroupArn]) => ({
        execLogGroupArn,
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
    const task = (workload: "featstoreEngine" | "training" | "api" | "mlflow") => ({
      family: names.family[workload],
      containerName: names.container[workload],
      image: images.imageUris[workload],
      region: cfg.region,
      logGroupName: names.logGroup[workload],
      logRetentionDays: cfg.logRetentionDays,
      repositoryArn: images.repositories[workload].arn,
      keyArn: key.arn,
      accountId: identity.accountId,
      permissionsBoundary,
    });

    // MLflow's private name, CA and certificate: its traffic inside the VPC is HTTPS.
    const mlflowTls = new MlflowTls(
      `${name}-mlflow-tls`,
      { prefix: cfg.prefix, vpcId: network.vpcId, prod },
      parent,
    );

    // MLflow's task definition is built inside the service, once its internal load balancer exists:
    // the balancer's DNS name is a Host header MLflow must accept.
    const mlflow = new MlflowService(
      `${name}-mlflow`,
      {
        serviceName: `${cfg.prefix}-mlflow`,
        clusterArn: cluster.arn,
        vpcId: network.vpcId,
        vpcCidr: network.cidr,
        privateSubnetIds: network.privateSubnetIds,
        taskDefinitionFor: (loadBalancerDns) => {
          const mlflowTask = new FargateTask(
            `${name}-mlflow`,
            {
              ...task("mlflow"),
              ...cfg.mlflow,
              port: cfg.mlflow.port,
              // Only what mlflow/server/entrypoint.sh documents (and boto3's region).
              environment: {
                [ENV.region]: cfg.region,
                [ENV.mlflowPort]: String(cfg.mlflow.port),
                [ENV.mlflowDbHost]: database.instance.address,
                [ENV.mlflowDbPort]: String(MLFLOW_DB.port),
                [ENV.mlflowDbName]: MLFLOW_DB.name,
                // MLflow's own user (never the RDS master, whose secret RDS rotates).
                [ENV.mlflowDbUser]: MLFLOW_DB_APP_USER,
                [ENV.mlflowDbSslMode]: "require",
                [ENV.mlflowArtifactsDestination]: `s3://${names.buckets.models}/${MLFLOW_ARTIFACTS_PREFIX}`,
                [ENV.mlflowAuthEnabled]: "true",
                [ENV.mlflowAuthAdminUsername]: MLFLOW_ADMIN_USERNAME,
                [ENV.mlflowAllowedHosts]: loadBalancerDns.apply((dns) =>
                  mlflowAllowedHosts(mlflowTls.hostname, dns, cfg.mlflow.port),
                ),
              },
              secrets: {
                [ENV.mlflowDbPassword]: dbPasswordSecret.arn,
                [ENV.mlflowAuthAdminPassword]: adminPasswordSecret.arn,
                [ENV.mlflowFlaskSecretKey]: flaskKeySecret.arn,
              },
              secretArns: [dbPasswordSecret.arn, adminPasswordSecret.arn, flaskKeySecret.arn],
              taskPolicy: policy(mlflowPolicy),
            },
            parent,
          );
          return mlflowTask.taskDefinition.arn;
        },
        containerName: names.container.mlflow,
        port: cfg.mlflow.port,
        desiredCount: cfg.mlflow.desiredCount,
        extraSecurityGroupIds: [database.clientSecurityGroup.id],
        tls: {
          hostname: mlflowTls.hostname,
          zoneId: mlflowTls.zoneId,
          certificateArn: mlflowTls.certificateArn,
        },
      },
      parent,
    );

    // training and the api sign in to MLflow as the service user, over HTTPS trusting the private CA.
    const mlflowClientEnv = {
      [ENV.mlflowTrackingUri]: mlflow.trackingUri,
      [ENV.mlflowTrackingCaPem]: mlflowTls.caCertificatePem,
      [ENV.mlflowTrackingUsername]: MLFLOW_SERVICE_USERNAME,
      [ENV.modelName]: MODEL_NAME,
    };
    const mlflowClientSecrets = { [ENV.mlflowTrackingPassword]: servicePasswordSecret.arn };

    // Per-run variables (the object or snapshot) come from the EventBridge container overrides.
    const engineTask = new FargateTask(
      `${name}-featstore-engine`,
      {
        ...task("featstoreEngine"),
        ...cfg.featstoreEngine,
        // The heap cap the engine's memory figures were measured under (common's engine-runtime.ts).
        environment: {
          ...baseEnv,
          [ENV.readerRetentionDays]: String(retention.inactiveReaderDays),
          [ENV.nodeOptions]: ENGINE_NODE_OPTIONS,
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
          ...mlflowClientEnv,
          // The online loop: the gate's winner becomes `@challenger`; `decide` moves `@champion`.
          ...(cfg.online.enabled && { [ENV.onlineLoop]: "true" }),
        },
        secrets: { ...mlflowClientSecrets },
        secretArns: [servicePasswordSecret.arn],
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
          ...mlflowClientEnv,
          [ENV.port]: String(cfg.api.port),
          [ENV.drainDelayMs]: String(API_DRAIN.delayMs),
          [ENV.drainTimeoutMs]: String(API_DRAIN.timeoutMs),
          [ENV.trustProxyHops]: String(API_PROXY_HOPS),
          [ENV.readerRetentionDays]: String(retention.inactiveReaderDays),
          // The online loop: this share of readers is served by `@challenger` (when one is set).
          ...(cfg.online.enabled && { [ENV.challengerShare]: String(cfg.online.challengerShare) }),
        },
        secrets: { ...mlflowClientSecrets, [ENV.apiKeys]: apiKeysSecret.arn },
        secretArns: [apiKeysSecret.arn, servicePasswordSecret.arn],
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
        metricPrefix: `${cfg.prefix}-api`,
        wafRatePerFiveMinutes: cfg.wafRatePerFiveMinutes,
        ...(audit.albLogs !== undefined && { accessLogs: audit.albLogs }),
        extraSecurityGroupIds: [mlflow.clientSecurityGroup.id],
      },
      parent,
    );

    const pipelines = new Pipelines(
      `${name}-pipelines`,
      {
        namePrefix: cfg.prefix,
        accountId: identity.accountId,
        permissionsBoundary,
        rawBucket: names.buckets.raw,
        processedBucket: names.buckets.processed,
        dlqName: names.dlq,
        clusterArn: cluster.arn,
        vpcId: network.vpcId,
        vpcCidr: network.cidr,
        privateSubnetIds: network.privateSubnetIds,
        ingest: {
          containerName: names.container.featstoreEngine,
          taskDefinitionArn: engineTask.taskDefinition.arn,
          taskRoleArn: engineTask.taskRole.arn,
          executionRoleArn: engineTask.executionRole.arn,
        },
        training: {
          taskDefinitionArn: trainingTask.taskDefinition.arn,
          taskRoleArn: trainingTask.taskRole.arn,
          executionRoleArn: trainingTask.executionRole.arn,
          containerName: names.container.training,
          schedule: cfg.training.schedule,
          ...(cfg.online.enabled && { decideSchedule: cfg.online.decideSchedule }),
          mlflowClientSecurityGroupId: mlflow.clientSecurityGroup.id,
        },
      },
      parent,
    );

    // The one-shot task that creates MLflow's database user or sets its new password
    // (mlflow/server/bootstrap_db.py in the MLflow image), signed in as the RDS master.
    const dbBootstrapTask = new FargateTask(
      `${name}-mlflow-db-bootstrap`,
      {
        ...task("mlflow"),
        family: `${names.family.mlflow}-db-bootstrap`,
        containerName: "mlflow-db-bootstrap",
        logGroupName: `${names.logGroup.mlflow}-db-bootstrap`,
        cpu: 256,
        memory: 512,
        entryPoint: [...MLFLOW_DB_BOOTSTRAP_COMMAND],
        environment: {
          [ENV.mlflowDbHost]: database.instance.address,
          [ENV.mlflowDbPort]: String(MLFLOW_DB.port),
          [ENV.mlflowDbName]: MLFLOW_DB.name,
          [ENV.mlflowDbSslMode]: "require",
          MLFLOW_DB_MASTER_USER: MLFLOW_DB.username,
          [ENV.mlflowDbUser]: MLFLOW_DB_APP_USER,
        },
        secrets: {
          // The RDS-managed master secret is JSON; ECS extracts its `password` key at task start,
          // so a run always has the current (rotated) master password.
          MLFLOW_DB_MASTER_PASSWORD: pulumi.interpolate`${database.masterSecretArn}:password::`,
          [ENV.mlflowDbPassword]: dbPasswordSecret.arn,
        },
        secretArns: [database.masterSecretArn, dbPasswordSecret.arn],
      },
      parent,
    );
    new MlflowDbUser(
      `${name}-mlflow-db-user`,
      {
        namePrefix: cfg.prefix,
        region: cfg.region,
        accountId: identity.accountId,
        permissionsBoundary,
        clusterArn: cluster.arn,
        clusterName: cluster.name,
        serviceName: mlflow.service.name,
        passwordSecretArn: dbPasswordSecret.arn,
        bootstrapTask: dbBootstrapTask,
        privateSubnetIds: network.privateSubnetIds,
        // HTTPS to AWS APIs (the batch group) and PostgreSQL (the database's client group).
        securityGroupIds: [pipelines.taskSecurityGroup.id, database.clientSecurityGroup.id],
        dlqArn: pipelines.dlq.arn,
      },
      parent,
    );

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        region: cfg.region,
        name: names.dashboard,
        ...(cfg.alarmEmail !== undefined && { alarmEmail: cfg.alarmEmail }),
        keyArn: key.arn,
        clusterArn: cluster.arn,
        taskFailedRuleName: `${cfg.prefix}-task-failed`,
        dlqArn: pipelines.dlq.arn,
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
      mlflowCaCertificatePem: mlflowTls.caCertificatePem,
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
      trainingSecurityGroupId: pipelines.trainingSecurityGroup.id,
      mlflowClientSecurityGroupId: mlflow.clientSecurityGroup.id,
      dlqUrl: pipelines.dlq.url,
      alarmTopicArn: monitoring.topic.arn,
      dashboardName: names.dashboard,
      resourcePrefix: cfg.prefix,
    };
    this.registerOutputs({ apiUrl: api.url, mlflowTrackingUri: mlflow.trackingUri });
  }
}
