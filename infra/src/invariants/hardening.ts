import { type Invariant, problems, statements } from "./core.js";
import { asArray, ofType, type RecordedResource, T } from "./resources.js";
import { family, isTaskDefArn } from "./workloads.js";

/**
 * Smaller guarantees of a platform that runs for long: what stores data or logs is encrypted with
 * the platform key, the database grows and is observable, only this account's services assume the
 * platform's roles, and a batch task reaches only what it calls.
 */
type R = readonly RecordedResource[];

const platformKeyArn = (rs: R) => ofType(rs, T.kmsKey).find((k) => k.name.endsWith("-key"))?.inputs.arn;
/** Whether a key reference is the platform key (when ARNs are known; otherwise that one is set). */
const isPlatformKey = (rs: R, ref: unknown) => {
  const arn = platformKeyArn(rs);
  return typeof ref === "string" && ref !== "" && (arn === undefined || ref === arn);
};

/** Security groups the ECS event targets running one family put on its tasks. */
function targetGroupsOf(rs: R, fam: string): RecordedResource[] {
  const ids = new Set(
    ofType(rs, T.target)
      .filter((t) => isTaskDefArn(t.inputs.ecsTarget?.taskDefinitionArn, fam))
      .flatMap((t) => asArray<string>(t.inputs.ecsTarget?.networkConfiguration?.securityGroups)),
  );
  return ofType(rs, T.securityGroup).filter((sg) => ids.has(sg.id ?? sg.name));
}

export const HARDENING_INVARIANTS: Invariant[] = [
  {
    id: "platform-key-encryption",
    description: "ECR repositories, log groups and SNS topics are encrypted with the platform key",
    check: (rs) => [
      ...ofType(rs, T.repository)
        .filter(
          (r) =>
            !asArray(r.inputs.encryptionConfigurations).some(
              (c) => c.encryptionType === "KMS" && isPlatformKey(rs, c.kmsKey),
            ),
        )
        .map((r) => `${r.inputs.name}: images not encrypted with the platform key`),
      ...ofType(rs, T.logGroup)
        .filter((g) => !isPlatformKey(rs, g.inputs.kmsKeyId))
        .map((g) => `${g.inputs.name}: log group not encrypted with the platform key`),
      ...ofType(rs, T.topic)
        .filter((t) => !isPlatformKey(rs, t.inputs.kmsMasterKeyId))
        .map((t) => `${t.name}: topic not encrypted with the platform key`),
    ],
  },
  {
    id: "rds-operations",
    description:
      "the database has Performance Insights (encrypted), storage autoscaling, and a final snapshot name that a re-created instance cannot collide with",
    check: (rs) => {
      const dbs = ofType(rs, T.db);
      if (dbs.length === 0) return ["no database"];
      return dbs.flatMap((db) =>
        problems([
          [
            db.inputs.performanceInsightsEnabled === true &&
              isPlatformKey(rs, db.inputs.performanceInsightsKmsKeyId),
            `${db.name}: no Performance Insights encrypted with the platform key`,
          ],
          [
            Number(db.inputs.maxAllocatedStorage) > Number(db.inputs.allocatedStorage),
            `${db.name}: no storage autoscaling (maxAllocatedStorage above allocatedStorage)`,
          ],
          [
            db.inputs.skipFinalSnapshot === true ||
              /-\d{14}$/.test(String(db.inputs.finalSnapshotIdentifier ?? "")),
            `${db.name}: final snapshot name ${db.inputs.finalSnapshotIdentifier} is not unique to this instance (a re-created one would collide)`,
          ],
        ]),
      );
    },
  },
  {
    id: "service-trust-source-account",
    description:
      "a role an AWS service assumes (ECS tasks, EventBridge, …) trusts only that service acting for this account (aws:SourceAccount)",
    check: (rs) =>
      ofType(rs, T.role).flatMap((role) =>
        statements(role.inputs.assumeRolePolicy)
          .filter(
            (s) =>
              s.Effect === "Allow" && typeof s.Principal === "object" && s.Principal.Service !== undefined,
          )
          .filter((s) => !/^\d{12}$/.test(String(s.Condition?.StringEquals?.["aws:SourceAccount"] ?? "")))
          .map((s) => {
            const service = typeof s.Principal === "object" ? asArray(s.Principal.Service).join(",") : "";
            return `${role.name}: ${service} may assume it without aws:SourceAccount`;
          }),
      ),
  },
  {
    id: "batch-egress",
    description:
      "featstore-engine's tasks reach AWS APIs over HTTPS only (no way to MLflow); training's also reach MLflow inside the VPC",
    check: (rs, ctx) => {
      const engine = targetGroupsOf(rs, family(ctx, "featstoreEngine"));
      const training = targetGroupsOf(rs, family(ctx, "training"));
      const egress = (sgs: RecordedResource[]) => sgs.flatMap((sg) => asArray(sg.inputs.egress));
      return problems([
        [engine.length > 0, "featstore-engine's targets carry no security group"],
        [
          egress(engine).every((e) => e.fromPort === 443 && e.toPort === 443),
          "featstore-engine's tasks may reach more than HTTPS (MLflow is training's only)",
        ],
        [
          egress(training).some(
            (e) => e.fromPort === 80 && asArray(e.cidrBlocks).every((c) => c !== "0.0.0.0/0"),
          ),
          "training's tasks cannot reach MLflow's internal load balancer",
        ],
      ]);
    },
  },
];
