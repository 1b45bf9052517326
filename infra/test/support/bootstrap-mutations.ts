import { T } from "../../src/invariants/resources.js";
import { ACCOUNT, REGION } from "./mocks.js";
import { editStatements, type Mutation, without } from "./mutations.js";

/** Mutations of the bootstrap program (infra/bootstrap): each must break its CI identity invariant. */
export type BootstrapMutation = Omit<Mutation, "stack">;

const SUB = "token.actions.githubusercontent.com:sub";
const prodKey = `arn:aws:kms:${REGION}:${ACCOUNT}:key/pulumi-secrets-prod`;

export const BOOTSTRAP_MUTATIONS: BootstrapMutation[] = [
  {
    invariant: "ci-deploy-role-per-environment",
    what: "the dev deploy role trusts every environment (wildcard sub)",
    type: T.role,
    name: "github-deploy-dev",
    mutate: (p) =>
      editStatements(p, "assumeRolePolicy", (ss) =>
        ss.map((s) => {
          const { [SUB]: sub, ...aud } = s.Condition.StringEquals;
          return {
            ...s,
            Condition: {
              StringEquals: aud,
              StringLike: { [SUB]: sub.replace(/environment:dev$/, "environment:*") },
            },
          };
        }),
      ),
  },
  {
    invariant: "ci-deploy-role-per-environment",
    what: "the prod deploy role loses its permissions boundary",
    type: T.role,
    name: "github-deploy-prod",
    mutate: (p) => without(p, "permissionsBoundary"),
  },
  {
    invariant: "ci-deploy-role-per-environment",
    what: "the dev preview role is also trusted by the prod environment",
    type: T.role,
    name: "github-preview-dev",
    mutate: (p) =>
      editStatements(p, "assumeRolePolicy", (ss) => [
        ...ss,
        {
          ...ss[0],
          Condition: {
            StringEquals: {
              ...ss[0]?.Condition.StringEquals,
              [SUB]: "repo:globo/gplay-recommend:environment:prod",
            },
          },
        },
      ]),
  },
  {
    invariant: "ci-boundary-separates-environments",
    what: "the dev boundary stops denying prod-tagged resources",
    type: T.policy,
    name: "ci-boundary-dev",
    mutate: (p) =>
      editStatements(p, "policy", (ss) => ss.filter((s) => s.Sid !== "DenyOtherEnvironmentsTagged")),
  },
  {
    invariant: "ci-boundary-separates-environments",
    what: "the dev deploy role may create roles without the workload boundary",
    type: T.policy,
    name: "ci-boundary-dev",
    mutate: (p) =>
      editStatements(p, "policy", (ss) => ss.filter((s) => s.Sid !== "RolesCarryTheWorkloadBoundary")),
  },
  {
    invariant: "ci-boundary-separates-environments",
    what: "the prod boundary forgets dev's state prefix",
    type: T.policy,
    name: "ci-boundary-prod",
    mutate: (p) =>
      editStatements(p, "policy", (ss) =>
        ss.map((s) =>
          s.Sid === "DenyOtherEnvironmentsByName"
            ? { ...s, Resource: s.Resource.filter((r: string) => !r.endsWith("/dev/*")) }
            : s,
        ),
      ),
  },
  {
    invariant: "ci-state-separation",
    what: "the dev deploy role may write every prefix of the state bucket",
    type: T.rolePolicy,
    name: "github-deploy-dev-state",
    mutate: (p) =>
      editStatements(p, "policy", (ss) =>
        ss.map((s) =>
          s.Sid === "StateWrite" ? { ...s, Resource: [s.Resource[0].replace("/dev/*", "/*")] } : s,
        ),
      ),
  },
  {
    invariant: "ci-state-separation",
    what: "prod's secrets alias points at dev's key",
    type: T.kmsAlias,
    name: "pulumi-secrets-prod",
    mutate: (p) => ({ ...p, targetKeyId: "pulumi-secrets-dev-key-id" }),
  },
  {
    invariant: "ci-preview-read-only",
    what: "the PR preview role may decrypt prod's secrets",
    type: T.rolePolicy,
    name: "github-preview-dev-state",
    mutate: (p) =>
      editStatements(p, "policy", (ss) =>
        ss.map((s) => (s.Sid === "SecretsKey" ? { ...s, Resource: [...s.Resource, prodKey] } : s)),
      ),
  },
  {
    invariant: "ci-preview-read-only",
    what: "the preview role may overwrite checkpoints",
    type: T.rolePolicy,
    name: "github-preview-dev-state",
    mutate: (p) =>
      editStatements(p, "policy", (ss) =>
        ss.map((s) => (s.Sid === "StateRead" ? { ...s, Action: ["s3:GetObject", "s3:PutObject"] } : s)),
      ),
  },
  {
    invariant: "ci-preview-read-only",
    what: "the preview role reads data again (ReadOnlyAccess)",
    type: T.role,
    name: "github-preview-prod",
    mutate: (p) => ({ ...p, managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }),
  },
  {
    invariant: "bucket-policy-no-public-allow",
    what: "the state bucket lets everyone read checkpoints",
    type: T.bucketPolicy,
    name: "pulumi-state",
    mutate: (p) =>
      editStatements(p, "policy", (ss) => [
        ...ss,
        { Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::state/*"] },
      ]),
  },
];
