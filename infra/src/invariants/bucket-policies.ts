import type { Statement } from "../plan/iam.js";
import { type Invariant, statements } from "./core.js";
import { asArray, ofType, T } from "./resources.js";

/** Whether a statement's principal is everyone (`"*"`, `{AWS: "*"}` or a list holding `"*"`). */
function toEveryone(s: Statement & { NotPrincipal?: unknown }): boolean {
  if (s.NotPrincipal !== undefined) return true;
  const p = s.Principal;
  if (p === undefined) return false;
  if (p === "*") return true;
  return Object.values(p).some((v) => asArray(v).includes("*"));
}

/**
 * The Allow statements of a bucket policy that grant to everyone. Denies to `*` (TLS-only) are how
 * the lake's policies work; an Allow to `*` makes the bucket public whatever the public access
 * block says today (the block can be switched off later), so none is accepted. Pure.
 */
export function publicAllowStatements(policy: unknown): Statement[] {
  return statements(policy).filter((s) => s.Effect === "Allow" && toEveryone(s));
}

export const BUCKET_POLICY_INVARIANTS: Invariant[] = [
  {
    id: "bucket-policy-no-public-allow",
    description: "no bucket policy allows anything to everyone (Principal or NotPrincipal '*')",
    check: (rs) =>
      ofType(rs, T.bucketPolicy).flatMap((p) =>
        publicAllowStatements(p.inputs.policy).map(
          (s) =>
            `${p.name}: statement ${s.Sid ?? "(no Sid)"} allows ${asArray(s.Action).join(",")} to everyone`,
        ),
      ),
  },
];
