import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC_HOST, githubOidcTrustPolicy, stateBackendPolicy } from "../src/plan/bootstrap.js";
import { tlsOnlyBucketPolicy } from "../src/plan/iam.js";

/**
 * Bootstrap (run once per account with a local backend, docs/deploy.md "Bootstrap"): the S3 state
 * bucket and KMS key of the Pulumi backend and secrets provider, the GitHub OIDC provider, a deploy
 * role for the `dev`/`prod` environments and a read-only preview role for `*-preview`.
 */
const config = new pulumi.Config();
const repository = config.require("githubRepository"); // owner/repo
const stateBucketName = config.require("stateBucket");

// Encrypts the state bucket and the stacks' secrets (`--secrets-provider awskms://alias/gplay-pulumi`).
const key = new aws.kms.Key("pulumi-secrets", {
  description: "Pulumi state and secrets",
  enableKeyRotation: true,
});
// Alias the stacks' secrets provider URL names.
new aws.kms.Alias("pulumi-secrets", { name: "alias/gplay-pulumi", targetKeyId: key.keyId });

// The state backend (`pulumi login s3://<bucket>`), versioned so a bad update can be rolled back.
const bucket = new aws.s3.Bucket("pulumi-state", { bucket: stateBucketName }, { protect: true });
// Versions of every checkpoint.
new aws.s3.BucketVersioning("pulumi-state", {
  bucket: bucket.id,
  versioningConfiguration: { status: "Enabled" },
});
// Default encryption with the key above.
new aws.s3.BucketServerSideEncryptionConfiguration("pulumi-state", {
  bucket: bucket.id,
  rules: [
    {
      applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
      bucketKeyEnabled: true,
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

const statePolicy = key.arn.apply((keyArn) =>
  JSON.stringify(stateBackendPolicy({ bucket: stateBucketName, keyArn })),
);

// Deploys (`pulumi up`) from the dev and prod GitHub environments only. It creates IAM roles and
// every service of the platform, hence administrator rights; protect the `prod` environment
// with required reviewers and a main-only branch rule.
const deployRole = new aws.iam.Role("github-deploy", {
  name: "gplay-github-deploy",
  maxSessionDuration: 3600,
  assumeRolePolicy: provider.arn.apply((providerArn) =>
    JSON.stringify(githubOidcTrustPolicy({ providerArn, repository, environments: ["dev", "prod"] })),
  ),
  managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"],
});
// State and secrets access of the deploy role.
new aws.iam.RolePolicy("github-deploy-state", { role: deployRole.id, policy: statePolicy });

// Previews (`pulumi preview`) from pull requests: read-only on AWS, read/write on the state
// backend (preview takes the stack lock).
const previewRole = new aws.iam.Role("github-preview", {
  name: "gplay-github-preview",
  maxSessionDuration: 3600,
  assumeRolePolicy: provider.arn.apply((providerArn) =>
    JSON.stringify(
      githubOidcTrustPolicy({ providerArn, repository, environments: ["dev-preview", "prod-preview"] }),
    ),
  ),
  managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
});
// State and secrets access of the preview role.
new aws.iam.RolePolicy("github-preview-state", { role: previewRole.id, policy: statePolicy });

export const backendUrl = pulumi.interpolate`s3://${bucket.bucket}?region=${aws.config.region ?? "us-east-1"}`;
export const secretsProvider = "awskms://alias/gplay-pulumi";
export const deployRoleArn = deployRole.arn;
export const previewRoleArn = previewRole.arn;
