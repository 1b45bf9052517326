import { ENVIRONMENTS, type Environment } from "./config.js";
import { doc, type PolicyDocument, type Statement } from "./iam.js";

/**
 * What must exist before the first `pulumi up` (infra/bootstrap), as data: who CI is in each
 * environment and what it may touch. One deploy role per environment, trusted only by that GitHub
 * environment (`sub = repo:<owner>/<repo>:environment:<name>`), capped by a permissions boundary
 * that denies every other environment's resources, state and key; one preview role per environment
 * that reads its state and cannot write it. Each environment has its own state prefix
 * (`s3://<bucket>/<env>`) and its own secrets key (`awskms://alias/gplay-pulumi-<env>`).
 */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** Where the DIY backend keeps its lock files, under an environment's prefix. */
export const STATE_LOCKS = ".pulumi/locks/";

/** Encrypts the state objects (SSE-KMS); each role may use it only under its own prefix. */
export const STATE_KEY_ALIAS = "alias/gplay-pulumi-state";

/** The environments one bootstrap creates CI for: all by default, one per account when separated. */
export function parseEnvironments(raw: unknown): Environment[] {
  const value = typeof raw === "string" ? JSON.parse(raw) : (raw ?? [...ENVIRONMENTS]);
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((e) => (ENVIRONMENTS as readonly unknown[]).includes(e)) ||
    new Set(value).size !== value.length
  )
    throw new RangeError(`environments: a non-empty list of distinct ${ENVIRONMENTS.join("/")}`);
  return value as Environment[];
}

/** The names of one environment's CI identity and state. */
export function ciNames(environment: Environment) {
  return {
    deployRole: `gplay-github-deploy-${environment}`,
    previewRole: `gplay-github-preview-${environment}`,
    /** GitHub environments: deploys run in `<env>`, previews in `<env>-preview`. */
    deployEnvironment: environment,
    previewEnvironment: `${environment}-preview`,
    /** Caps the deploy role. */
    ciBoundary: `gplay-ci-boundary-${environment}`,
    /** Caps every role the platform creates in this environment (required by the CI boundary). */
    workloadBoundary: workloadBoundaryName(environment),
    statePrefix: environment,
    secretsKeyAlias: `alias/gplay-pulumi-${environment}`,
  };
}

/** The workload boundary's policy name (the platform attaches it to every role it creates). */
export const workloadBoundaryName = (environment: Environment) => `gplay-workload-boundary-${environment}`;

/** ARN of a customer-managed policy. */
export const policyArn = (accountId: string, name: string) => `arn:aws:iam::${accountId}:policy/${name}`;

/** The role name patterns of CI, and the boundary policies: no CI role may change them. */
export const CI_IDENTITY_RESOURCES = [
  "arn:aws:iam::*:role/gplay-github-*",
  "arn:aws:iam::*:policy/gplay-ci-boundary-*",
  "arn:aws:iam::*:policy/gplay-workload-boundary-*",
  "arn:aws:iam::*:oidc-provider/*",
];

/** Actions that read an image from ECR (prod's deploy copies dev's image by digest). */
export const ECR_PULL_ACTIONS = [
  "ecr:BatchGetImage",
  "ecr:GetDownloadUrlForLayer",
  "ecr:BatchCheckLayerAvailability",
  "ecr:DescribeImages",
  "ecr:DescribeImageScanFindings",
  "ecr:ListImages",
];

