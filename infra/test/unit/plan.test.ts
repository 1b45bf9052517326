import {
  emfDocument,
  lakeBucketNames,
  METRIC_NAMESPACE,
  METRICS,
  PROCESSED_PREFIX,
  RAW_PREFIX,
  tableNames,
} from "@gplay/common";
import { describe, expect, test } from "@jest/globals";
import { alarmSpecs, dashboardBody } from "../../src/plan/alarms.js";
import {
  ECR_PULL_ACTIONS,
  environmentBoundary,
  githubOidcTrustPolicy,
  parseEnvironments,
  stateBackendPolicy,
} from "../../src/plan/bootstrap.js";
import { ConfigError, parseConfig } from "../../src/plan/config.js";
import { WAF_MANAGED_RULE_GROUPS, webAclRules } from "../../src/plan/edge.js";
import {
  apiPolicy,
  assumeRolePolicy,
  dlqPolicy,
  eventsRunTaskPolicy,
  executionPolicy,
  featstoreEnginePolicy,
  mlflowPolicy,
  type TaskPolicyContext,
  tlsOnlyBucketPolicy,
  trainingPolicy,
  WILDCARD_ACTIONS,
} from "../../src/plan/iam.js";
import {
  internalZoneName,
  MLFLOW_HTTPS_PORT,
  mlflowHostname,
  mlflowTrackingUri,
  PRIVATE_CA,
} from "../../src/plan/internal-tls.js";
import { lifecycleRules } from "../../src/plan/lifecycle.js";
import { resourceNames } from "../../src/plan/names.js";
import {
  cidrContains,
  endpointServiceName,
  parseCidr,
  planSubnets,
  subnetOf,
} from "../../src/plan/network.js";
import { onlineWidgets } from "../../src/plan/online-dashboard.js";
import {
  DEFAULT_RETENTION,
  ERASURE_BACKUP_MAX_AGE_DAYS,
  parseRetention,
  retentionProblems,
  retentionRules,
} from "../../src/plan/retention.js";
import { fargateSizeProblem } from "../../src/plan/sizes.js";
import { containerDefinition, mlflowAllowedHosts, SECRET_NAME_PATTERN } from "../../src/plan/tasks.js";

