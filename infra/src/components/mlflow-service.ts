import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TLS_POLICY } from "../plan/edge.js";
import { MLFLOW_HTTPS_PORT } from "../plan/internal-tls.js";

export interface MlflowServiceArgs {
  serviceName: string;
  clusterArn: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<string>[];
  /**
   * Builds the task definition once the load balancer exists (MLflow must accept its DNS name as a
   * Host header) and returns its ARN.
   */
  taskDefinitionFor: (loadBalancerDnsName: pulumi.Output<string>) => pulumi.Input<string>;
  containerName: string;
  port: number;
  desiredCount: number;
  /** Extra groups for the tasks (the database's client group). */
  extraSecurityGroupIds: pulumi.Input<string>[];
  /** MLflow's private name, its zone and its ACM private certificate (components/mlflow-tls.ts). */
  tls: { hostname: string; zoneId: pulumi.Input<string>; certificateArn: pulumi.Input<string> };
}

/** MLflow's liveness endpoint. */
export const MLFLOW_HEALTH_PATH = "/health";

/**
 * The MLflow tracking server: a Fargate service behind an internal ALB that serves HTTPS only, under
 * a private name, to the tasks that carry `clientSecurityGroup`; ECS Exec on so operators
 * port-forward to its UI (docs/deploy.md).
 */
export class MlflowService extends pulumi.ComponentResource {
  readonly trackingUri: pulumi.Output<string>;
  readonly service: aws.ecs.Service;
  readonly loadBalancer: aws.lb.LoadBalancer;
  /** Carried by MLflow's clients (training, the api): the load balancer accepts no other source. */
  readonly clientSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: MlflowServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:mlflow:MlflowService", name, {}, opts);
    const parent = { parent: this };

    // MLflow's clients: HTTPS to the internal load balancer (their own groups reach AWS APIs).
    this.clientSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-clients`,
      {
        vpcId: args.vpcId,
        description: "MLflow clients",
        ingress: [],
        egress: [
          {
            protocol: "tcp",
            fromPort: MLFLOW_HTTPS_PORT,
            toPort: MLFLOW_HTTPS_PORT,
            cidrBlocks: [args.vpcCidr],
            description: "MLflow internal load balancer (HTTPS)",
          },
        ],
        tags: { Name: `${name}-clients` },
      },
      parent,
    );
    // The internal ALB accepts HTTPS from MLflow's clients only.
    const lbSg = new aws.ec2.SecurityGroup(
      `${name}-lb`,
      {
        vpcId: args.vpcId,
        description: "MLflow internal load balancer",
        ingress: [
          {
            protocol: "tcp",
            fromPort: MLFLOW_HTTPS_PORT,
            toPort: MLFLOW_HTTPS_PORT,
            securityGroups: [this.clientSecurityGroup.id],
            description: "MLflow clients (HTTPS)",
          },
        ],
        egress: [
          {
            protocol: "tcp",
            fromPort: args.port,
            toPort: args.port,
            cidrBlocks: [args.vpcCidr],
            description: "MLflow tasks",
          },
        ],
        tags: { Name: `${name}-lb` },
      },
      parent,
    );
    // MLflow tasks accept traffic from their load balancer only.
    const taskSg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: args.vpcId,
        description: "MLflow tasks",
        ingress: [
          {
            protocol: "tcp",
            fromPort: args.port,
            toPort: args.port,
            securityGroups: [lbSg.id],
            description: "internal ALB",
          },
        ],
        egress: [
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "AWS APIs" },
        ],
        tags: { Name: `${name}-tasks` },
      },
      parent,
    );

    // Internal load balancer in the private subnets.
    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-lb`,
      {
        loadBalancerType: "application",
        internal: true,
        subnets: args.privateSubnetIds,
        securityGroups: [lbSg.id],
        dropInvalidHeaderFields: true,
        // Large artifact uploads are proxied through MLflow.
        idleTimeout: 300,
      },
      parent,
    );
    // MLflow tasks by IP, checked on `/health`.
    const tg = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        port: args.port,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: args.vpcId,
        deregistrationDelay: 30,
        healthCheck: { path: MLFLOW_HEALTH_PATH, matcher: "200", interval: 30, timeout: 5 },
      },
      parent,
    );
    // HTTPS inside the VPC with the private certificate; there is no HTTP listener.
    const listener = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: MLFLOW_HTTPS_PORT,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: args.tls.certificateArn,
        defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
      },
      parent,
    );
    // MLflow's private name → the internal load balancer.
    const record = new aws.route53.Record(
      `${name}-dns`,
      {
        zoneId: args.tls.zoneId,
        name: args.tls.hostname,
        type: "A",
        aliases: [
          { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true },
        ],
      },
      parent,
    );

    // The tracking server; ECS Exec on for `aws ecs execute-command` / SSM port forwarding.
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        cluster: args.clusterArn,
        taskDefinition: args.taskDefinitionFor(this.loadBalancer.dnsName),
        desiredCount: args.desiredCount,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        enableExecuteCommand: true,
        networkConfiguration: {
          subnets: args.privateSubnetIds,
          securityGroups: [taskSg.id, ...args.extraSecurityGroupIds],
          assignPublicIp: false,
        },
        loadBalancers: [
          { targetGroupArn: tg.arn, containerName: args.containerName, containerPort: args.port },
        ],
        healthCheckGracePeriodSeconds: 120,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        propagateTags: "SERVICE",
      },
      { ...parent, dependsOn: [listener] },
    );

    // The name the certificate covers, resolvable once the record exists.
    this.trackingUri = pulumi.interpolate`https://${record.fqdn}`;
    this.registerOutputs({ trackingUri: this.trackingUri, serviceName: this.service.name });
  }
}
