import {
  ciNames,
  ECR_PULL_ACTIONS,
  GITHUB_OIDC_HOST,
  STATE_LOCKS,
  workloadBoundaryName,
} from "../plan/bootstrap.js";
import { ENVIRONMENTS, type Environment } from "../plan/config.js";
import type { Statement } from "../plan/iam.js";
import { BUCKET_POLICY_INVARIANTS } from "./bucket-policies.js";
import { type Invariant, problems, statements } from "./core.js";
import { asArray, ofType, type RecordedResource, T } from "./resources.js";

/**
 * Who can change what. The platform's roles carry their environment's workload boundary; the
 * bootstrap program's CI identity (CI_IDENTITY_INVARIANTS, run on infra/bootstrap) gives each
 * environment its own deploy role, boundary, state prefix and key, and previews that cannot write.
 */
type R = readonly RecordedResource[];

const PREVIEW_MANAGED_POLICIES = ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"];

const roleNamed = (rs: R, name: string) => ofType(rs, T.role).find((r) => r.inputs.name === name);
const policyNamed = (rs: R, name: string) => ofType(rs, T.policy).find((p) => p.inputs.name === name);
/** Whether an ARN names the customer-managed policy `name` (in any account). */
const isPolicyArn = (arn: unknown, name: string) =>
  typeof arn === "string" && new RegExp(`^arn:aws:iam::\\d{12}:policy/${name}$`).test(arn);
const refersToPolicy = (arn: unknown, policy: RecordedResource | undefined) =>
  policy !== undefined && (arn === policy.inputs.arn || isPolicyArn(arn, policy.inputs.name));

function inlineStatements(rs: R, role: RecordedResource): Statement[] {
  return ofType(rs, T.rolePolicy)
    .filter(
      (p) =>
        p.inputs.role === role.id || p.inputs.role === role.inputs.name || p.name.startsWith(`${role.name}-`),
    )
    .flatMap((p) => statements(p.inputs.policy));
}

/** The GitHub `sub` values a role's trust policy accepts, and whether it accepts them exactly. */
function trustedSubjects(role: RecordedResource): { subjects: string[]; exact: boolean } {
  const stmts = statements(role.inputs.assumeRolePolicy);
  const subjects: string[] = [];
  let exact = stmts.length > 0;
  for (const s of stmts) {
    const eq = s.Condition?.StringEquals ?? {};
    const like = s.Condition?.StringLike ?? {};
    const sub = [...asArray(eq[`${GITHUB_OIDC_HOST}:sub`]), ...asArray(like[`${GITHUB_OIDC_HOST}:sub`])];
    subjects.push(...sub);
    if (
      s.Effect !== "Allow" ||
      typeof s.Principal !== "object" ||
      s.Principal.Federated === undefined ||
      !(asArray(s.Action).length === 1 && asArray(s.Action)[0] === "sts:AssumeRoleWithWebIdentity") ||
      eq[`${GITHUB_OIDC_HOST}:aud`] !== "sts.amazonaws.com" ||
      like[`${GITHUB_OIDC_HOST}:sub`] !== undefined ||
      sub.length !== 1 ||
      sub.some((x) => x.includes("*") || x.includes("?"))
    )
      exact = false;
  }
  return { subjects, exact };
}

const subjectOf = (environment: string) => new RegExp(`^repo:[\\w.-]+/[\\w.-]+:environment:${environment}$`);

/** Environments the bootstrap stack has a deploy role for. */
const bootstrapped = (rs: R) =>
  ENVIRONMENTS.filter((e) => roleNamed(rs, ciNames(e).deployRole) !== undefined);

/** Runs a check per bootstrapped environment; a stack with none violates it. */
function perEnvironment(
  rs: R,
  check: (env: Environment, n: ReturnType<typeof ciNames>) => string[],
): string[] {
  const envs = bootstrapped(rs);
  if (envs.length === 0) return ["no per-environment deploy role"];
  return envs.flatMap((env) => check(env, ciNames(env)));
}
const stateBucket = (rs: R): string | undefined => ofType(rs, T.bucket)[0]?.inputs.bucket;