describe("config", () => {
  const base = { region: "us-east-1" };

  test("fills dev defaults from the stack name", () => {
    const cfg = parseConfig(base, "dev");
    expect(cfg).toMatchObject({
      environment: "dev",
      prefix: "gplay-dev",
      azCount: 2,
      egress: "nat-single",
      deletionProtection: false,
    });
    expect(cfg.api.minCount).toBe(1);
  });

  const prodBase = {
    ...base,
    domain: "api.example.com",
    certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
    imageDigests: Object.fromEntries(
      ["featstoreEngine", "training", "api", "mlflow"].map((w) => [w, `sha256:${"a".repeat(64)}`]),
    ),
  };

  test("prod defaults to two API tasks, two MLflow tasks, a multi-AZ database, 90-day logs and deletion protection", () => {
    const cfg = parseConfig(prodBase, "prod");
    expect(cfg).toMatchObject({ deletionProtection: true, logRetentionDays: 90 });
    expect(cfg.api.minCount).toBe(2);
    expect(cfg.mlflow.desiredCount).toBe(2);
    expect(cfg.database.multiAz).toBe(true);
    expect(parseConfig(base, "dev").mlflow.desiredCount).toBe(1);
  });

  test("prod refuses a single MLflow task", () => {
    expect(() => parseConfig({ ...prodBase, mlflow: { desiredCount: 1 } }, "prod")).toThrow(
      /mlflow.desiredCount: prod runs at least 2 MLflow tasks/,
    );
  });

  test("accepts numbers given as strings (pulumi config set stores strings)", () => {
    expect(parseConfig({ ...base, azCount: "3", buildImages: "false" }, "dev")).toMatchObject({
      azCount: 3,
      buildImages: false,
    });
  });

  test("lists every problem at once", () => {
    const bad = {
      azCount: 1,
      egress: "carrier-pigeon",
      api: { cpu: 256, memory: 8192, minCount: 1 },
      database: { multiAz: false },
      deletionProtection: false,
      logRetentionDays: 10,
      domain: "api.example.com",
    };
    let error: unknown;
    try {
      parseConfig(bad, "prod");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).problems.map((p) => p.split(":")[0]);
    expect(keys).toEqual(
      expect.arrayContaining([
        "aws",
        "azCount",
        "egress",
        "api",
        "api.minCount",
        "database.multiAz",
        "deletionProtection",
        "logRetentionDays",
        "certificateArn",
      ]),
    );
  });

  test("prod refuses to build without TLS on the public listener", () => {
    const { certificateArn: _c, domain: _d, ...noTls } = prodBase;
    expect(() => parseConfig(noTls, "prod")).toThrow(/prod serves the API over HTTPS only/);
    expect(() => parseConfig({ ...noTls, domain: "api.example.com" }, "prod")).toThrow(/certificateArn/);
    expect(
      parseConfig({ ...noTls, domain: "api.example.com", hostedZoneId: "Z0123ABC" }, "prod"),
    ).toMatchObject({
      domain: "api.example.com",
      hostedZoneId: "Z0123ABC",
    });
    expect(parseConfig(prodBase, "prod").certificateArn).toBe(prodBase.certificateArn);
    expect(() => parseConfig({ ...base, certificateArn: prodBase.certificateArn }, "dev")).toThrow(/domain/);
  });

  test("refuses a featstore-engine task smaller than its heap cap needs", () => {
    expect(parseConfig(base, "dev").featstoreEngine.memory).toBe(2048);
    expect(() => parseConfig({ ...base, featstoreEngine: { cpu: 512, memory: 1024 } }, "dev")).toThrow(
      /featstoreEngine.memory: at least 2048 MiB/,
    );
    expect(
      parseConfig({ ...base, featstoreEngine: { cpu: 1024, memory: 3072 } }, "dev").featstoreEngine,
    ).toEqual({
      cpu: 1024,
      memory: 3072,
    });
  });

  test("prod deploys CI's digests and never builds; digests are checked per workload", () => {
    const { imageDigests: _i, ...noDigests } = prodBase;
    expect(() => parseConfig(noDigests, "prod")).toThrow(/imageDigests: prod deploys images by digest/);
    expect(() => parseConfig({ ...prodBase, buildImages: true }, "prod")).toThrow(/prod never builds/);
    expect(() => parseConfig({ ...base, imageDigests: { api: "sha256:abc" } }, "dev")).toThrow(
      /featstoreEngine, training, api, mlflow/,
    );
    expect(() => parseConfig({ ...base, imageDigests: "not json" }, "dev")).toThrow(/JSON object/);
    expect(
      parseConfig({ ...base, imageDigests: JSON.stringify(prodBase.imageDigests) }, "dev").imageDigests?.api,
    ).toBe(`sha256:${"a".repeat(64)}`);
    expect(() =>
      parseConfig({ ...base, imageDigests: prodBase.imageDigests, buildImages: "true" }, "dev"),
    ).toThrow(/cannot be combined/);
  });

  test("rejects an unknown environment and a prefix outside common's naming rule", () => {
    expect(() => parseConfig(base, "staging")).toThrow(/environment/);
    expect(() => parseConfig({ ...base, resourcePrefix: "Bad_Prefix" }, "dev")).toThrow(/resourcePrefix/);
  });

  test("the online loop is off by default; on, it decides hourly with a challenger share in (0, 1]", () => {
    expect(parseConfig(base, "dev").online).toEqual({
      enabled: false,
      challengerShare: 0.1,
      decideSchedule: "rate(1 hour)",
    });
    expect(
      parseConfig(
        { ...base, online: { enabled: "true", challengerShare: "0.25", decideSchedule: "rate(30 minutes)" } },
        "dev",
      ).online,
    ).toEqual({ enabled: true, challengerShare: 0.25, decideSchedule: "rate(30 minutes)" });
    expect(() => parseConfig({ ...base, online: { enabled: true, challengerShare: 0 } }, "dev")).toThrow(
      /online.challengerShare: expected a number in \(0, 1\]/,
    );
    expect(() => parseConfig({ ...base, online: { decideSchedule: "hourly" } }, "dev")).toThrow(
      /online.decideSchedule/,
    );
  });
});

