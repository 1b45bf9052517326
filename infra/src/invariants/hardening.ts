import { lakeBucketNames } from "@gplay/common";
import { auditBucketName } from "../plan/audit.js";
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
    id: "audit-logs",
    description:
      "a CloudTrail trail with management events and log file validation writes to the private, TLS-only audit bucket; in prod it also records the lake buckets' S3 data events, VPC flow logs record all traffic, and the public ALB writes access logs",
    check: (rs, ctx) => {
      const audit = auditBucketName(ctx.prefix);
      const bucket = ofType(rs, T.bucket).find((b) => b.inputs.bucket === audit);
      const trails = ofType(rs, T.trail).filter(
        (t) => t.inputs.s3BucketName === audit && t.inputs.enableLogFileValidation === true,
      );
      const selectors = trails.flatMap((t) => asArray(t.inputs.eventSelectors));
      const lake = Object.values(lakeBucketNames(ctx.prefix));
      const dataEvents = selectors
        .flatMap((sel) => asArray(sel.dataResources))
        .filter((d) => d.type === "AWS::S3::Object")
        .flatMap((d) => asArray<string>(d.values));
      const vpcIds = ofType(rs, T.vpc).map((v) => v.id);
      const flowLogs = ofType(rs, T.flowLog).filter(
        (f) => vpcIds.includes(f.inputs.vpcId) && f.inputs.trafficType === "ALL",
      );
      const publicAlbs = ofType(rs, T.loadBalancer).filter((lb) => lb.inputs.internal === false);
      const prod = ctx.environment === "prod";
      return problems([
        [bucket !== undefined, `no audit bucket ${audit}`],
        [
          ofType(rs, T.pab).some(
            (p) => p.name.startsWith(bucket?.name ?? "\0") && p.inputs.restrictPublicBuckets === true,
          ),
          "the audit bucket does not block public access",
        ],
        [
          ofType(rs, T.bucketPolicy).some(
            (p) =>
              p.name.startsWith(bucket?.name ?? "\0") &&
              statements(p.inputs.policy).some(
                (st) => st.Effect === "Deny" && st.Condition?.Bool?.["aws:SecureTransport"] === "false",
              ),
          ),
          "the audit bucket accepts requests without TLS",
        ],
        [
          selectors.some((sel) => sel.includeManagementEvents === true),
          "no trail with management events writes to the audit bucket",
        ],
        [
          !prod || lake.every((b) => dataEvents.includes(`arn:aws:s3:::${b}/`)),
          "prod's trail does not record the lake buckets' S3 data events",
        ],
        [!prod || flowLogs.length > 0, "prod's VPC has no flow log of all traffic"],
        [
          !prod ||
            (publicAlbs.length > 0 &&
              publicAlbs.every(
                (lb) => lb.inputs.accessLogs?.enabled === true && lb.inputs.accessLogs?.bucket === audit,
              )),
          "prod's public ALB writes no access logs to the audit bucket",
        ],
      ]);
    },
  },
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
      "featstore-engine's tasks reach AWS APIs over HTTPS only and carry no group MLflow's load balancer accepts; training's carry one",
    check: (rs, ctx) => {
      const engine = targetGroupsOf(rs, family(ctx, "featstoreEngine"));
      const training = targetGroupsOf(rs, family(ctx, "training"));
      const egress = (sgs: RecordedResource[]) => sgs.flatMap((sg) => asArray(sg.inputs.egress));
      // Sources MLflow's internal load balancer accepts (its group is named `…-mlflow-lb`).
      const mlflowSources = new Set(
        ofType(rs, T.securityGroup)
          .filter((sg) => sg.name.endsWith("-mlflow-lb"))
          .flatMap((sg) => asArray(sg.inputs.ingress).flatMap((i) => asArray<string>(i.securityGroups))),
      );
      const accepted = (sgs: RecordedResource[]) => sgs.some((sg) => mlflowSources.has(sg.id ?? sg.name));
      return problems([
        [engine.length > 0, "featstore-engine's targets carry no security group"],
        [
          egress(engine).every((e) => e.fromPort === 443 && e.toPort === 443),
          "featstore-engine's tasks may reach more than HTTPS",
        ],
        [
          !accepted(engine),
          "featstore-engine's tasks carry a group MLflow's load balancer accepts (MLflow is training's only)",
        ],
        [accepted(training), "training's tasks carry no group MLflow's load balancer accepts"],
      ]);
    },
  },
];
