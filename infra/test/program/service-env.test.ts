/**
 * The contract between infra and the services, checked from both sides: every task definition the
 * program declares is parsed with its service's own zod schema (imported from the service's source,
 * so a renamed or new required variable fails here), and MLflow's variables against the ones its
 * entrypoint documents. Secrets get a placeholder value (ECS injects the real one at start).
 */

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  lakeBucketNames,
  rawObjectInputTransformer,
  snapshotReadyInputTransformer,
  tableNames,
} from "@gplay/common";
import { beforeAll, describe, expect, test } from "@jest/globals";
import { apiEnvSchema } from "../../../api/src/env.js";
import { engineEnvSchema } from "../../../featstore-engine/src/env.js";
import { mlflowConfigFromEnv } from "../../../mlflow/src/config.js";
import { trainingEnvSchema } from "../../../training/src/env.js";
import { ofType, type RecordedResource, T } from "../../src/invariants/resources.js";
import { auditBucketName } from "../../src/plan/audit.js";
import { resourceNames } from "../../src/plan/names.js";
import { ENV } from "../../src/plan/tasks.js";
import { type Built, buildPlatform } from "../support/build.js";
import { buildTimeoutMs } from "../support/timeouts.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The services whose configuration is a zod schema, by workload. */
const SCHEMAS = {
  featstoreEngine: engineEnvSchema,
  training: trainingEnvSchema,
  api: apiEnvSchema,
} as const;
type Service = keyof typeof SCHEMAS;

/** Placeholders for values ECS injects from Secrets Manager (each must satisfy its schema). */
const SECRET_PLACEHOLDERS: Record<string, string> = {
  GPLAY_API_KEYS: JSON.stringify([{ name: "web", key: "placeholder-key-0123456789" }]),
};
const placeholder = (name: string) => SECRET_PLACEHOLDERS[name] ?? `placeholder-${name.toLowerCase()}`;

interface Container {
  name: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
}

const STACKS = ["dev", "prod"] as const;
const built: Partial<Record<(typeof STACKS)[number], Built>> = {};
beforeAll(async () => {
  for (const stack of STACKS) built[stack] = await buildPlatform(stack);
}, buildTimeoutMs(STACKS.length));
const resources = (stack: (typeof STACKS)[number]): RecordedResource[] => {
  const b = built[stack];
  if (b === undefined) throw new Error(`stack ${stack} not built`);
  return b.resources;
};

function containerOf(stack: (typeof STACKS)[number], family: string): Container {
  const td = ofType(resources(stack), T.taskDefinition).find((t) => t.inputs.family === family);
  expect(td).toBeDefined();
  const defs = JSON.parse(td?.inputs.containerDefinitions as string) as Container[];
  expect(defs).toHaveLength(1);
  return defs[0] as Container;
}

/** What the process sees at start: plain environment plus each secret with a placeholder value. */
function processEnv(c: Container): Record<string, string> {
  return {
    ...Object.fromEntries(c.environment.map((e) => [e.name, e.value])),
    ...Object.fromEntries(c.secrets.map((s) => [s.name, placeholder(s.name)])),
  };
}

function parse(service: Service, env: Record<string, string>) {
  const result = SCHEMAS[service].safeParse(env);
  // The issues in the failure message say which variable is wrong.
  expect(result.success ? [] : result.error.issues).toEqual([]);
  return result.data as Record<string, unknown>;
}

/** An input transformer's template after EventBridge filled it in with these values. */
function overrides(template: string, values: Record<string, string>): Record<string, string> {
  const filled = template.replace(/<(\w+)>/g, (_m, field: string) => JSON.stringify(values[field] ?? field));
  const doc = JSON.parse(filled) as {
    containerOverrides: { environment: { name: string; value: string }[] }[];
  };
  return Object.fromEntries(
    doc.containerOverrides.flatMap((o) => o.environment).map((e) => [e.name, e.value]),
  );
}