describe("edge plan", () => {
  test("the web ACL rate-limits per IP first, then runs every managed group with its own actions", () => {
    const rules = webAclRules({ metricPrefix: "gplay-prod-api", ratePerFiveMinutes: 2000 });
    expect(rules.map((r) => r.priority)).toEqual([0, 1, 2, 3]);
    expect(rules[0]).toMatchObject({
      action: { block: {} },
      statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: "IP" } },
    });
    expect(rules.slice(1).map((r) => r.statement.managedRuleGroupStatement?.name)).toEqual([
      ...WAF_MANAGED_RULE_GROUPS,
    ]);
    for (const r of rules.slice(1)) expect(r.overrideAction).toEqual({ none: {} });
    expect(new Set(rules.map((r) => r.visibilityConfig.metricName)).size).toBe(4);
    expect(() => webAclRules({ metricPrefix: "x", ratePerFiveMinutes: 5 })).toThrow(/>= 10/);
  });
});

describe("fargate sizes", () => {
  test.each([
    [256, 512, true],
    [256, 4096, false],
    [512, 3072, true],
    [1024, 1024, false],
    [4096, 30720, true],
    [8192, 20480, true],
    [8192, 18432, false],
    [300, 1024, false],
  ])("cpu %i with %i MiB valid: %s", (cpu, memory, valid) => {
    expect(fargateSizeProblem(cpu, memory) === undefined).toBe(valid);
  });
});

describe("network plan", () => {
  test("public /24s and private /20s per AZ, disjoint and inside the VPC", () => {
    const plan = planSubnets("10.40.0.0/16", 3);
    expect(plan.public).toEqual(["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"]);
    expect(plan.private).toEqual(["10.40.16.0/20", "10.40.32.0/20", "10.40.48.0/20"]);
    const all = [...plan.public, ...plan.private];
    for (const c of all) expect(cidrContains("10.40.0.0/16", c)).toBe(true);
    for (const a of all) for (const b of all) if (a !== b) expect(cidrContains(a, b)).toBe(false);
  });

  test("rejects malformed CIDRs and impossible plans", () => {
    expect(() => parseCidr("10.40.0.1/16")).toThrow(/host bits/);
    expect(() => parseCidr("10.400.0.0/16")).toThrow(/IPv4/);
    expect(() => planSubnets("10.40.0.0/20", 2)).toThrow(/\/16/);
    expect(() => planSubnets("10.40.0.0/16", 4)).toThrow(/azCount/);
    expect(() => subnetOf("10.40.0.0/16", 20, 16)).toThrow(/outside/);
  });

  test("endpoint service names are regional", () => {
    expect(endpointServiceName("eu-west-1", "ecr.dkr")).toBe("com.amazonaws.eu-west-1.ecr.dkr");
  });
});

describe("names", () => {
  test("derive from the one prefix through common's helpers", () => {
    const n = resourceNames("gplay-dev");
    expect(n.buckets).toEqual(lakeBucketNames("gplay-dev"));
    expect(n.tables).toEqual(tableNames("gplay-dev"));
    expect(n.repository.featstoreEngine).toBe("gplay-dev/featstore-engine");
    expect(n.container).toEqual({
      featstoreEngine: "featstore-engine",
      training: "training",
      api: "api",
      mlflow: "mlflow",
    });
  });
});