/** Trust of one CI role: tokens of this repository's one GitHub environment, exactly. */
export function githubOidcTrustPolicy(args: {
  providerArn: string;
  repository: string;
  environment: string;
}): PolicyDocument {
  if (!/^[\w.-]+\/[\w.-]+$/.test(args.repository)) throw new RangeError(`not owner/repo: ${args.repository}`);
  if (!/^[\w-]+$/.test(args.environment))
    throw new RangeError(`not a GitHub environment: ${args.environment}`);
  return doc({
    Effect: "Allow",
    Principal: { Federated: args.providerArn },
    Action: ["sts:AssumeRoleWithWebIdentity"],
    Condition: {
      StringEquals: {
        [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
        [`${GITHUB_OIDC_HOST}:sub`]: `repo:${args.repository}:environment:${args.environment}`,
      },
    },
  });
}

/**
 * A CI role's access to its environment's state: list and read its prefix; the deploy role also
 * writes it (checkpoints, history, backups) and encrypts with the secrets key. The preview role
 * only decrypts, and writes nothing but the lock files every DIY-backend operation takes
 * (`.pulumi/locks/`), so it cannot change a checkpoint. The state key is usable only for objects
 * under the prefix (S3's encryption context is the object's ARN: no bucket key).
 */
export function stateBackendPolicy(args: {
  bucket: string;
  environment: Environment;
  stateKeyArn: string;
  secretsKeyArn: string;
  access: "deploy" | "preview";
}): PolicyDocument {
  const prefix = ciNames(args.environment).statePrefix;
  const objects = `arn:aws:s3:::${args.bucket}/${prefix}/*`;
  const locks = `arn:aws:s3:::${args.bucket}/${prefix}/${STATE_LOCKS}*`;
  const deploy = args.access === "deploy";
  const statements: Statement[] = [
    {
      Sid: "StateList",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [`arn:aws:s3:::${args.bucket}`],
      Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } },
    },
    {
      Sid: "StateLocation",
      Effect: "Allow",
      Action: ["s3:GetBucketLocation"],
      Resource: [`arn:aws:s3:::${args.bucket}`],
    },
    { Sid: "StateRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: [objects] },
    {
      Sid: "StateKey",
      Effect: "Allow",
      Action: deploy ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
      Resource: [args.stateKeyArn],
      Condition: { StringLike: { "kms:EncryptionContext:aws:s3:arn": [objects] } },
    },
    ...(deploy
      ? []
      : ([
          {
            Sid: "StateLock",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:DeleteObject"],
            Resource: [locks],
          },
          {
            Sid: "StateLockKey",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey"],
            Resource: [args.stateKeyArn],
            Condition: { StringLike: { "kms:EncryptionContext:aws:s3:arn": [locks] } },
          },
        ] satisfies Statement[])),
    {
      Sid: "SecretsKey",
      Effect: "Allow",
      Action: deploy ? ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
      Resource: [args.secretsKeyArn],
    },
  ];
  if (deploy)
    statements.splice(3, 0, {
      Sid: "StateWrite",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: [objects],
    });
  return doc(...statements);
}

/** What one environment must never touch of another: its resources by name, state and key. */
function otherEnvironmentResources(args: {
  bucket: string;
  others: readonly Environment[];
  otherSecretsKeyArns: readonly string[];
}): string[] {
  return [
    ...args.others.flatMap((o) => [
      `arn:aws:s3:::gplay-${o}-*`,
      `arn:aws:s3:::${args.bucket}/${o}/*`,
      `arn:aws:dynamodb:*:*:table/gplay-${o}-*`,
      `arn:aws:secretsmanager:*:*:secret:gplay-${o}/*`,
      `arn:aws:logs:*:*:log-group:/gplay/gplay-${o}/*`,
      `arn:aws:ecs:*:*:*/gplay-${o}*`,
    ]),
    ...args.otherSecretsKeyArns,
  ];
}

/** ECR repositories of other environments (denied, except pulls from the one promoted from). */
const repositories = (envs: readonly Environment[]) =>
  envs.map((o) => `arn:aws:ecr:*:*:repository/gplay-${o}/*`);

