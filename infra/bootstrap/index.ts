import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ciNames,
  environmentBoundary,
  GITHUB_OIDC_HOST,
  githubOidcTrustPolicy,
  parseEnvironments,
  STATE_KEY_ALIAS,
  stateBackendPolicy,
} from "../src/plan/bootstrap.js";
import type { Environment } from "../src/plan/config.js";
import { tlsOnlyBucketPolicy } from "../src/plan/iam.js";

/**
 * Bootstrap (run once per account with a local backend, docs/deploy.md "Bootstrap"; docs/security.md
 * explains the boundaries): the S3 state bucket (one prefix per environment) and its key, one
 * secrets-provider key per environment, the GitHub OIDC provider, and per environment a deploy role
 * trusted only by that GitHub environment and capped by a permissions boundary, a preview role that
 * reads state and cannot write it, and the boundary every platform role must carry.
 */
const config = new pulumi.Config();
const repository = config.require("githubRepository"); // owner/repo
const stateBucketName = config.require("stateBucket");
// Separate accounts (recommended): bootstrap each with only its environment, e.g. ["prod"].
const environments = parseEnvironments(config.getObject<unknown>("environments"));
const region = aws.config.region ?? "us-east-1";
const identity = aws.getCallerIdentityOutput();

// Encrypts the state objects (SSE-KMS); each role may use it only for its own prefix.
const stateKey = new aws.kms.Key("pulumi-state", {
  description: "Pulumi state objects",
  enableKeyRotation: true,
});
// Readable name of the state key.
new aws.kms.Alias("pulumi-state", { name: STATE_KEY_ALIAS, targetKeyId: stateKey.keyId });

// One secrets-provider key per environment (`--secrets-provider awskms://alias/gplay-pulumi-<env>`).
const secretsKeys = Object.fromEntries(
  environments.map((env) => {
    // Encrypts the secrets of this environment's stack only.
    const key = new aws.kms.Key(`pulumi-secrets-${env}`, {
      description: `Pulumi secrets of the ${env} stack`,
      enableKeyRotation: true,
      tags: { environment: env },
    });
    // The alias the stack's secrets provider names.
    new aws.kms.Alias(`pulumi-secrets-${env}`, {
      name: ciNames(env).secretsKeyAlias,
      targetKeyId: key.keyId,
    });
    return [env, key];
  }),
) as Partial<Record<Environment, aws.kms.Key>>;

// The state backend (`pulumi login s3://<bucket>/<env>`), versioned so a bad update can be rolled back.
const bucket = new aws.s3.Bucket("pulumi-state", { bucket: stateBucketName }, { protect: true });
// Versions of every checkpoint.
new aws.s3.BucketVersioning("pulumi-state", {
  bucket: bucket.id,
  versioningConfiguration: { status: "Enabled" },
});
// Default encryption with the state key; no bucket key, so KMS sees each object's ARN and the
// roles' key grants can be limited to their prefix.
new aws.s3.BucketServerSideEncryptionConfiguration("pulumi-state", {
  bucket: bucket.id,
  rules: [
    {
      applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: stateKey.arn },
      bucketKeyEnabled: false,
    },
  ],
});
// Never public.
const pab = new aws.s3.BucketPublicAccessBlock("pulumi-state", {
  bucket: bucket.id,
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
});
// TLS only.
new aws.s3.BucketPolicy(
  "pulumi-state",
  { bucket: bucket.id, policy: JSON.stringify(tlsOnlyBucketPolicy(stateBucketName)) },
  { dependsOn: [pab] },
);

// GitHub's OIDC identity provider (AWS validates GitHub's certificate itself; the thumbprint is legacy).
const provider = new aws.iam.OpenIdConnectProvider("github", {
  url: `https://${GITHUB_OIDC_HOST}`,
  clientIdLists: ["sts.amazonaws.com"],
  thumbprintLists: ["6938fd4d98bab03faadb97b34396831e3780aea1"],
});

const otherKeyArns = (env: Environment) =>
  pulumi.all(
    Object.entries(secretsKeys)
      .filter(([e]) => e !== env)
      .map(([, k]) => (k as aws.kms.Key).arn),
  );

