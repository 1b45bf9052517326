import {
  CONTAINER_NAMES,
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
import { beforeAll, describe, expect, test } from "@jest/globals";
import * as pulumi from "@pulumi/pulumi";
import { checkAll, INVARIANTS } from "../../src/invariants/checks.js";
import { ofType, type RecordedResource, T } from "../../src/invariants/resources.js";
import { interfaceEndpointServices } from "../../src/plan/aws-services.js";
import { type Built, buildPlatform } from "../support/build.js";
import { mocks, recorder } from "../support/mocks.js";
import { buildTimeoutMs } from "../support/timeouts.js";

const built: Record<string, Built> = {};
const STACKS_BUILT = ["dev", "prod", "dev-endpoints", "dev-build", "dev-digests", "prod-https", "prod-dns"];
beforeAll(async () => {
  for (const stack of STACKS_BUILT) built[stack] = await buildPlatform(stack);
}, buildTimeoutMs(STACKS_BUILT.length));
const rs = (stack = "dev") => {
  const b = built[stack];
  if (b === undefined) throw new Error(`stack ${stack} not built`);
  return b.resources;
};
const one = (resources: RecordedResource[], type: string, suffix: string) => {
  const found = resources.filter((r) => r.type === type && r.name.endsWith(suffix));
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};
const json = (value: unknown) => JSON.parse(value as string);

describe("the program runs under mocks, not against AWS", () => {
  test("the mocks recorded the whole program (a program imported without mocks records nothing)", () => {
    expect(pulumi.runtime.getProject()).toBe("gplay");
    expect(rs("dev").length).toBeGreaterThan(120);
    expect(rs("prod").length).toBeGreaterThan(rs("dev").length);
  });

  test("only the expected invokes were called, and any other invoke throws", () => {
    expect(new Set(recorder.calls)).toEqual(
      new Set([
        "aws:index/getAvailabilityZones:getAvailabilityZones",
        "aws:index/getCallerIdentity:getCallerIdentity",
      ]),
    );
    expect(() => mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {} })).toThrow(
      /unexpected invoke/,
    );
  });

  test("every resource below the root is a child of a gplay component or an AWS resource", () => {
    const types = new Set(rs("dev").map((r) => r.type));
    for (const t of types) expect(t).toMatch(/^(aws:|gplay:[a-z]+:[A-Z][A-Za-z]+$)/);
    expect([...types].filter((t) => t.startsWith("gplay:")).sort()).toEqual([
      "gplay:api:ApiService",
      "gplay:api:WebFirewall",
      "gplay:audit:AuditLogs",
      "gplay:ecs:FargateTask",
      "gplay:events:Pipelines",
      "gplay:lake:DataLake",
      "gplay:mlflow:MlflowDatabase",
      "gplay:mlflow:MlflowDbUser",
      "gplay:mlflow:MlflowService",
      "gplay:mlflow:MlflowTls",
      "gplay:monitoring:Monitoring",
      "gplay:network:Network",
      "gplay:platform:Platform",
      "gplay:registry:ContainerImages",
      "gplay:tables:FeatureTables",
    ]);
  });
});

describe.each(["dev", "prod", "dev-endpoints", "dev-build", "dev-digests", "prod-https", "prod-dns"])(
  "stack %s holds every invariant",
  (stack) => {
    const environment = stack.startsWith("prod") ? "prod" : "dev";
    test.each(INVARIANTS.map((i) => [i.id, i] as const))("%s", (_id, inv) => {
      expect(inv.check(rs(stack), { prefix: `gplay-${environment}`, environment })).toEqual([]);
    });
  },
);

