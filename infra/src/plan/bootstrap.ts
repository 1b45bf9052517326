import { doc, type PolicyDocument } from "./iam.js";

/**
 * What must exist before the first `pulumi up` (infra/bootstrap): the GitHub OIDC trust of the CI
 * roles, as data. Tokens are accepted only for this repository and only from the named GitHub
 * environments (a job with `environment:` gets `sub = repo:<owner>/<repo>:environment:<name>`).
 */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

export function githubOidcTrustPolicy(args: {
  providerArn: string;
  repository: string;
  environments: readonly string[];
}): PolicyDocument {
  if (!/^[\w.-]+\/[\w.-]+$/.test(args.repository)) throw new RangeError(`not owner/repo: ${args.repository}`);
  if (args.environments.length === 0) throw new RangeError("at least one GitHub environment");
  return doc({
    Effect: "Allow",
    Principal: { Federated: args.providerArn },
    Action: ["sts:AssumeRoleWithWebIdentity"],
    Condition: {
      StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com" },
      StringLike: {
        [`${GITHUB_OIDC_HOST}:sub`]: args.environments.map((e) => `repo:${args.repository}:environment:${e}`),
      },
    },
  });
}

/** What every CI role needs on the state backend: the state bucket and the secrets-provider key. */
export function stateBackendPolicy(args: { bucket: string; keyArn: string }): PolicyDocument {
  return doc(
    {
      Sid: "State",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"],
      Resource: [`arn:aws:s3:::${args.bucket}`, `arn:aws:s3:::${args.bucket}/*`],
    },
    {
      Sid: "Secrets",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [args.keyArn],
    },
  );
}
