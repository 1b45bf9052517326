import { beforeAll, expect, test } from "@jest/globals";
import * as pulumi from "@pulumi/pulumi";
import { type RecordedResource, T } from "../../src/invariants/resources.js";
import { mocks, recorder } from "../support/mocks.js";

/** The bootstrap program (infra/bootstrap) under mocks: state backend, secrets key, OIDC roles. */
let outputs: Record<string, unknown>;
const of = (type: string) => recorder.resources.filter((r) => r.type === type);
const only = (type: string): RecordedResource => {
  const found = of(type);
  expect(found).toHaveLength(1);
  return found[0] as RecordedResource;
};

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
});

test("the state bucket is versioned, KMS-encrypted, private and TLS-only", () => {
  expect(only(T.bucket).inputs.bucket).toBe("gplay-pulumi-state-123456789012");
  expect(only(T.versioning).inputs.versioningConfiguration).toEqual({ status: "Enabled" });
  expect(only(T.sse).inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
  expect(only(T.pab).inputs).toMatchObject({ blockPublicAcls: true, restrictPublicBuckets: true });
  expect(only(T.bucketPolicy).inputs.policy).toContain("aws:SecureTransport");
  expect(only(T.kmsKey).inputs.enableKeyRotation).toBe(true);
});

test("CI roles trust only this repository's GitHub environments through OIDC", () => {
  const roles = of(T.role);
  expect(roles.map((r) => r.inputs.name).sort()).toEqual(["gplay-github-deploy", "gplay-github-preview"]);
  const subjects = (name: string) =>
    JSON.parse(roles.find((r) => r.inputs.name === name)?.inputs.assumeRolePolicy).Statement[0].Condition
      .StringLike["token.actions.githubusercontent.com:sub"];
  expect(subjects("gplay-github-deploy")).toEqual([
    "repo:globo/gplay-recommend:environment:dev",
    "repo:globo/gplay-recommend:environment:prod",
  ]);
  expect(subjects("gplay-github-preview")).toEqual([
    "repo:globo/gplay-recommend:environment:dev-preview",
    "repo:globo/gplay-recommend:environment:prod-preview",
  ]);
  expect(roles.find((r) => r.inputs.name === "gplay-github-preview")?.inputs.managedPolicyArns).toEqual([
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
  ]);
  expect(of("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0]?.inputs.clientIdLists).toEqual([
    "sts.amazonaws.com",
  ]);
});

test("exports the backend URL and secrets provider the stacks use", () => {
  expect(outputs).toMatchObject({
    backendUrl: "s3://gplay-pulumi-state-123456789012?region=us-east-1",
    secretsProvider: "awskms://alias/gplay-pulumi",
  });
});