describe("IAM documents", () => {
  const ctx: TaskPolicyContext = {
    buckets: lakeBucketNames("gplay-dev"),
    tableArns: {
      users: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-users",
      items: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-items",
      coldstart: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-coldstart",
      ingestions: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-ingestions",
      eventIds: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-event-ids",
      erasures: "arn:aws:dynamodb:us-east-1:1:table/gplay-dev-erasures",
    },
    keyArn: "arn:aws:kms:us-east-1:1:key/k",
    eventBusArn: "arn:aws:events:us-east-1:1:event-bus/default",
    execLogGroupArn: "arn:aws:logs:us-east-1:1:log-group:/gplay/gplay-dev/ecs-exec",
  };
  const resources = (doc: { Statement: { Resource?: string[] }[] }) =>
    doc.Statement.flatMap((s) => s.Resource ?? []);

  test("featstore-engine reads raw/ and writes processed/ (raw/ and mlflow/ for erasure only), and may only announce snapshots", () => {
    const doc = featstoreEnginePolicy(ctx);
    const s3 = resources(doc).filter((r) => r.startsWith("arn:aws:s3"));
    expect(s3).toEqual(
      expect.arrayContaining([
        `arn:aws:s3:::gplay-dev-raw/${RAW_PREFIX}*`,
        `arn:aws:s3:::gplay-dev-processed/${PROCESSED_PREFIX}*`,
      ]),
    );
    // Erasure rewrites MLflow's text artifacts, under mlflow/ only.
    expect(
      s3
        .filter((r) => r.includes("gplay-dev-models"))
        .every(
          (r) =>
            r === "arn:aws:s3:::gplay-dev-models" || r.startsWith("arn:aws:s3:::gplay-dev-models/mlflow/"),
        ),
    ).toBe(true);
    const engineWrites = doc.Statement.filter((s) => s.Action?.includes("s3:PutObject")).map((s) => s.Sid);
    expect(engineWrites).toEqual(["ProcessedPut", "ErasureVersions"]);
    expect(doc.Statement.find((s) => s.Sid === "SnapshotReady")?.Condition).toEqual({
      StringEquals: { "events:source": "gplay.featstore" },
    });
    expect(doc.Statement.filter((s) => s.Sid === "RawList")[0]?.Condition).toEqual({
      StringLike: { "s3:prefix": ["raw/*"] },
    });
  });

  test("the API may scan the items table (catalogue refresh) and the event ids (erasure) and no other table", () => {
    const scans = apiPolicy(ctx).Statement.filter((s) => s.Action?.includes("dynamodb:Scan"));
    expect(scans.flatMap((s) => s.Resource)).toEqual([ctx.tableArns.items, ctx.tableArns.eventIds]);
  });

  test("the API writes only its readers' items, its seen event ids and its click files under raw/api-events/", () => {
    const writes = apiPolicy(ctx).Statement.filter((s) =>
      s.Action?.some((a) => /Put|Write|Update|Delete/.test(a)),
    );
    expect(writes.map((s) => [s.Action, s.Resource])).toEqual([
      [["dynamodb:PutItem"], [ctx.tableArns.users]],
      [["dynamodb:PutItem", "dynamodb:DeleteItem"], [ctx.tableArns.eventIds]],
      [["s3:PutObject"], ["arn:aws:s3:::gplay-dev-raw/raw/api-events/*"]],
      // The admin route's erasure: the ledger, and deletes of the readers' items and event ids.
      [["dynamodb:PutItem", "dynamodb:BatchGetItem"], [ctx.tableArns.erasures]],
      [["dynamodb:BatchWriteItem"], [ctx.tableArns.users, ctx.tableArns.eventIds]],
    ]);
    expect(resources(apiPolicy(ctx))).not.toContain(ctx.tableArns.ingestions);
    // The api uses the event ids; the engine only erases readers from them; training never sees them.
    expect(
      featstoreEnginePolicy(ctx)
        .Statement.filter((s) => s.Resource?.includes(ctx.tableArns.eventIds))
        .map((s) => s.Sid),
    ).toEqual(["ErasureReaderTables"]);
    expect(resources(trainingPolicy(ctx))).not.toContain(ctx.tableArns.eventIds);
  });

  test("only MLflow (and the engine's erasure) touch the models bucket, and only its mlflow/ prefix", () => {
    // training and the api reach models through MLflow's proxied artifacts, never the bucket.
    expect(resources(trainingPolicy(ctx)).filter((r) => r.includes("gplay-dev-models"))).toEqual([]);
    expect(resources(apiPolicy(ctx)).filter((r) => r.includes("gplay-dev-models"))).toEqual([]);
    const mlflow = resources(mlflowPolicy(ctx)).filter((r) => r.startsWith("arn:aws:s3"));
    expect(
      mlflow.every(
        (r) => r === "arn:aws:s3:::gplay-dev-models" || r.startsWith("arn:aws:s3:::gplay-dev-models/mlflow/"),
      ),
    ).toBe(true);
  });

  test("'*' resources appear only with the actions that require them", () => {
    for (const doc of [featstoreEnginePolicy(ctx), trainingPolicy(ctx), apiPolicy(ctx), mlflowPolicy(ctx)]) {
      for (const s of doc.Statement)
        if (s.Resource?.includes("*"))
          expect(s.Action?.every((a) => WILDCARD_ACTIONS.includes(a))).toBe(true);
    }
  });

  test("names one Secrets Manager secret per secret value, under the prefix", () => {
    expect(resourceNames("gplay-dev").secret).toEqual({
      apiKeys: "gplay-dev/api/api-keys",
      mlflowAdminPassword: "gplay-dev/mlflow/admin-password",
      mlflowFlaskSecretKey: "gplay-dev/mlflow/flask-secret-key",
      mlflowServicePassword: "gplay-dev/mlflow/service-password",
      mlflowDbPassword: "gplay-dev/mlflow/db-password",
    });
  });

  test("the execution role reads secrets only when the task has some", () => {
    const args = { repositoryArn: "arn:repo", logGroupArn: "arn:lg", keyArn: "arn:key" };
    expect(executionPolicy({ ...args, secretArns: [] }).Statement.map((s) => s.Sid)).toEqual([
      "EcrAuth",
      "EcrPull",
      "Logs",
    ]);
    const withSecret = executionPolicy({ ...args, secretArns: ["arn:secret"] });
    expect(withSecret.Statement.find((s) => s.Sid === "Secrets")?.Resource).toEqual(["arn:secret"]);
    expect(withSecret.Statement.find((s) => s.Sid === "Logs")?.Resource).toEqual(["arn:lg:log-stream:*"]);
  });

  test("the events role runs given task definitions on one cluster and passes only given roles to ECS", () => {
    const doc = eventsRunTaskPolicy({
      clusterArn: "arn:cluster",
      taskDefinitionArns: ["arn:td1"],
      roleArns: ["arn:r1", "arn:r2"],
    });
    expect(doc.Statement).toEqual([
      expect.objectContaining({
        Action: ["ecs:RunTask"],
        Resource: ["arn:td1"],
        Condition: { ArnEquals: { "ecs:cluster": "arn:cluster" } },
      }),
      expect.objectContaining({
        Action: ["iam:PassRole"],
        Resource: ["arn:r1", "arn:r2"],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      }),
    ]);
  });

  test("bucket, queue and trust policies", () => {
    const tls = tlsOnlyBucketPolicy("b").Statement[0];
    expect(tls).toMatchObject({ Effect: "Deny", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] });
    expect(tls?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(dlqPolicy("arn:q", ["arn:r"]).Statement[0]?.Condition).toEqual({
      ArnLike: { "aws:SourceArn": ["arn:r"] },
    });
    const trust = assumeRolePolicy("ecs-tasks.amazonaws.com").Statement[0];
    expect(trust).not.toHaveProperty("Resource");
    expect(trust?.Principal).toEqual({ Service: "ecs-tasks.amazonaws.com" });
  });
});