describe("event rules are exactly common's contracts", () => {
  test("the raw rule's pattern and transformer equal rawObjectCreatedPattern and rawObjectInputTransformer", () => {
    const rule = one(rs(), T.rule, "-raw-created");
    expect(json(rule.inputs.eventPattern)).toEqual(rawObjectCreatedPattern(lakeBucketNames("gplay-dev").raw));
    const target = one(rs(), T.target, "-raw-created");
    expect(rule.inputs.name).toBe("gplay-dev-raw-created");
    expect(target.inputs.rule).toBe(rule.inputs.name);
    expect(target.inputs.inputTransformer).toEqual({
      inputPaths: rawObjectInputTransformer.inputPathsMap,
      inputTemplate: rawObjectInputTransformer.inputTemplate,
    });
    expect(
      json(target.inputs.inputTransformer.inputTemplate.replace(/<\w+>/g, '"x"')).containerOverrides[0].name,
    ).toBe(CONTAINER_NAMES.featstoreEngine);
  });

  test("the snapshot rule's pattern and transformer equal snapshotReadyPattern and snapshotReadyInputTransformer", () => {
    const rule = one(rs(), T.rule, "-snapshot-ready");
    expect(json(rule.inputs.eventPattern)).toEqual(
      snapshotReadyPattern(lakeBucketNames("gplay-dev").processed),
    );
    const target = one(rs(), T.target, "-snapshot-ready");
    expect(target.inputs.inputTransformer).toEqual({
      inputPaths: snapshotReadyInputTransformer.inputPathsMap,
      inputTemplate: snapshotReadyInputTransformer.inputTemplate,
    });
  });

  test("targets run on the cluster through the events role (or alert the alarm topic, or start the password runbook), retrying then dead-lettering to the encrypted DLQ", () => {
    const cluster = one(rs(), T.cluster, "-cluster");
    const topic = one(rs(), T.topic, "-monitoring-alarms");
    const dlq = one(rs(), T.queue, "-dlq");
    const targets = ofType(rs(), T.target);
    expect(targets.filter((t) => t.inputs.arn === topic.inputs.arn).map((t) => t.name)).toEqual([
      "gplay-monitoring-task-failed",
    ]);
    const runbookTargets = targets.filter((t) => String(t.inputs.arn).includes(":automation-definition/"));
    expect(runbookTargets.map((t) => t.name)).toEqual(["gplay-mlflow-db-user-secret-changed"]);
    for (const target of targets) {
      if (target.inputs.arn !== topic.inputs.arn && !runbookTargets.includes(target)) {
        expect(target.inputs.arn).toBe(cluster.inputs.arn);
        expect(target.inputs.roleArn).toBe(one(rs(), T.role, "-pipelines-events").inputs.arn);
      }
      expect(target.inputs.deadLetterConfig).toEqual({ arn: dlq.inputs.arn });
      expect(target.inputs.retryPolicy).toEqual({ maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 });
    }
    expect(dlq.inputs.sqsManagedSseEnabled).toBe(true);
  });
});