/**
 * The permissions boundary of one environment's roles. `kind: "ci"` caps the deploy role (which
 * holds AdministratorAccess): it also protects CI's own identity, forbids long-lived credentials and
 * role hopping, and lets it create roles only if they carry the workload boundary, so no role it
 * creates can escape. `kind: "workload"` caps the platform's task and event roles. Both deny the
 * other environments' resources: by the `environment` tag every stack sets, by name (S3 objects
 * and the like carry no tags), their state prefix and secrets key. `promotesFrom` lets prod's
 * deploy read (only read) the images dev ran, to copy them by digest.
 */
export function environmentBoundary(args: {
  kind: "ci" | "workload";
  environment: Environment;
  bucket: string;
  otherSecretsKeyArns: readonly string[];
  /** The workload boundary's ARN (kind "ci": roles may only be created with it). */
  workloadBoundaryArn?: string;
  promotesFrom?: Environment;
}): PolicyDocument {
  const others = ENVIRONMENTS.filter((e) => e !== args.environment);
  const statements: Statement[] = [
    // A boundary only caps: the role's own policies grant.
    { Sid: "Ceiling", Effect: "Allow", Action: ["*"], Resource: ["*"] },
    {
      Sid: "DenyOtherEnvironmentsTagged",
      Effect: "Deny",
      ...(args.promotesFrom !== undefined ? { NotAction: ECR_PULL_ACTIONS } : { Action: ["*"] }),
      Resource: ["*"],
      Condition: { StringEquals: { "aws:ResourceTag/environment": [...others] } },
    },
    {
      Sid: "DenyTaggingAsOtherEnvironments",
      Effect: "Deny",
      Action: ["*"],
      Resource: ["*"],
      Condition: { StringEquals: { "aws:RequestTag/environment": [...others] } },
    },
    {
      Sid: "DenyOtherEnvironmentsByName",
      Effect: "Deny",
      Action: ["*"],
      Resource: otherEnvironmentResources({ ...args, others }),
    },
    {
      Sid: "DenyOtherEnvironmentsImages",
      Effect: "Deny",
      ...(args.promotesFrom !== undefined ? { NotAction: ECR_PULL_ACTIONS } : { Action: ["*"] }),
      Resource: repositories(others),
    },
    { Sid: "DenyCiIdentityChanges", Effect: "Deny", Action: ["iam:*"], Resource: CI_IDENTITY_RESOURCES },
    {
      Sid: "DenyLongLivedCredentials",
      Effect: "Deny",
      Action: ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
      Resource: ["*"],
    },
    { Sid: "DenyRoleHopping", Effect: "Deny", Action: ["sts:AssumeRole"], Resource: ["*"] },
  ];
  if (args.kind === "workload")
    statements.push({
      Sid: "DenyIdentityChanges",
      Effect: "Deny",
      NotAction: ["iam:Get*", "iam:List*", "iam:PassRole"],
      Resource: ["arn:aws:iam::*:*"],
    });
  else {
    if (args.workloadBoundaryArn === undefined)
      throw new RangeError("a CI boundary needs the workload boundary");
    statements.push(
      {
        Sid: "RolesCarryTheWorkloadBoundary",
        Effect: "Deny",
        Action: ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
        Resource: ["*"],
        Condition: { StringNotEquals: { "iam:PermissionsBoundary": args.workloadBoundaryArn } },
      },
      {
        Sid: "BoundariesStay",
        Effect: "Deny",
        Action: ["iam:DeleteRolePermissionsBoundary"],
        Resource: ["*"],
      },
      {
        Sid: "DenyStateBackendChanges",
        Effect: "Deny",
        Action: [
          "s3:DeleteBucket",
          "s3:PutBucketPolicy",
          "s3:DeleteBucketPolicy",
          "s3:PutBucketVersioning",
          "s3:PutEncryptionConfiguration",
          "s3:PutBucketPublicAccessBlock",
          "s3:PutLifecycleConfiguration",
        ],
        Resource: [`arn:aws:s3:::${args.bucket}`],
      },
    );
  }
  return doc(...statements);
}
