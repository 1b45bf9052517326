import { ACCEPTED_TLS_POLICIES } from "../plan/edge.js";
import { ACM_PRINCIPAL, ACM_RENEWAL_ACTIONS, MLFLOW_HTTPS_PORT } from "../plan/internal-tls.js";
import { ENV } from "../plan/tasks.js";
import { type Invariant, problems, references } from "./core.js";
import { asArray, ofType, type RecordedResource, T } from "./resources.js";
import { serviceByName, varsOf } from "./workloads.js";

/**
 * Traffic inside the VPC: MLflow's internal load balancer serves HTTPS only, with an ACM private
 * certificate from the stack's active private CA (which ACM may renew from), under a private name;
 * its clients call that name over https and are given the CA to trust; only they may connect.
 */
type R = readonly RecordedResource[];

/** The load balancers that forward to MLflow's target group, and all their listeners. */
function mlflowBalancers(rs: R, prefix: string) {
  const svc = serviceByName(rs, `${prefix}-mlflow`);
  const tgArns = asArray(svc?.inputs.loadBalancers).map((lb) => lb.targetGroupArn);
  const forwarding = ofType(rs, T.listener).filter((l) =>
    asArray(l.inputs.defaultActions).some((a) => tgArns.includes(a.targetGroupArn)),
  );
  const lbs = ofType(rs, T.loadBalancer).filter((lb) =>
    forwarding.some((l) => l.inputs.loadBalancerArn === lb.inputs.arn),
  );
  const listeners = ofType(rs, T.listener).filter((l) =>
    lbs.some((lb) => references(l, "loadBalancerArn", lb)),
  );
  return { lbs, listeners };
}

const hostOf = (uri: string | undefined) => {
  try {
    return uri === undefined ? undefined : new URL(uri);
  } catch {
    return undefined;
  }
};

export const INTERNAL_TLS_INVARIANTS: Invariant[] = [
  {
    id: "mlflow-tls",
    description:
      "MLflow's internal load balancer has only HTTPS listeners (443, TLS 1.2+ policy) with an ACM private certificate from an active general-purpose private CA that ACM may renew from; a private zone names it; training and the api call that name over https and get the CA certificate; the balancer accepts 443 from security groups only, never port 80",
    check: (rs, ctx) => {
      const { lbs, listeners } = mlflowBalancers(rs, ctx.prefix);
      if (lbs.length === 0) return ["no load balancer forwards to MLflow"];
      const out: string[] = [];
      const certs = ofType(rs, T.certificate).filter((c) =>
        listeners.some((l) => l.inputs.certificateArn === c.inputs.arn),
      );
      for (const l of listeners)
        out.push(
          ...problems([
            [l.inputs.protocol === "HTTPS", `${l.name}: MLflow served over ${l.inputs.protocol}, not HTTPS`],
            [
              l.inputs.port === MLFLOW_HTTPS_PORT,
              `${l.name}: HTTPS on ${l.inputs.port}, not ${MLFLOW_HTTPS_PORT}`,
            ],
            [
              ACCEPTED_TLS_POLICIES.includes(l.inputs.sslPolicy),
              `${l.name}: TLS policy ${l.inputs.sslPolicy} is not one of ${ACCEPTED_TLS_POLICIES.join(", ")}`,
            ],
            [
              certs.some((c) => c.inputs.arn === l.inputs.certificateArn),
              `${l.name}: no certificate of this stack`,
            ],
          ]),
        );
      for (const c of certs) {
        const ca = ofType(rs, T.privateCa).find((a) => a.inputs.arn === c.inputs.certificateAuthorityArn);
        const permission = ofType(rs, T.privateCaPermission).find(
          (p) => ca !== undefined && references(p, "certificateAuthorityArn", ca),
        );
        out.push(
          ...problems([
            [ca !== undefined, `${c.name}: not issued by the stack's private CA`],
            [
              ca?.inputs.usageMode === "GENERAL_PURPOSE",
              `${c.name}: its CA is not GENERAL_PURPOSE (ACM issues and renews from those only)`,
            ],
            [
              ca !== undefined &&
                ofType(rs, T.privateCaCertificate).some((a) => references(a, "certificateAuthorityArn", ca)),
              `${c.name}: its CA has no installed root certificate (never ACTIVE)`,
            ],
            [
              permission?.inputs.principal === ACM_PRINCIPAL &&
                ACM_RENEWAL_ACTIONS.every((a) => asArray(permission.inputs.actions).includes(a)),
              `${c.name}: ACM may not renew it from its CA (no ${ACM_RENEWAL_ACTIONS.join("/")} permission)`,
            ],
          ]),
        );
      }
      const names = certs.map((c) => c.inputs.domainName as string);
      const privateZones = ofType(rs, T.zone).filter((z) => asArray(z.inputs.vpcs).length > 0);
      const records = ofType(rs, T.record).filter(
        (r) => names.includes(r.inputs.name) && privateZones.some((z) => r.inputs.zoneId === z.inputs.zoneId),
      );
      if (names.length > 0 && records.length === 0)
        out.push(`no record in a private zone names ${names.join(", ")}`);
      for (const w of ["training", "api"] as const) {
        const v = varsOf(rs, ctx, w);
        const uri = hostOf(v?.environment[ENV.mlflowTrackingUri]);
        out.push(
          ...problems([
            [
              uri?.protocol === "https:" && names.includes(uri.hostname),
              `${w}: ${ENV.mlflowTrackingUri} is not https:// on the certificate's name`,
            ],
            [
              (v?.environment[ENV.mlflowTrackingCaPem] ?? "").includes("-----BEGIN CERTIFICATE-----"),
              `${w}: no ${ENV.mlflowTrackingCaPem} (the private CA to trust)`,
            ],
          ]),
        );
      }
      const hosts = (varsOf(rs, ctx, "mlflow")?.environment[ENV.mlflowAllowedHosts] ?? "").split(",");
      if (!names.every((n) => hosts.includes(n)))
        out.push(`MLflow: ${ENV.mlflowAllowedHosts} does not accept ${names.join(", ")}`);
      for (const lb of lbs) {
        const groups = ofType(rs, T.securityGroup).filter((sg) =>
          asArray(lb.inputs.securityGroups).includes(sg.id ?? sg.name),
        );
        const ingress = groups.flatMap((sg) => asArray(sg.inputs.ingress));
        out.push(
          ...problems([
            [
              ingress.length > 0 &&
                ingress.every(
                  (i) =>
                    i.fromPort === MLFLOW_HTTPS_PORT &&
                    i.toPort === MLFLOW_HTTPS_PORT &&
                    asArray(i.cidrBlocks).length === 0 &&
                    asArray(i.securityGroups).length > 0,
                ),
              `${lb.name}: accepts more than HTTPS from security groups`,
            ],
          ]),
        );
      }
      return out;
    },
  },
];