describe("workloads", () => {
  const containerOf = (stack: string, family: string) =>
    json(
      ofType(rs(stack), T.taskDefinition).find((t) => t.inputs.family === family)?.inputs
        .containerDefinitions,
    )[0];

  test("task images are <repository>:<imageTag> when images are built elsewhere", () => {
    const repo = one(rs(), T.repository, "-images-api");
    expect(containerOf("dev", "gplay-dev-api").image).toBe(`${repo.inputs.repositoryUrl}:abc123`);
    expect(ofType(rs(), T.image)).toHaveLength(0);
  });

  test("with buildImages, awsx builds each <workspace>/Dockerfile with the repo root as context and tasks pin the digest", () => {
    const images = ofType(rs("dev-build"), T.image);
    expect(images.map((i) => i.inputs.dockerfile).sort()).toEqual(
      ["api", "featstore-engine", "mlflow", "training"].map((w) => `/repo/${w}/Dockerfile`),
    );
    for (const i of images) expect(i.inputs).toMatchObject({ context: "/repo", platform: "linux/amd64" });
    expect(containerOf("dev-build", "gplay-dev-training").image).toMatch(
      /gplay-dev\/training@sha256:[0-9a-f]{64}$/,
    );
  });

  test("MLflow's database password arrives as an ECS secret of its own user; only the bootstrap gets the RDS master's", () => {
    const c = containerOf("dev", "gplay-dev-mlflow");
    const db = one(rs(), T.db, "-postgres");
    const secretArn = (id: string) => one(rs(), T.secret, `-${id}`).inputs.arn;
    expect(c.secrets).toEqual([
      { name: "MLFLOW_AUTH_ADMIN_PASSWORD", valueFrom: secretArn("mlflowAdminPassword") },
      { name: "MLFLOW_DB_PASSWORD", valueFrom: secretArn("mlflowDbPassword") },
      { name: "MLFLOW_FLASK_SERVER_SECRET_KEY", valueFrom: secretArn("mlflowFlaskSecretKey") },
    ]);
    expect(c.environment).toContainEqual({ name: "MLFLOW_DB_USER", value: "mlflow_app" });
    const bootstrap = containerOf("dev", "gplay-dev-mlflow-db-bootstrap");
    expect(bootstrap.entryPoint).toEqual(["python", "/app/bootstrap_db.py"]);
    expect(bootstrap.secrets).toEqual([
      {
        name: "MLFLOW_DB_MASTER_PASSWORD",
        valueFrom: `${db.inputs.masterUserSecrets[0].secretArn}:password::`,
      },
      { name: "MLFLOW_DB_PASSWORD", valueFrom: secretArn("mlflowDbPassword") },
    ]);
    expect(c.environment.map((e: { name: string }) => e.name)).not.toContain("MLFLOW_DB_PASSWORD");
    expect(c.environment).toContainEqual({
      name: "MLFLOW_ARTIFACTS_DESTINATION",
      value: "s3://gplay-dev-models/mlflow/",
    });
  });

  test("secrets live in Secrets Manager (platform key), each execution role reads exactly its task's", () => {
    const key = one(rs(), T.kmsKey, "-key");
    const secrets = ofType(rs(), T.secret);
    expect(secrets.map((x) => x.inputs.name).sort()).toEqual([
      "gplay-dev/api/api-keys",
      "gplay-dev/mlflow/admin-password",
      "gplay-dev/mlflow/db-password",
      "gplay-dev/mlflow/flask-secret-key",
      "gplay-dev/mlflow/service-password",
    ]);
    for (const x of secrets) expect(x.inputs.kmsKeyId).toBe(key.inputs.arn);
    const versions = ofType(rs(), "aws:secretsmanager/secretVersion:SecretVersion");
    for (const v of versions)
      expect(v.inputs.secretString).toMatchObject({
        [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      });
    const values = versions.map((v) => v.inputs.secretString.value as string);
    expect([...values].sort()).toEqual(
      [
        JSON.stringify([{ name: "web", key: "test-api-key-0123456789" }]),
        "test-admin-password",
        "test-flask-secret-key",
        "test-service-password",
        "test-db-password",
      ].sort(),
    );
    const arn = (id: string) => one(rs(), T.secret, `-${id}`).inputs.arn;
    const readable = (suffix: string) =>
      json(one(rs(), T.rolePolicy, suffix).inputs.policy).Statement.find(
        (x: { Sid?: string }) => x.Sid === "Secrets",
      )?.Resource;
    expect(readable("-api-execution")).toEqual([arn("apiKeys"), arn("mlflowServicePassword")]);
    expect(readable("-training-execution")).toEqual([arn("mlflowServicePassword")]);
    expect(readable("-featstore-engine-execution")).toBeUndefined();
    const db = one(rs(), T.db, "-postgres");
    // MLflow signs in to PostgreSQL as its own user; only the bootstrap task reads the master secret.
    expect(readable("-mlflow-execution")).toEqual([
      arn("mlflowDbPassword"),
      arn("mlflowAdminPassword"),
      arn("mlflowFlaskSecretKey"),
    ]);
    expect(readable("-mlflow-db-bootstrap-execution")).toEqual([
      db.inputs.masterUserSecrets[0].secretArn,
      arn("mlflowDbPassword"),
    ]);
    // No secret value appears in any task definition.
    for (const td of ofType(rs(), T.taskDefinition))
      for (const v of values) expect(td.inputs.containerDefinitions).not.toContain(v);
  });

  test("the API service sits behind the public ALB on /healthz with CPU and request-count scaling", () => {
    const tg = one(rs(), T.targetGroup, "-api-tg");
    expect(tg.inputs.healthCheck).toMatchObject({ path: "/healthz", matcher: "200" });
    expect(one(rs(), T.loadBalancer, "-api-alb").inputs.internal).toBe(false);
    const svc = one(rs(), T.service, "-api-service");
    expect(svc.inputs.loadBalancers).toEqual([
      { targetGroupArn: tg.inputs.arn, containerName: "api", containerPort: 8080 },
    ]);
    expect(svc.inputs.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    const kinds = ofType(rs(), T.scalingPolicy).map(
      (p) => p.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification,
    );
    expect(kinds).toContainEqual({ predefinedMetricType: "ECSServiceAverageCPUUtilization" });
    expect(kinds).toContainEqual({
      predefinedMetricType: "ALBRequestCountPerTarget",
      resourceLabel: "app/gplay-api-alb/1/targetgroup/gplay-api-tg/1",
    });
  });

  test("prod runs at least 2 API tasks over 3 AZs, a multi-AZ database and deletion protection", () => {
    const svc = one(rs("prod"), T.service, "-api-service");
    expect(svc.inputs.desiredCount).toBeGreaterThanOrEqual(2);
    expect(svc.inputs.networkConfiguration.subnets).toHaveLength(3);
    expect(one(rs("prod"), T.db, "-postgres").inputs).toMatchObject({
      multiAz: true,
      deletionProtection: true,
    });
    expect(one(rs("prod"), T.loadBalancer, "-api-alb").inputs.enableDeletionProtection).toBe(true);
    expect(ofType(rs("prod"), T.natGateway)).toHaveLength(3);
    expect(ofType(rs("prod"), T.table).every((t) => t.inputs.deletionProtectionEnabled === true)).toBe(true);
  });

  test("with a certificate the API serves HTTPS, redirects HTTP and gets its DNS name", () => {
    const listeners = ofType(rs("prod-https"), T.listener).filter((l) => l.name.includes("-api-"));
    expect(listeners.find((l) => l.inputs.port === 443)?.inputs).toMatchObject({ protocol: "HTTPS" });
    expect(listeners.find((l) => l.inputs.port === 80)?.inputs.defaultActions[0].type).toBe("redirect");
    expect(
      ofType(rs("prod-https"), "aws:route53/record:Record").filter((r) => r.name.includes("-api-")),
    ).toHaveLength(1);
    expect(built["prod-https"]?.outputs.apiUrl).toBe("https://api.gplay.example.com");
  });

  test("without a certificate, prod creates one for its domain and validates it by DNS in the hosted zone", () => {
    const cert = one(rs("prod-dns"), T.certificate, "-api-tls-cert");
    expect(cert.inputs).toMatchObject({ domainName: "api.gplay.example.com", validationMethod: "DNS" });
    const validation = one(rs("prod-dns"), T.certificateValidation, "-api-tls-cert");
    const record = one(rs("prod-dns"), "aws:route53/record:Record", "-api-tls-cert-validation");
    expect(record.inputs).toMatchObject({ zoneId: "Z0123456789ABC", type: "CNAME" });
    expect(validation.inputs.validationRecordFqdns).toEqual([record.inputs.name]);
    const https = one(rs("prod-dns"), T.listener, "-api-https");
    expect(https.inputs).toMatchObject({ port: 443, protocol: "HTTPS", certificateArn: cert.inputs.arn });
    expect(ofType(rs("prod"), T.certificate).filter((c) => c.name.includes("-api-"))).toHaveLength(0);
  });

  test("MLflow serves HTTPS only inside the VPC, under a private name, with an ACM certificate from the stack's private CA", () => {
    for (const stack of ["dev", "prod"] as const) {
      const listeners = ofType(rs(stack), T.listener).filter((l) => l.name.includes("-mlflow-"));
      expect(listeners.map((l) => l.inputs)).toEqual([
        expect.objectContaining({
          port: 443,
          protocol: "HTTPS",
          sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        }),
      ]);
      const cert = one(rs(stack), T.certificate, "-mlflow-tls-cert");
      const ca = one(rs(stack), T.privateCa, "-mlflow-tls-ca");
      expect(listeners[0]?.inputs.certificateArn).toBe(cert.inputs.arn);
      expect(cert.inputs).toMatchObject({
        domainName: `mlflow.gplay-${stack}.internal`,
        certificateAuthorityArn: ca.inputs.arn,
      });
      expect(cert.inputs.validationMethod).toBeUndefined();
      expect(ca.inputs).toMatchObject({ type: "ROOT", usageMode: "GENERAL_PURPOSE" });
      expect(one(rs(stack), T.privateCaPermission, "-mlflow-tls-ca-acm").inputs).toMatchObject({
        principal: "acm.amazonaws.com",
        actions: ["IssueCertificate", "GetCertificate", "ListPermissions"],
      });
      const zone = one(rs(stack), T.zone, "-mlflow-tls-zone");
      expect(zone.inputs.name).toBe(`gplay-${stack}.internal`);
      expect(zone.inputs.vpcs).toHaveLength(1);
      expect(one(rs(stack), T.record, "-mlflow-dns").inputs).toMatchObject({
        zoneId: zone.inputs.zoneId,
        name: `mlflow.gplay-${stack}.internal`,
        type: "A",
      });
      // The balancer takes HTTPS from MLflow's client group only; training and the api carry it.
      const clients = one(rs(stack), T.securityGroup, "-mlflow-clients");
      expect(one(rs(stack), T.securityGroup, "-mlflow-lb").inputs.ingress).toEqual([
        expect.objectContaining({ fromPort: 443, toPort: 443, securityGroups: [clients.id] }),
      ]);
      expect(one(rs(stack), T.service, "-api-service").inputs.networkConfiguration.securityGroups).toContain(
        clients.id,
      );
      const trainingTargets = ofType(rs(stack), T.target).filter((t) =>
        String(t.inputs.ecsTarget?.taskDefinitionArn ?? "").includes(`gplay-${stack}-training`),
      );
      expect(trainingTargets.length).toBeGreaterThan(0);
      for (const t of trainingTargets)
        expect(t.inputs.ecsTarget.networkConfiguration.securityGroups).toContain(clients.id);
    }
  });

  test("AWS WAF with the managed rule groups and a per-IP rate limit guards the public load balancer", () => {
    for (const stack of ["dev", "prod"]) {
      const acl = one(rs(stack), T.webAcl, "-api-waf-acl");
      expect(acl.inputs.rules.map((r: { name: string }) => r.name)).toEqual([
        "rate-per-ip",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
      ]);
      const association = one(rs(stack), T.webAclAssociation, "-api-waf-association");
      expect(association.inputs).toEqual(
        expect.objectContaining({
          resourceArn: one(rs(stack), T.loadBalancer, "-api-alb").inputs.arn,
          webAclArn: acl.inputs.arn,
        }),
      );
    }
  });

  test("prod and dev-with-digests run <repository>@<digest>; every repository has immutable tags", () => {
    for (const stack of ["prod", "dev-digests"]) {
      const repo = one(rs(stack), T.repository, "-images-api");
      const family = stack === "prod" ? "gplay-prod-api" : "gplay-dev-api";
      expect(containerOf(stack, family).image).toBe(`${repo.inputs.repositoryUrl}@sha256:${"3".repeat(64)}`);
      expect(ofType(rs(stack), T.image)).toHaveLength(0);
      expect(ofType(rs(stack), T.repository).map((r) => r.inputs.imageTagMutability)).toEqual(
        Array(4).fill("IMMUTABLE"),
      );
    }
  });

  test("without NAT, tasks reach every AWS service they call through interface endpoints with private DNS, EventBridge included", () => {
    expect(ofType(rs("dev-endpoints"), T.natGateway)).toHaveLength(0);
    const services = ofType(rs("dev-endpoints"), T.endpoint)
      .filter((e) => e.inputs.vpcEndpointType === "Interface" && e.inputs.privateDnsEnabled === true)
      .map((e) => e.inputs.serviceName);
    expect(services.sort()).toEqual(interfaceEndpointServices().map((s) => `com.amazonaws.us-east-1.${s}`));
    expect(services).toContain("com.amazonaws.us-east-1.events");
  });
});

describe("data stores and observability", () => {
  test("tables are common's TABLES with their key, TTL and recovery settings", () => {
    const names = tableNames("gplay-dev");
    for (const [key, def] of Object.entries(TABLES)) {
      const t = ofType(rs(), T.table).find((x) => x.inputs.name === names[key as keyof typeof names]);
      expect(t?.inputs).toMatchObject({
        billingMode: "PAY_PER_REQUEST",
        hashKey: def.partitionKey.name,
        ttl: { attributeName: def.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: false,
      });
    }
  });

  test("application alarms use METRIC_NAMESPACE, METRICS names and the Service/Environment dimensions", () => {
    const alarms = ofType(rs("prod"), T.alarm).filter((a) => a.inputs.namespace === METRIC_NAMESPACE);
    expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(
      [METRICS.api5xx, METRICS.apiLatency, METRICS.ingestFailures, METRICS.trainingFailures]
        .map((m) => m.name)
        .sort(),
    );
    for (const a of alarms)
      expect(Object.keys(a.inputs.dimensions).sort()).toEqual(["Environment", "Service"]);
    for (const a of alarms) expect(a.inputs.dimensions.Environment).toBe("prod");
  });

  test("the dev stack has no violations at all (checkAll)", () => {
    expect(checkAll(rs(), { prefix: "gplay-dev", environment: "dev" })).toEqual({});
  });
});