describe.each(STACKS)("%s: each task's environment is what its service parses", (stack) => {
  const prefix = `gplay-${stack}`;
  const names = resourceNames(prefix);

  test.each(Object.keys(SCHEMAS) as Service[])("%s parses its environment and secrets", (service) => {
    const env = processEnv(containerOf(stack, names.family[service]));
    // Exactly what the service reads: no variable it ignores (bucket/table names derive from the prefix),
    // besides Node's own NODE_OPTIONS (the engine's heap settings).
    expect(Object.keys(env).filter((n) => !(n in SCHEMAS[service].shape) && n !== ENV.nodeOptions)).toEqual(
      [],
    );
    const parsed = parse(service, env);
    expect(parsed.GPLAY_PREFIX).toBe(prefix);
    expect(parsed.GPLAY_ENVIRONMENT).toBe(stack);
    expect(parsed.AWS_REGION).toBe("us-east-1");
    // The names the service derives are the ones infra created.
    const buckets = ofType(resources(stack), T.bucket)
      .map((b) => b.inputs.bucket)
      .filter((b) => b !== auditBucketName(parsed.GPLAY_PREFIX as string));
    expect(buckets.sort()).toEqual(Object.values(lakeBucketNames(parsed.GPLAY_PREFIX as string)).sort());
    const tables = ofType(resources(stack), T.table).map((t) => t.inputs.name);
    expect(tables.sort()).toEqual(Object.values(tableNames(parsed.GPLAY_PREFIX as string)).sort());
  });

  test("the api gets its keys as a secret, and training and the api one model and MLflow credentials", () => {
    const api = containerOf(stack, names.family.api);
    expect(api.secrets.map((s) => s.name)).toContain("GPLAY_API_KEYS");
    expect(api.environment.map((e) => e.name)).not.toContain("GPLAY_API_KEYS");
    const parsedApi = parse("api", processEnv(api));
    const parsedTraining = parse("training", processEnv(containerOf(stack, names.family.training)));
    expect(parsedApi.GPLAY_API_KEYS).toEqual([{ name: "web", key: "placeholder-key-0123456789" }]);
    expect(parsedApi.PORT).toBe(8080);
    expect(parsedApi.GPLAY_MODEL_NAME).toBe(parsedTraining.GPLAY_MODEL_NAME);
    for (const parsed of [parsedApi, parsedTraining]) {
      expect(parsed.MLFLOW_TRACKING_URI).toBe(`https://mlflow.gplay-${stack}.internal`);
      // mlflow's own check: a username needs its password; the client signs in with basic auth.
      const config = mlflowConfigFromEnv(parsed as Parameters<typeof mlflowConfigFromEnv>[0]);
      expect(config.auth).toEqual({
        kind: "basic",
        username: "gplay-service",
        password: placeholder("MLFLOW_TRACKING_PASSWORD"),
      });
      // The private CA's certificate reaches the client, which trusts it for the https URI.
      expect(config.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    }
  });

  test("the event targets' overrides complete the featstore-engine and training environments", () => {
    const targets = ofType(resources(stack), T.target);
    const cases: {
      service: Service;
      transformer: { inputTemplate: string };
      values: Record<string, string>;
    }[] = [
      {
        service: "featstoreEngine",
        transformer: rawObjectInputTransformer,
        values: { bucket: names.buckets.raw, key: "raw/2026/11/27/users.csv", etag: "e1", eventId: "id-1" },
      },
      {
        service: "training",
        transformer: snapshotReadyInputTransformer,
        values: { bucket: names.buckets.processed, manifestKey: "processed/snapshots/s1/manifest.json" },
      },
    ];
    for (const { service, transformer, values } of cases) {
      const target = targets.find(
        (t) => t.inputs.inputTransformer?.inputTemplate === transformer.inputTemplate,
      );
      expect(target).toBeDefined();
      const perRun = overrides(target?.inputs.inputTransformer.inputTemplate, {
        snapshotId: "s1",
        eventTime: "2026-11-27T04:00:00Z",
        ...values,
      });
      expect(Object.keys(perRun).length).toBeGreaterThan(0);
      expect(Object.keys(perRun).filter((n) => !(n in SCHEMAS[service].shape))).toEqual([]);
      const parsed = parse(service, { ...processEnv(containerOf(stack, names.family[service])), ...perRun });
      for (const [name, value] of Object.entries(perRun)) expect(parsed[name]).toBe(value);
    }
  });

  test("MLflow gets only variables its entrypoint documents, with basic auth on", () => {
    const header = readFileSync(join(repoRoot, "mlflow/server/entrypoint.sh"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join("\n");
    const documented = new Set(header.match(/\b(MLFLOW|AWS)_[A-Z_]+\b/g));
    const env = processEnv(containerOf(stack, names.family.mlflow));
    expect(Object.keys(env).filter((n) => !documented.has(n))).toEqual([]);
    expect(env).toMatchObject({
      MLFLOW_AUTH_ENABLED: "true",
      MLFLOW_DB_USER: "mlflow_app",
      MLFLOW_ARTIFACTS_DESTINATION: `s3://${names.buckets.models}/mlflow/`,
    });
    for (const required of [
      "MLFLOW_DB_HOST",
      "MLFLOW_DB_PASSWORD",
      "MLFLOW_AUTH_ADMIN_PASSWORD",
      "MLFLOW_FLASK_SERVER_SECRET_KEY",
      "MLFLOW_PORT",
    ])
      expect(env[required]).toBeDefined();
    const lb = ofType(resources(stack), T.loadBalancer).find((l) => l.name.endsWith("-mlflow-lb"));
    const hosts = (env.MLFLOW_SERVER_ALLOWED_HOSTS ?? "").split(",");
    expect(hosts).toEqual(expect.arrayContaining([lb?.inputs.dnsName, "localhost", "localhost:5000"]));
  });
});