const roles = environments.map((env) => {
  const n = ciNames(env);
  const secretsKey = secretsKeys[env] as aws.kms.Key;
  const tags = { environment: env };

  // Caps every role the platform creates in this environment (task and event roles).
  const workloadBoundary = new aws.iam.Policy(`workload-boundary-${env}`, {
    name: n.workloadBoundary,
    description: `Boundary of the ${env} platform's roles: nothing of another environment, no IAM changes`,
    policy: otherKeyArns(env).apply((keys) =>
      JSON.stringify(
        environmentBoundary({
          kind: "workload",
          environment: env,
          bucket: stateBucketName,
          otherSecretsKeyArns: keys,
        }),
      ),
    ),
    tags,
  });
  // Caps the deploy role: nothing of another environment, CI's identity untouchable, roles only with
  // the workload boundary, no users or access keys, no role hopping.
  const ciBoundary = new aws.iam.Policy(`ci-boundary-${env}`, {
    name: n.ciBoundary,
    description: `Boundary of the ${env} deploy role`,
    policy: pulumi.all([otherKeyArns(env), workloadBoundary.arn]).apply(([keys, workloadBoundaryArn]) =>
      JSON.stringify(
        environmentBoundary({
          kind: "ci",
          environment: env,
          bucket: stateBucketName,
          otherSecretsKeyArns: keys,
          workloadBoundaryArn,
          ...(env === "prod" && { promotesFrom: "dev" as const }),
        }),
      ),
    ),
    tags,
  });
  const trust = (githubEnvironment: string) =>
    provider.arn.apply((providerArn) =>
      JSON.stringify(githubOidcTrustPolicy({ providerArn, repository, environment: githubEnvironment })),
    );
  const statePolicy = (access: "deploy" | "preview") =>
    pulumi.all([stateKey.arn, secretsKey.arn]).apply(([stateKeyArn, secretsKeyArn]) =>
      JSON.stringify(
        stateBackendPolicy({
          bucket: stateBucketName,
          environment: env,
          stateKeyArn,
          secretsKeyArn,
          access,
        }),
      ),
    );

  // Deploys (`pulumi up`) of this environment only, from its GitHub environment only. It creates the
  // platform's IAM roles and every service, hence administrator rights, capped by the boundary.
  const deployRole = new aws.iam.Role(`github-deploy-${env}`, {
    name: n.deployRole,
    maxSessionDuration: 3600,
    assumeRolePolicy: trust(n.deployEnvironment),
    managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
    permissionsBoundary: ciBoundary.arn,
    tags,
  });
  // State and secrets of this environment.
  new aws.iam.RolePolicy(`github-deploy-${env}-state`, {
    role: deployRole.id,
    policy: statePolicy("deploy"),
  });

  // Previews (`pulumi preview`): AWS metadata only (ViewOnlyAccess reads no object, item or
  // secret), this environment's state read-only, its secrets key to decrypt config.
  const previewRole = new aws.iam.Role(`github-preview-${env}`, {
    name: n.previewRole,
    maxSessionDuration: 3600,
    assumeRolePolicy: trust(n.previewEnvironment),
    managedPolicyArns: ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"],
    permissionsBoundary: ciBoundary.arn,
    tags,
  });
  // State read, lock files, and decryption of this environment's secrets.
  new aws.iam.RolePolicy(`github-preview-${env}-state`, {
    role: previewRole.id,
    policy: statePolicy("preview"),
  });

  return [env, { deploy: deployRole.arn, preview: previewRole.arn }] as const;
});

const perEnvironment = <T>(f: (env: Environment) => T) =>
  Object.fromEntries(environments.map((e) => [e, f(e)]));
export const accountId = identity.accountId;
export const backendUrls = perEnvironment(
  (env) => pulumi.interpolate`s3://${bucket.bucket}/${ciNames(env).statePrefix}?region=${region}`,
);
export const secretsProviders = perEnvironment((env) => `awskms://${ciNames(env).secretsKeyAlias}`);
export const deployRoleArns = Object.fromEntries(roles.map(([env, r]) => [env, r.deploy]));
export const previewRoleArns = Object.fromEntries(roles.map(([env, r]) => [env, r.preview]));