describe("container definitions", () => {
  const spec = {
    name: "api",
    image: "repo:tag",
    cpu: 512,
    memory: 1024,
    environment: { PORT: "8080", AWS_REGION: "us-east-1" },
    secrets: { MLFLOW_DB_PASSWORD: "arn:aws:secretsmanager:us-east-1:1:secret:x:password::" },
    logGroup: "/gplay/api",
    region: "us-east-1",
    port: 8080,
    healthCheckPath: "/healthz",
  };

  test("sorted environment, secrets as valueFrom, awslogs, port and health check", () => {
    const c = containerDefinition(spec);
    expect(c.environment.map((e) => e.name)).toEqual(["AWS_REGION", "PORT"]);
    expect(c.secrets).toEqual([{ name: "MLFLOW_DB_PASSWORD", valueFrom: spec.secrets.MLFLOW_DB_PASSWORD }]);
    expect(c.logConfiguration.options["awslogs-group"]).toBe("/gplay/api");
    expect(c.portMappings).toEqual([{ containerPort: 8080, protocol: "tcp" }]);
    expect(c.healthCheck?.command[1]).toContain("http://127.0.0.1:8080/healthz");
  });

  test("refuses a secret-looking name in plain environment", () => {
    expect(() => containerDefinition({ ...spec, environment: { DB_PASSWORD: "x" } })).toThrow(/DB_PASSWORD/);
  });

  test("the secret names the services read count as secrets; their plain neighbours do not", () => {
    for (const name of [
      "GPLAY_API_KEYS",
      "MLFLOW_AUTH_ADMIN_PASSWORD",
      "MLFLOW_FLASK_SERVER_SECRET_KEY",
      "MLFLOW_TRACKING_PASSWORD",
      "MLFLOW_TRACKING_TOKEN",
      "MLFLOW_DB_PASSWORD",
    ])
      expect(SECRET_NAME_PATTERN.test(name)).toBe(true);
    for (const name of [
      "MLFLOW_TRACKING_USERNAME",
      "MLFLOW_AUTH_ADMIN_USERNAME",
      "GPLAY_MODEL_NAME",
      "GPLAY_PREFIX",
    ])
      expect(SECRET_NAME_PATTERN.test(name)).toBe(false);
  });

  test("MLflow accepts its private name, its load balancer's name (on 443) and localhost (ECS Exec port forwarding)", () => {
    expect(
      mlflowAllowedHosts("mlflow.gp-dev.internal", "internal-x.elb.amazonaws.com", 5000).split(","),
    ).toEqual([
      "mlflow.gp-dev.internal",
      "mlflow.gp-dev.internal:443",
      "internal-x.elb.amazonaws.com",
      "internal-x.elb.amazonaws.com:443",
      "localhost",
      "localhost:5000",
      "127.0.0.1",
      "127.0.0.1:5000",
    ]);
  });

  test("MLflow's private name, its https tracking URI and the private CA's mode (ACM issues from general-purpose CAs only)", () => {
    expect(mlflowHostname("gp-dev")).toBe("mlflow.gp-dev.internal");
    expect(mlflowTrackingUri("gp-dev")).toBe("https://mlflow.gp-dev.internal");
    expect(new URL(mlflowTrackingUri("gp-prod")).hostname.endsWith(`.${internalZoneName("gp-prod")}`)).toBe(
      true,
    );
    expect(PRIVATE_CA.usageMode).toBe("GENERAL_PURPOSE");
    expect(MLFLOW_HTTPS_PORT).toBe(443);
  });
});

