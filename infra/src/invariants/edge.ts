import { ACCEPTED_TLS_POLICIES, WAF_MANAGED_RULE_GROUPS } from "../plan/edge.js";
import { type Invariant, problems, references } from "./core.js";
import { asArray, ofType, type RecordedResource, T } from "./resources.js";

/**
 * The public edge: what the internet reaches (the API's load balancer) is encrypted in prod and
 * filtered by AWS WAF everywhere.
 */
type R = readonly RecordedResource[];

const publicLoadBalancers = (rs: R) =>
  ofType(rs, T.loadBalancer).filter((lb) => lb.inputs.internal === false);
const listenersOf = (rs: R, lb: RecordedResource) =>
  ofType(rs, T.listener).filter((l) => references(l, "loadBalancerArn", lb));

const redirectsToHttps = (l: RecordedResource) => {
  const actions = asArray(l.inputs.defaultActions);
  return (
    actions.length > 0 &&
    actions.every(
      (a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS" && a.redirect?.port === "443",
    )
  );
};

export const EDGE_INVARIANTS: Invariant[] = [
  {
    id: "api-tls",
    description:
      "prod's public load balancer serves HTTPS on 443 with a certificate and a TLS 1.2+ policy, and its HTTP listener only redirects to HTTPS; any HTTPS listener uses an accepted policy; created public certificates are DNS-validated",
    check: (rs, ctx) => {
      const lbs = publicLoadBalancers(rs);
      const out: string[] = [];
      if (ctx.environment === "prod" && lbs.length === 0) out.push("prod has no public load balancer");
      for (const lb of lbs) {
        const listeners = listenersOf(rs, lb);
        const https = listeners.filter((l) => l.inputs.protocol === "HTTPS");
        const plain = listeners.filter((l) => l.inputs.protocol !== "HTTPS");
        out.push(
          ...problems([
            ...https.map((l): [boolean, string] => [
              ACCEPTED_TLS_POLICIES.includes(l.inputs.sslPolicy),
              `${l.name}: TLS policy ${l.inputs.sslPolicy} is not one of ${ACCEPTED_TLS_POLICIES.join(", ")}`,
            ]),
            ...(ctx.environment === "prod" || https.length > 0
              ? [
                  [
                    https.some(
                      (l) =>
                        l.inputs.port === 443 &&
                        typeof l.inputs.certificateArn === "string" &&
                        l.inputs.certificateArn !== "",
                    ),
                    `${lb.name}: no HTTPS listener on 443 with a certificate`,
                  ] as [boolean, string],
                  ...plain.map((l): [boolean, string] => [
                    redirectsToHttps(l),
                    `${l.name}: serves plain ${l.inputs.protocol} instead of redirecting to HTTPS`,
                  ]),
                ]
              : []),
          ]),
        );
      }
      // Public certificates; private ones (issued by a private CA, no validation) are `mlflow-tls`'s.
      for (const c of ofType(rs, T.certificate).filter(
        (c) => c.inputs.certificateAuthorityArn === undefined,
      )) {
        if (c.inputs.validationMethod !== "DNS") out.push(`${c.name}: not validated by DNS`);
        if (!ofType(rs, T.certificateValidation).some((v) => references(v, "certificateArn", c)))
          out.push(`${c.name}: nothing waits for its validation`);
      }
      return out;
    },
  },
  {
    id: "api-waf",
    description:
      "every public load balancer has an AWS WAF web ACL with AWS's managed rule groups (enforcing, not counting) and a blocking rate-based rule per IP",
    check: (rs) => {
      const lbs = publicLoadBalancers(rs);
      if (lbs.length === 0) return ["no public load balancer"];
      return lbs.flatMap((lb) => {
        const associations = ofType(rs, T.webAclAssociation).filter((a) => references(a, "resourceArn", lb));
        const acls = ofType(rs, T.webAcl).filter((acl) =>
          associations.some((a) => references(a, "webAclArn", acl)),
        );
        if (acls.length === 0) return [`${lb.name}: no WAF web ACL`];
        return acls.flatMap((acl) => {
          const rules = asArray(acl.inputs.rules);
          const managed = (name: string) =>
            rules.some(
              (r) =>
                r.statement?.managedRuleGroupStatement?.vendorName === "AWS" &&
                r.statement?.managedRuleGroupStatement?.name === name &&
                r.overrideAction?.none !== undefined,
            );
          return problems([
            [acl.inputs.scope === "REGIONAL", `${acl.name}: not a regional (ALB) web ACL`],
            ...WAF_MANAGED_RULE_GROUPS.map((g): [boolean, string] => [
              managed(g),
              `${acl.name}: managed rule group ${g} missing or only counting`,
            ]),
            [
              rules.some(
                (r) =>
                  r.action?.block !== undefined &&
                  r.statement?.rateBasedStatement?.aggregateKeyType === "IP" &&
                  r.statement?.rateBasedStatement?.limit > 0,
              ),
              `${acl.name}: no blocking rate-based rule per IP`,
            ],
          ]);
        });
      });
    },
  },
];
