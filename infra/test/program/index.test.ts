import { beforeAll, expect, test } from "@jest/globals";
import * as pulumi from "@pulumi/pulumi";
import { checkAll } from "../../src/invariants/checks.js";
import { mocks, recorder } from "../support/mocks.js";
import { buildTimeoutMs } from "../support/timeouts.js";

/** The real entry point: stack config in, validated, platform built, outputs exported. */
let program: Record<string, unknown>;
let outputs: Record<string, unknown>;

beforeAll(async () => {
  await pulumi.runtime.setMocks(mocks, "gplay", "dev", false);
  pulumi.runtime.setAllConfig(
    {
      "aws:region": "eu-west-1",
      "gplay:buildImages": "false",
      "gplay:imageTag": "git-0123abc",
      "gplay:api": JSON.stringify({ cpu: 1024, memory: 2048, minCount: 1, maxCount: 3 }),
      "gplay:apiKeys": JSON.stringify([{ name: "web", key: "config-api-key-0123456789" }]),
      "gplay:mlflowAdminPassword": "config-admin-password",
      "gplay:mlflowFlaskSecretKey": "config-flask-secret-key",
      "gplay:mlflowServicePassword": "config-service-password",
      "gplay:mlflowDbPassword": "config-db-password",
    },
    [
      "gplay:apiKeys",
      "gplay:mlflowAdminPassword",
      "gplay:mlflowFlaskSecretKey",
      "gplay:mlflowServicePassword",
      "gplay:mlflowDbPassword",
    ],
  );
  program = await import("../../src/index.js");
  const entries = Object.entries(program).filter(
    ([, v]) => pulumi.Output.isInstance(v) || typeof v !== "function",
  );
  outputs = await new Promise((res) =>
    pulumi.output(Object.fromEntries(entries)).apply((v) => res(v as Record<string, unknown>)),
  );
  // Resources no export depends on (a rule's target) may register after the outputs resolve: wait
  // until the recorder has seen nothing new for a few turns of the event loop.
  for (let quiet = 0, seen = -1; quiet < 5; ) {
    await new Promise((res) => setTimeout(res, 20));
    quiet = recorder.resources.length === seen ? quiet + 1 : 0;
    seen = recorder.resources.length;
  }
}, buildTimeoutMs(1));

test("exports what the services, CI and operators need", () => {
  expect(outputs).toMatchObject({
    environment: "dev",
    resourcePrefix: "gplay-dev",
    clusterName: "gplay-dev",
    apiServiceName: "gplay-dev-api",
    mlflowServiceName: "gplay-dev-mlflow",
    rawBucket: "gplay-dev-raw",
    processedBucket: "gplay-dev-processed",
    modelsBucket: "gplay-dev-models",
    dashboardName: "gplay-dev",
  });
  expect(outputs.healthUrl).toMatch(/^http:\/\/.+\/healthz$/);
  expect(outputs.mlflowTrackingUri).toBe("https://mlflow.gplay-dev.internal");
  expect(outputs.mlflowCaCertificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  expect(typeof outputs.mlflowClientSecurityGroupId).toBe("string");
  expect(outputs.dlqUrl).toMatch(/gplay-dev-events-dlq$/);
  expect(Object.keys(outputs.repositoryUrls as object).sort()).toEqual([
    "api",
    "featstoreEngine",
    "mlflow",
    "training",
  ]);
  expect(outputs.privateSubnetIds).toHaveLength(2);
});

test("stack config reaches the resources (region, image tag, API size)", () => {
  expect(recorder.resources.length).toBeGreaterThan(120);
  const api = recorder.resources.find(
    (r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.inputs.family === "gplay-dev-api",
  );
  expect(api?.inputs).toMatchObject({ cpu: "1024", memory: "2048" });
  const container = JSON.parse(api?.inputs.containerDefinitions)[0];
  expect(container.image).toMatch(/gplay-dev\/api:git-0123abc$/);
  expect(container.logConfiguration.options["awslogs-region"]).toBe("eu-west-1");
  const s3 = recorder.resources.find(
    (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.name.endsWith("-s3"),
  );
  expect(s3?.inputs.serviceName).toBe("com.amazonaws.eu-west-1.s3");
  expect(checkAll(recorder.resources, { prefix: "gplay-dev", environment: "dev" })).toEqual({});
});

test("secret config values (requireSecret) reach Secrets Manager, never a task definition", () => {
  const values = recorder.resources
    .filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")
    .map((r) => {
      // Recorded as Pulumi secrets (encrypted in the state), not plain strings.
      expect(r.inputs.secretString).toMatchObject({
        [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      });
      return r.inputs.secretString.value as string;
    })
    .sort();
  expect(values).toEqual(
    [
      JSON.stringify([{ name: "web", key: "config-api-key-0123456789" }]),
      "config-admin-password",
      "config-flask-secret-key",
      "config-service-password",
      "config-db-password",
    ].sort(),
  );
  for (const td of recorder.resources.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition"))
    for (const v of values) expect(td.inputs.containerDefinitions).not.toContain(v);
});