describe("lifecycle rules", () => {
  test("every zone aborts stale multipart uploads; raw and models expire old versions", () => {
    for (const zone of ["raw", "processed", "models"] as const)
      for (const r of lifecycleRules(zone))
        expect(r.abortIncompleteMultipartUpload.daysAfterInitiation).toBe(7);
    expect(lifecycleRules("processed").map((r) => r.filter.prefix)).toContain("processed/");
  });
});

describe("alarms", () => {
  const specs = alarmSpecs({
    environment: "prod",
    clusterName: "c",
    services: { api: "gplay-prod-api", mlflow: "gplay-prod-mlflow" },
    dlqName: "dlq",
    albArnSuffix: "app/x/1",
  });

  test("application alarms read common's METRICS in METRIC_NAMESPACE with Service/Environment", () => {
    const app = specs.filter((s) => s.namespace === METRIC_NAMESPACE);
    expect(app.find((s) => s.metricName === METRICS.apiLatency.name)?.extendedStatistic).toBe("p99");
    expect(app.find((s) => s.metricName === METRICS.api5xx.name)?.dimensions).toEqual({
      Service: "api",
      Environment: "prod",
    });
    expect(app.find((s) => s.metricName === METRICS.ingestFailures.name)?.threshold).toBe(0);
  });

  test("every application alarm's dimensions are a set the services' EMF documents declare", () => {
    // The api emits latency per route; the alarm on [Service, Environment] must still see it.
    for (const spec of specs.filter((s) => s.namespace === METRIC_NAMESPACE)) {
      const key = (Object.keys(METRICS) as (keyof typeof METRICS)[]).find(
        (k) => METRICS[k].name === spec.metricName,
      );
      expect(key).toBeDefined();
      if (key === undefined) continue;
      const doc = emfDocument(
        { service: METRICS[key].service, environment: "prod" },
        { [key]: 1 },
        { Route: "/recommendations" },
      ) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } } & Record<string, unknown>;
      const declared = doc._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions).map((d) => [...d].sort());
      expect(declared).toContainEqual(Object.keys(spec.dimensions).sort());
      for (const [name, value] of Object.entries(spec.dimensions)) expect(doc[name]).toBe(value);
    }
    const latency = specs.find((s) => s.id === "api-latency-p99");
    expect(latency?.metricName).toBe(METRICS.apiLatency.name);
    expect(latency?.dimensions).toEqual({ Service: METRICS.apiLatency.service, Environment: "prod" });
  });

  test("CPU and memory per service, DLQ depth, and one dashboard widget per alarm", () => {
    expect(specs.map((s) => s.id)).toEqual(
      expect.arrayContaining(["api-cpu", "api-memory", "mlflow-cpu", "mlflow-memory", "events-dlq-depth"]),
    );
    const body = dashboardBody("us-east-1", specs);
    expect(body.widgets).toHaveLength(specs.length);
  });

  test("the online widgets graph CTR@k, clicks per list, lists and latency per version, arm and strategy", () => {
    const widgets = onlineWidgets("us-east-1", "prod", 30) as {
      y: number;
      properties: { metrics: unknown[] };
    }[];
    expect(widgets).toHaveLength(4);
    expect(widgets.every((w) => w.y >= 30)).toBe(true);
    const text = JSON.stringify(widgets);
    for (const metric of ["Impressions", "ClickedImpressions", "AttributedClicks", "ArmLatency"])
      expect(text).toContain(`MetricName=\\"${metric}\\"`);
    expect(text).toContain("ModelVersion,Arm,Strategy");
    expect(text).toContain('Environment=\\"prod\\"');
    expect(text).toContain("clicked / lists");
  });
});

