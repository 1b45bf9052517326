import { beforeAll, describe, expect, test } from "@jest/globals";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_INVARIANTS } from "../../src/invariants/identity.js";
import { ofType, type RecordedResource, T } from "../../src/invariants/resources.js";
import { BOOTSTRAP_MUTATIONS } from "../support/bootstrap-mutations.js";
import { mocks, recorder } from "../support/mocks.js";
import { mutateRecorded } from "../support/mutations.js";
import { buildTimeoutMs } from "../support/timeouts.js";

/** The bootstrap program (infra/bootstrap) under mocks: state backend, keys, CI identity per environment. */
let outputs: Record<string, unknown>;
let resources: RecordedResource[];
const of = (type: string) => resources.filter((r) => r.type === type);
const only = (type: string): RecordedResource => {
  const found = of(type);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};
const named = (type: string, name: string) =>
  of(type).find((r) => r.inputs.name === name) as RecordedResource;
const doc = (value: unknown) => JSON.parse(value as string);
const ctx = { prefix: "gplay-bootstrap", environment: "prod" as const };

beforeAll(async () => {
  await pulumi.runtime.setMocks(mocks, "gplay-bootstrap", "bootstrap", false);
  pulumi.runtime.setAllConfig(
    {
      "aws:region": "us-east-1",
      "gplay-bootstrap:githubRepository": "globo/gplay-recommend",
      "gplay-bootstrap:stateBucket": "gplay-pulumi-state-123456789012",
    },
    [],
  );
  const program: Record<string, unknown> = await import("../../bootstrap/index.js");
  outputs = await new Promise((res) =>
    pulumi.output(program).apply((v) => res(v as Record<string, unknown>)),
  );
  resources = [...recorder.resources];
}, buildTimeoutMs(1));

test("the state bucket is versioned, KMS-encrypted per object, private and TLS-only", () => {
  expect(only(T.bucket).inputs.bucket).toBe("gplay-pulumi-state-123456789012");
  expect(only(T.versioning).inputs.versioningConfiguration).toEqual({ status: "Enabled" });
  expect(only(T.sse).inputs.rules[0]).toMatchObject({
    applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" },
    bucketKeyEnabled: false,
  });
  expect(only(T.pab).inputs).toMatchObject({ blockPublicAcls: true, restrictPublicBuckets: true });
  expect(only(T.bucketPolicy).inputs.policy).toContain("aws:SecureTransport");
  expect(of(T.kmsKey).every((k) => k.inputs.enableKeyRotation === true)).toBe(true);
});

test("one deploy and one preview role per environment, each trusted by one GitHub environment", () => {
  expect(
    of(T.role)
      .map((r) => r.inputs.name)
      .sort(),
  ).toEqual([
    "gplay-github-deploy-dev",
    "gplay-github-deploy-prod",
    "gplay-github-preview-dev",
    "gplay-github-preview-prod",
  ]);
  const subject = (name: string) =>
    doc(named(T.role, name).inputs.assumeRolePolicy).Statement[0].Condition.StringEquals[
      "token.actions.githubusercontent.com:sub"
    ];
  expect(subject("gplay-github-deploy-dev")).toBe("repo:globo/gplay-recommend:environment:dev");
  expect(subject("gplay-github-deploy-prod")).toBe("repo:globo/gplay-recommend:environment:prod");
  expect(subject("gplay-github-preview-dev")).toBe("repo:globo/gplay-recommend:environment:dev-preview");
  expect(subject("gplay-github-preview-prod")).toBe("repo:globo/gplay-recommend:environment:prod-preview");
  expect(named(T.role, "gplay-github-preview-dev").inputs.managedPolicyArns).toEqual([
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
  ]);
  expect(named(T.role, "gplay-github-deploy-prod").inputs.permissionsBoundary).toBe(
    named(T.policy, "gplay-ci-boundary-prod").inputs.arn,
  );
  expect(of(T.oidcProvider)[0]?.inputs.clientIdLists).toEqual(["sts.amazonaws.com"]);
});

test("exports per-environment backend URLs, secrets providers and role ARNs", () => {
  expect(outputs).toMatchObject({
    backendUrls: {
      dev: "s3://gplay-pulumi-state-123456789012/dev?region=us-east-1",
      prod: "s3://gplay-pulumi-state-123456789012/prod?region=us-east-1",
    },
    secretsProviders: { dev: "awskms://alias/gplay-pulumi-dev", prod: "awskms://alias/gplay-pulumi-prod" },
  });
  expect(Object.keys(outputs.deployRoleArns as object).sort()).toEqual(["dev", "prod"]);
  expect(
    ofType(resources, T.kmsAlias)
      .map((a) => a.inputs.name)
      .sort(),
  ).toEqual(["alias/gplay-pulumi-dev", "alias/gplay-pulumi-prod", "alias/gplay-pulumi-state"]);
});

describe("CI identity invariants", () => {
  test.each(BOOTSTRAP_INVARIANTS.map((i) => [i.id, i] as const))("%s holds", (_id, inv) => {
    expect(inv.check(resources, ctx)).toEqual([]);
  });

  test("every bootstrap invariant has a mutation that must break it", () => {
    const covered = new Set(BOOTSTRAP_MUTATIONS.map((m) => m.invariant));
    expect(BOOTSTRAP_INVARIANTS.map((i) => i.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  test.each(BOOTSTRAP_MUTATIONS.map((m) => [`${m.invariant}: ${m.what}`, m] as const))("%s", (_label, m) => {
    const inv = BOOTSTRAP_INVARIANTS.find((i) => i.id === m.invariant);
    if (inv === undefined) throw new Error(`no invariant ${m.invariant}`);
    expect(inv.check(mutateRecorded(resources, m), ctx).length).toBeGreaterThan(0);
  });
});