/** ARN of the key an alias targets. */
function keyOfAlias(rs: R, alias: string): string | undefined {
  const a = ofType(rs, T.kmsAlias).find((x) => x.inputs.name === alias);
  if (a === undefined) return undefined;
  return ofType(rs, T.kmsKey).find((k) => k.inputs.keyId === a.inputs.targetKeyId || k.name === a.name)
    ?.inputs.arn;
}

const denies = (doc: Statement[], test: (s: Statement) => boolean) =>
  doc.some((s) => s.Effect === "Deny" && test(s));
const deniesEverything = (s: Statement) =>
  asArray(s.Action).includes("*") || asArray(s.NotAction).every((a) => ECR_PULL_ACTIONS.includes(a));

export const WORKLOAD_IDENTITY_INVARIANTS: Invariant[] = [
  {
    id: "roles-workload-boundary",
    description:
      "every IAM role of the platform carries its environment's workload boundary (gplay-workload-boundary-<env>)",
    check: (rs, ctx) => {
      const roles = ofType(rs, T.role);
      if (roles.length === 0) return ["no roles"];
      return roles
        .filter((r) => !isPolicyArn(r.inputs.permissionsBoundary, workloadBoundaryName(ctx.environment)))
        .map((r) => `${r.name}: no ${workloadBoundaryName(ctx.environment)} permissions boundary`);
    },
  },
];