describe("bootstrap trust", () => {
  test("a CI role trusts GitHub's OIDC tokens of exactly one environment of this repository", () => {
    const doc = githubOidcTrustPolicy({
      providerArn: "arn:oidc",
      repository: "globo/gplay",
      environment: "prod",
    });
    expect(doc.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: "arn:oidc" },
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:globo/gplay:environment:prod",
          },
        },
      },
    ]);
    expect(() => githubOidcTrustPolicy({ providerArn: "a", repository: "*", environment: "dev" })).toThrow(
      /owner\/repo/,
    );
    expect(() => githubOidcTrustPolicy({ providerArn: "a", repository: "o/r", environment: "*" })).toThrow(
      /environment/,
    );
  });

  const state = (access: "deploy" | "preview") =>
    stateBackendPolicy({
      bucket: "gplay-state",
      environment: "dev",
      stateKeyArn: "arn:state",
      secretsKeyArn: "arn:dev",
      access,
    });

  test("the deploy role reads and writes only its environment's prefix, with its own secrets key", () => {
    const doc = state("deploy");
    expect([...new Set(doc.Statement.flatMap((s) => s.Resource ?? []))].sort()).toEqual(
      ["arn:aws:s3:::gplay-state", "arn:aws:s3:::gplay-state/dev/*", "arn:dev", "arn:state"].sort(),
    );
    expect(doc.Statement.find((s) => s.Sid === "StateWrite")?.Action).toEqual([
      "s3:PutObject",
      "s3:DeleteObject",
    ]);
    expect(doc.Statement.find((s) => s.Sid === "StateKey")?.Condition).toEqual({
      StringLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::gplay-state/dev/*"] },
    });
  });

  test("the preview role reads state, writes only lock files and only decrypts", () => {
    const doc = state("preview");
    const writes = doc.Statement.filter((s) => s.Action?.some((a) => /^s3:(Put|Delete)/.test(a)));
    expect(writes.flatMap((s) => s.Resource)).toEqual(["arn:aws:s3:::gplay-state/dev/.pulumi/locks/*"]);
    expect(doc.Statement.find((s) => s.Sid === "SecretsKey")?.Action).toEqual(["kms:Decrypt"]);
    expect(doc.Statement.flatMap((s) => s.Action ?? [])).not.toContain("kms:Encrypt");
  });

  test("a boundary denies the other environments and, for CI, roles without the workload boundary", () => {
    const ci = environmentBoundary({
      kind: "ci",
      environment: "dev",
      bucket: "gplay-state",
      otherSecretsKeyArns: ["arn:prod-key"],
      workloadBoundaryArn: "arn:aws:iam::1:policy/gplay-workload-boundary-dev",
    });
    const sid = (id: string) => ci.Statement.find((s) => s.Sid === id);
    expect(sid("DenyOtherEnvironmentsTagged")?.Condition).toEqual({
      StringEquals: { "aws:ResourceTag/environment": ["prod"] },
    });
    expect(sid("DenyOtherEnvironmentsByName")?.Resource).toEqual(
      expect.arrayContaining([
        "arn:aws:s3:::gplay-state/prod/*",
        "arn:aws:s3:::gplay-prod-*",
        "arn:prod-key",
      ]),
    );
    expect(sid("RolesCarryTheWorkloadBoundary")?.Condition).toEqual({
      StringNotEquals: { "iam:PermissionsBoundary": "arn:aws:iam::1:policy/gplay-workload-boundary-dev" },
    });
    expect(sid("DenyOtherEnvironmentsImages")?.Action).toEqual(["*"]);
    const prod = environmentBoundary({
      kind: "ci",
      environment: "prod",
      bucket: "gplay-state",
      otherSecretsKeyArns: [],
      workloadBoundaryArn: "arn:w",
      promotesFrom: "dev",
    });
    // prod may only read dev's images (to copy the digest it promotes), nothing else of dev.
    expect(prod.Statement.find((s) => s.Sid === "DenyOtherEnvironmentsImages")?.NotAction).toEqual(
      ECR_PULL_ACTIONS,
    );
    const workload = environmentBoundary({
      kind: "workload",
      environment: "prod",
      bucket: "b",
      otherSecretsKeyArns: [],
    });
    expect(workload.Statement.map((s) => s.Sid)).toContain("DenyIdentityChanges");
    expect(() =>
      environmentBoundary({ kind: "ci", environment: "dev", bucket: "b", otherSecretsKeyArns: [] }),
    ).toThrow(/workload boundary/);
  });

  test("environments: all by default, or the one(s) of this account", () => {
    expect(parseEnvironments(undefined)).toEqual(["dev", "prod"]);
    expect(parseEnvironments('["prod"]')).toEqual(["prod"]);
    expect(() => parseEnvironments(["staging"])).toThrow(/environments/);
    expect(() => parseEnvironments(["dev", "dev"])).toThrow(/distinct/);
  });
});

describe("retention", () => {
  test("the defaults hold erasure's backup bound and every store expires", () => {
    expect(retentionProblems(DEFAULT_RETENTION)).toEqual([]);
    expect(DEFAULT_RETENTION.rawVersionDays).toBeLessThanOrEqual(ERASURE_BACKUP_MAX_AGE_DAYS);
    const raw = retentionRules("raw", DEFAULT_RETENTION);
    expect(raw.map((r) => [r.filter.prefix, r.expiration?.days])).toEqual([
      ["raw/", 730],
      ["raw/api-events/", 365],
    ]);
    expect(retentionRules("processed", DEFAULT_RETENTION).map((r) => r.filter.prefix)).toEqual([
      "processed/interactions/",
      "processed/validation/",
      "processed/quarantine/",
    ]);
  });

  test("stack config overrides a setting; out-of-bound or unknown settings are refused, all named", () => {
    expect(parseRetention({ quarantineDays: 30 }).quarantineDays).toBe(30);
    expect(() => parseRetention({ rawVersionDays: 90, pitrDays: 0, colour: 1 })).toThrow(
      /retention\.colour is not a retention setting.*pitrDays must be a positive.*rawVersionDays must be at most 35/,
    );
  });
});
