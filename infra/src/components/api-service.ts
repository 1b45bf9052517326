import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TLS_POLICY } from "../plan/edge.js";
import { API_DRAIN } from "../plan/tasks.js";
import { ApiCertificate } from "./api-certificate.js";
import { WebFirewall } from "./web-firewall.js";

export interface ApiServiceArgs {
  serviceName: string;
  /** Where the ALB writes its access logs (prod's audit bucket), if anywhere. */
  accessLogs?: { bucket: pulumi.Input<string>; prefix: string };
  clusterArn: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  publicSubnetIds: pulumi.Input<string>[];
  privateSubnetIds: pulumi.Input<string>[];
  taskDefinitionArn: pulumi.Input<string>;
  containerName: string;
  port: number;
  minCount: number;
  maxCount: number;
  cpuTargetPercent: number;
  requestsPerTarget: number;
  deletionProtection: boolean;
  /** HTTPS with this certificate; without one, a certificate for `domain` is validated in `hostedZoneId`. */
  certificateArn?: string;
  domain?: string;
  hostedZoneId?: string;
  /** Prefix of the WAF metric names. */
  metricPrefix: string;
  /** The WAF rate-based rule's limit (requests per client IP per five minutes). */
  wafRatePerFiveMinutes: number;
  /** Extra groups for the tasks (MLflow's client group). */
  extraSecurityGroupIds: pulumi.Input<string>[];
}

export const API_HEALTH_PATH = "/healthz";

/**
 * The recommendation API: a Fargate service in private subnets behind a public ALB (health check
 * `/healthz`), target-tracking autoscaling on CPU and on requests per target, rollback on failed
 * deployments, AWS WAF on the load balancer. HTTPS when a certificate is configured or can be
 * validated in the hosted zone (HTTP then only redirects); config refuses prod without it.
 */
export class ApiService extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly service: aws.ecs.Service;

  constructor(name: string, args: ApiServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:api:ApiService", name, {}, opts);
    const parent = { parent: this };
    const certificateArn: pulumi.Input<string> | undefined =
      args.certificateArn ??
      (args.domain !== undefined && args.hostedZoneId !== undefined
        ? new ApiCertificate(`${name}-tls`, { domain: args.domain, hostedZoneId: args.hostedZoneId }, parent)
            .certificateArn
        : undefined);
    const https = certificateArn !== undefined;

    // The ALB accepts web traffic from anywhere and talks only to API tasks in the VPC.
    const albSg = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: args.vpcId,
        description: "Public API load balancer",
        ingress: [
          { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], description: "HTTP" },
          ...(https
            ? [
                {
                  protocol: "tcp",
                  fromPort: 443,
                  toPort: 443,
                  cidrBlocks: ["0.0.0.0/0"],
                  description: "HTTPS",
                },
              ]
            : []),
        ],
        egress: [
          {
            protocol: "tcp",
            fromPort: args.port,
            toPort: args.port,
            cidrBlocks: [args.vpcCidr],
            description: "API tasks",
          },
        ],
        tags: { Name: `${name}-alb` },
      },
      parent,
    );

    // API tasks accept traffic only from the ALB; they call AWS APIs over HTTPS.
    const serviceSg = new aws.ec2.SecurityGroup(
      `${name}-tasks`,
      {
        vpcId: args.vpcId,
        description: "API tasks",
        ingress: [
          {
            protocol: "tcp",
            fromPort: args.port,
            toPort: args.port,
            securityGroups: [albSg.id],
            description: "ALB",
          },
        ],
        egress: [
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "AWS APIs" },
        ],
        tags: { Name: `${name}-tasks` },
      },
      parent,
    );

    // Public load balancer in the public subnets.
    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [albSg.id],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.deletionProtection,
        idleTimeout: 30,
        ...(args.accessLogs !== undefined && {
          accessLogs: { bucket: args.accessLogs.bucket, prefix: args.accessLogs.prefix, enabled: true },
        }),
      },
      parent,
    );

    // API tasks register by IP; `/healthz` decides whether they get traffic.
    this.targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        port: args.port,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: args.vpcId,
        // Long enough for the api's drain (API_DRAIN: delay, then requests in flight).
        deregistrationDelay: API_DRAIN.deregistrationDelaySeconds,
        healthCheck: {
          path: API_HEALTH_PATH,
          matcher: "200",
          interval: 15,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
      },
      parent,
    );

    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    const listeners: aws.lb.Listener[] = [];
    if (https) {
      // HTTPS listener with the configured certificate.
      listeners.push(
        new aws.lb.Listener(
          `${name}-https`,
          {
            loadBalancerArn: this.loadBalancer.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: TLS_POLICY,
            certificateArn,
            defaultActions: forward,
          },
          parent,
        ),
      );
    }
    // HTTP listener: redirects to HTTPS when there is a certificate, forwards otherwise.
    listeners.push(
      new aws.lb.Listener(
        `${name}-http`,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: 80,
          protocol: "HTTP",
          defaultActions: https
            ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]
            : forward,
        },
        parent,
      ),
    );

    // WAF on the public load balancer.
    new WebFirewall(
      `${name}-waf`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        metricPrefix: args.metricPrefix,
        ratePerFiveMinutes: args.wafRatePerFiveMinutes,
      },
      parent,
    );

    // The service: private subnets, no public IP, rolled back when a deployment fails its health checks.
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        cluster: args.clusterArn,
        taskDefinition: args.taskDefinitionArn,
        desiredCount: args.minCount,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        networkConfiguration: {
          subnets: args.privateSubnetIds,
          securityGroups: [serviceSg.id, ...args.extraSecurityGroupIds],
          assignPublicIp: false,
        },
        loadBalancers: [
          {
            targetGroupArn: this.targetGroup.arn,
            containerName: args.containerName,
            containerPort: args.port,
          },
        ],
        healthCheckGracePeriodSeconds: 60,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        propagateTags: "SERVICE",
        enableExecuteCommand: false,
      },
      // Autoscaling owns the running count after creation.
      { ...parent, dependsOn: listeners, ignoreChanges: ["desiredCount"] },
    );

    // Scaling bounds of the service.
    const target = new aws.appautoscaling.Target(
      `${name}-scaling`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.clusterName}/${this.service.name}`,
        minCapacity: args.minCount,
        maxCapacity: args.maxCount,
      },
      parent,
    );
    // Scale on average CPU.
    new aws.appautoscaling.Policy(
      `${name}-cpu`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
          targetValue: args.cpuTargetPercent,
          scaleInCooldown: 120,
          scaleOutCooldown: 60,
        },
      },
      parent,
    );
    // Scale on requests per task.
    new aws.appautoscaling.Policy(
      `${name}-requests`,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: pulumi.interpolate`${this.loadBalancer.arnSuffix}/${this.targetGroup.arnSuffix}`,
          },
          targetValue: args.requestsPerTarget,
          scaleInCooldown: 120,
          scaleOutCooldown: 60,
        },
      },
      parent,
    );

    if (args.domain !== undefined && args.hostedZoneId !== undefined) {
      // The API's public name.
      new aws.route53.Record(
        `${name}-dns`,
        {
          zoneId: args.hostedZoneId,
          name: args.domain,
          type: "A",
          aliases: [
            { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true },
          ],
        },
        parent,
      );
    }

    const scheme = https ? "https" : "http";
    this.url =
      args.domain !== undefined
        ? pulumi.output(`${scheme}://${args.domain}`)
        : pulumi.interpolate`${scheme}://${this.loadBalancer.dnsName}`;
    this.registerOutputs({ url: this.url, serviceName: this.service.name });
  }
}
