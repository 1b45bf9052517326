import { TABLES, type TableName, type TableNames } from "@gplay/common";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_RETENTION } from "../plan/retention.js";

export interface FeatureTablesArgs {
  names: TableNames;
  keyArn: pulumi.Input<string>;
  deletionProtection: boolean;
  /** Point-in-time recovery window in days (erasure's backup bound, plan/retention.ts). */
  pitrDays?: number;
}

/**
 * The online feature store: common's TABLES, on demand, with point-in-time recovery, KMS
 * encryption and the TTL attribute; deletion protection in prod.
 */
export class FeatureTables extends pulumi.ComponentResource {
  readonly arns: Record<TableName, pulumi.Output<string>>;

  constructor(name: string, args: FeatureTablesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:tables:FeatureTables", name, {}, opts);
    const arns = (Object.keys(TABLES) as TableName[]).map((key) => {
      const def = TABLES[key];
      // One feature-store table.
      const table = new aws.dynamodb.Table(
        `${name}-${def.suffix}`,
        {
          name: args.names[key],
          billingMode: "PAY_PER_REQUEST",
          hashKey: def.partitionKey.name,
          attributes: [{ name: def.partitionKey.name, type: def.partitionKey.type }],
          ttl: { attributeName: def.ttlAttribute, enabled: true },
          // Backups of erased readers' items age out with this window (docs/privacy.md).
          pointInTimeRecovery: {
            enabled: true,
            recoveryPeriodInDays: args.pitrDays ?? DEFAULT_RETENTION.pitrDays,
          },
          serverSideEncryption: { enabled: true, kmsKeyArn: args.keyArn },
          deletionProtectionEnabled: args.deletionProtection,
          tags: { Table: key },
        },
        { parent: this },
      );
      return [key, table.arn] as const;
    });
    this.arns = Object.fromEntries(arns) as Record<TableName, pulumi.Output<string>>;
    this.registerOutputs({ arns: this.arns });
  }
}