export const CI_IDENTITY_INVARIANTS: Invariant[] = [
  {
    id: "ci-deploy-role-per-environment",
    description:
      "one deploy role per environment, trusted (StringEquals, no wildcard) only by that GitHub environment of this repository, with the environment's CI boundary; no role is trusted by two environments",
    check: (rs) => {
      const out = perEnvironment(rs, (_env, n) => {
        const role = roleNamed(rs, n.deployRole) as RecordedResource;
        const { subjects, exact } = trustedSubjects(role);
        return problems([
          [
            exact && subjects.length === 1 && subjectOf(n.deployEnvironment).test(subjects[0] ?? ""),
            `${n.deployRole}: not trusted by exactly the GitHub environment ${n.deployEnvironment}`,
          ],
          [
            refersToPolicy(role.inputs.permissionsBoundary, policyNamed(rs, n.ciBoundary)),
            `${n.deployRole}: no ${n.ciBoundary} permissions boundary`,
          ],
        ]);
      });
      const seen = new Map<string, string>();
      for (const role of ofType(rs, T.role))
        for (const sub of trustedSubjects(role).subjects) {
          const other = seen.get(sub);
          if (other !== undefined && other !== role.name)
            out.push(`${sub} is trusted by ${other} and ${role.name}`);
          seen.set(sub, role.name);
        }
      return out;
    },
  },
  {
    id: "ci-boundary-separates-environments",
    description:
      "each deploy role's boundary denies every other environment (by tag, by name, its state prefix and key), protects CI's identity and the state bucket, and lets it create roles only with the workload boundary, which exists and denies the other environments too",
    check: (rs) => {
      const bucket = stateBucket(rs);
      return perEnvironment(rs, (env, n) => {
        const others = ENVIRONMENTS.filter((e) => e !== env);
        const otherKeys = others
          .map((o) => keyOfAlias(rs, ciNames(o).secretsKeyAlias))
          .filter((k) => k !== undefined);
        const workload = policyNamed(rs, n.workloadBoundary);
        const doc = statements(policyNamed(rs, n.ciBoundary)?.inputs.policy);
        const tagged = (d: Statement[], key: string) =>
          denies(
            d,
            (s) =>
              deniesEverything(s) &&
              others.every((o) => asArray(s.Condition?.StringEquals?.[key]).includes(o)) &&
              asArray(s.Resource).includes("*"),
          );
        const byName = (d: Statement[], arn: string) =>
          denies(d, (s) => asArray(s.Action).includes("*") && asArray(s.Resource).includes(arn));
        return problems([
          [doc.length > 0, `${n.ciBoundary}: missing`],
          [
            tagged(doc, "aws:ResourceTag/environment"),
            `${n.ciBoundary}: other environments' tagged resources not denied`,
          ],
          [
            tagged(doc, "aws:RequestTag/environment"),
            `${n.ciBoundary}: may tag resources as another environment`,
          ],
          ...others.flatMap((o): [boolean, string][] => [
            [byName(doc, `arn:aws:s3:::${bucket}/${o}/*`), `${n.ciBoundary}: ${o}'s state prefix not denied`],
            [byName(doc, `arn:aws:s3:::gplay-${o}-*`), `${n.ciBoundary}: ${o}'s buckets not denied`],
          ]),
          ...otherKeys.map((k): [boolean, string] => [
            byName(doc, k),
            `${n.ciBoundary}: another environment's key ${k} not denied`,
          ]),
          [
            denies(
              doc,
              (s) =>
                asArray(s.Action).includes("iam:CreateRole") &&
                refersToPolicy(s.Condition?.StringNotEquals?.["iam:PermissionsBoundary"], workload),
            ),
            `${n.ciBoundary}: may create roles without ${n.workloadBoundary}`,
          ],
          [
            denies(doc, (s) => asArray(s.Action).includes("iam:DeleteRolePermissionsBoundary")),
            `${n.ciBoundary}: may remove boundaries`,
          ],
          [
            denies(
              doc,
              (s) =>
                asArray(s.Action).includes("iam:*") &&
                asArray(s.Resource).includes("arn:aws:iam::*:role/gplay-github-*"),
            ),
            `${n.ciBoundary}: may change CI's roles`,
          ],
          [
            denies(
              doc,
              (s) =>
                asArray(s.Action).includes("s3:PutBucketPolicy") &&
                asArray(s.Resource).includes(`arn:aws:s3:::${bucket}`),
            ),
            `${n.ciBoundary}: may change the state bucket`,
          ],
          [
            tagged(statements(workload?.inputs.policy), "aws:ResourceTag/environment"),
            `${n.workloadBoundary}: missing or does not deny other environments`,
          ],
        ]);
      });
    },
  },
  {
    id: "ci-state-separation",
    description:
      "each environment has its own secrets key (alias gplay-pulumi-<env>, rotating) and state prefix; every CI role reaches only its environment's prefix and key, and the state key only for objects under that prefix",
    check: (rs) => {
      const bucket = stateBucket(rs);
      const envs = bootstrapped(rs);
      const stateKey = keyOfAlias(rs, "alias/gplay-pulumi-state");
      const keys = envs.map((e) => keyOfAlias(rs, ciNames(e).secretsKeyAlias));
      const out = problems([
        [stateKey !== undefined, "no state key"],
        [keys.every((k) => k !== undefined), "an environment has no secrets key"],
        [new Set([...keys, stateKey]).size === keys.length + 1, "environments share a key"],
      ]);
      for (const env of envs) {
        const n = ciNames(env);
        const own = `arn:aws:s3:::${bucket}/${n.statePrefix}/`;
        const secretsKey = keyOfAlias(rs, n.secretsKeyAlias);
        for (const roleName of [n.deployRole, n.previewRole]) {
          const role = roleNamed(rs, roleName);
          if (role === undefined) {
            out.push(`${roleName}: missing`);
            continue;
          }
          for (const s of inlineStatements(rs, role).filter((x) => x.Effect === "Allow")) {
            for (const r of asArray(s.Resource)) {
              if (r.startsWith("arn:aws:s3:::") && r !== `arn:aws:s3:::${bucket}` && !r.startsWith(own))
                out.push(`${roleName}: S3 access outside ${own} (${r})`);
              if (r.startsWith("arn:aws:kms:") && r !== stateKey && r !== secretsKey)
                out.push(`${roleName}: may use another environment's key ${r}`);
              if (r === stateKey) {
                const context = asArray(s.Condition?.StringLike?.["kms:EncryptionContext:aws:s3:arn"]);
                if (context.length === 0 || !context.every((c) => c.startsWith(own)))
                  out.push(`${roleName}: state key not limited to objects under ${own}`);
              }
            }
            if (asArray(s.Action).includes("s3:ListBucket")) {
              const prefixes = asArray(s.Condition?.StringLike?.["s3:prefix"]);
              if (prefixes.length === 0 || !prefixes.every((p) => p.startsWith(`${n.statePrefix}/`)))
                out.push(`${roleName}: may list outside ${n.statePrefix}/`);
            }
          }
        }
      }
      return out;
    },
  },
  {
    id: "ci-preview-read-only",
    description:
      "preview roles are trusted only by <env>-preview, see AWS metadata only (ViewOnlyAccess), write no state (only lock files), encrypt nothing and decrypt only their own environment's secrets",
    check: (rs) => {
      const bucket = stateBucket(rs);
      return perEnvironment(rs, (env, n) => {
        const role = roleNamed(rs, n.previewRole);
        if (role === undefined) return [`${n.previewRole}: missing`];
        const locks = `arn:aws:s3:::${bucket}/${n.statePrefix}/${STATE_LOCKS}*`;
        const own = keyOfAlias(rs, n.secretsKeyAlias);
        const otherKeys = ENVIRONMENTS.filter((e: Environment) => e !== env).map((o) =>
          keyOfAlias(rs, ciNames(o).secretsKeyAlias),
        );
        const { subjects, exact } = trustedSubjects(role);
        const allows = inlineStatements(rs, role).filter((s) => s.Effect === "Allow");
        return problems([
          [
            exact && subjects.length === 1 && subjectOf(n.previewEnvironment).test(subjects[0] ?? ""),
            `${n.previewRole}: not trusted by exactly ${n.previewEnvironment}`,
          ],
          [
            asArray<string>(role.inputs.managedPolicyArns).every((a) => PREVIEW_MANAGED_POLICIES.includes(a)),
            `${n.previewRole}: managed policies beyond ViewOnlyAccess (${asArray(role.inputs.managedPolicyArns).join(",")})`,
          ],
          [
            allows.every(
              (s) =>
                !asArray(s.Action).some((a) => /^s3:(Put|Delete)/.test(a)) ||
                asArray(s.Resource).every((r) => r === locks),
            ),
            `${n.previewRole}: may write state beyond lock files`,
          ],
          [
            allows.every(
              (s) => !asArray(s.Action).some((a) => a === "kms:Encrypt" || a === "kms:ReEncrypt*"),
            ),
            `${n.previewRole}: may encrypt`,
          ],
          [
            allows.every(
              (s) =>
                !asArray(s.Action).includes("kms:GenerateDataKey") ||
                asArray(s.Condition?.StringLike?.["kms:EncryptionContext:aws:s3:arn"]).every(
                  (c) => c === locks,
                ),
            ),
            `${n.previewRole}: may generate data keys beyond lock files`,
          ],
          [
            allows.every(
              (s) =>
                !asArray(s.Action).includes("kms:Decrypt") ||
                asArray(s.Resource).every((r) => r !== undefined && !otherKeys.includes(r)),
            ),
            `${n.previewRole}: may decrypt another environment's secrets`,
          ],
          [own !== undefined, `${n.previewRole}: no secrets key of its own`],
        ]);
      });
    },
  },
];

/** What the policy pack and the mock tests check on the bootstrap program. */
export const BOOTSTRAP_INVARIANTS: Invariant[] = [...CI_IDENTITY_INVARIANTS, ...BUCKET_POLICY_INVARIANTS];
