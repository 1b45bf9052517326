import * as pulumi from "@pulumi/pulumi";
import type { RecordedResource } from "../../src/invariants/resources.js";
import { parseConfig, type RawConfig } from "../../src/plan/config.js";
import type { PlatformSecrets } from "../../src/platform.js";
import { mocks, recorder, settle } from "./mocks.js";

let mocked = false;

/** Installs the mocks once per test file (the stack name only matters for config defaults). */
export async function useMocks(stack = "dev"): Promise<void> {
  if (mocked) return;
  await pulumi.runtime.setMocks(mocks, "gplay", stack, false);
  mocked = true;
}

/** The digests CI's build job reports (one image per workload, built once). */
export const DIGESTS = {
  featstoreEngine: `sha256:${"1".repeat(64)}`,
  training: `sha256:${"2".repeat(64)}`,
  api: `sha256:${"3".repeat(64)}`,
  mlflow: `sha256:${"4".repeat(64)}`,
};
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f7c1a52-1111-2222-3333-444455556666";

export const STACKS: Record<string, RawConfig> = {
  // dev runs the online loop (plan/config.ts OnlineConfig); prod keeps it off: both shapes are checked.
  dev: { region: "us-east-1", buildImages: false, imageTag: "abc123", online: { enabled: true } },
  prod: {
    region: "us-east-1",
    imageDigests: DIGESTS,
    egress: "nat-per-az",
    azCount: 3,
    domain: "api.gplay.example.com",
    certificateArn: CERTIFICATE,
  },
  "dev-digests": { region: "us-east-1", environment: "dev", imageDigests: JSON.stringify(DIGESTS) },
  "dev-endpoints": { region: "us-east-1", buildImages: false, egress: "endpoints", environment: "dev" },
  "dev-build": { region: "us-east-1", buildImages: true, imageTag: "abc123", environment: "dev" },
  "prod-https": {
    region: "us-east-1",
    imageDigests: DIGESTS,
    environment: "prod",
    domain: "api.gplay.example.com",
    hostedZoneId: "Z0123456789ABC",
    certificateArn: CERTIFICATE,
  },
  "prod-dns": {
    region: "us-east-1",
    imageDigests: DIGESTS,
    environment: "prod",
    domain: "api.gplay.example.com",
    hostedZoneId: "Z0123456789ABC",
  },
};

/** Placeholder secret values (index.ts reads the real ones with `requireSecret`). */
export const TEST_SECRETS: PlatformSecrets = {
  apiKeys: pulumi.secret(JSON.stringify([{ name: "web", key: "test-api-key-0123456789" }])),
  mlflowAdminPassword: pulumi.secret("test-admin-password"),
  mlflowFlaskSecretKey: pulumi.secret("test-flask-secret-key"),
  mlflowServicePassword: pulumi.secret("test-service-password"),
  mlflowDbPassword: pulumi.secret("test-db-password"),
};

export interface Built {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

/**
 * Builds the whole platform under mocks (imported after `setMocks`) and returns every resource the
 * mocks recorded. `transformations` let a test remove one property from one resource (mutations).
 */
export async function buildPlatform(
  stack: string,
  transformations: pulumi.ResourceTransformation[] = [],
): Promise<Built> {
  await useMocks();
  const raw = STACKS[stack];
  if (raw === undefined) throw new Error(`no test stack ${stack}`);
  const cfg = parseConfig(raw, stack.split("-")[0] as string);
  const { Platform } = await import("../../src/platform.js");
  recorder.resources = [];
  const collected: pulumi.Resource[] = [];
  const collect: pulumi.ResourceTransformation = (args) => {
    collected.push(args.resource);
    return undefined;
  };
  // Pulumi captures a stack trace for every promise and resource; under jest each one is source-mapped
  // by the hook in the worker's main realm, which made a build cost seconds. Builds run without it.
  const outerError = outerRealmError();
  const prepare = outerError.prepareStackTrace;
  // biome-ignore lint/suspicious/noExplicitAny: removing the hook (typed as always present).
  (outerError as any).prepareStackTrace = undefined;
  try {
    const platform = new Platform("gplay", cfg, {
      repoRoot: "/repo",
      secrets: TEST_SECRETS,
      transformations: [collect, ...transformations],
    });
    await settle(collected);
    const outputs = await new Promise<Record<string, unknown>>((res) =>
      pulumi.output(platform.outputs as unknown as Record<string, unknown>).apply(res),
    );
    return { resources: recorder.resources, outputs };
  } finally {
    outerError.prepareStackTrace = prepare;
  }
}

/** The `Error` constructor of the jest worker's main realm (where source-map-support hooks in). */
function outerRealmError(): ErrorConstructor {
  const OuterFunction = Object.getPrototypeOf(Buffer).constructor.constructor as FunctionConstructor;
  return (OuterFunction("return this")() as typeof globalThis).Error;
}
