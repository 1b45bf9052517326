import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { finalSnapshotName } from "../plan/operations.js";

export interface MlflowDatabaseArgs {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  keyArn: pulumi.Input<string>;
  instanceClass: string;
  allocatedStorageGb: number;
  multiAz: boolean;
  backupRetentionDays: number;
  deletionProtection: boolean;
}

export const MLFLOW_DB = { name: "mlflow", username: "mlflow", port: 5432 } as const;

/** Storage grows by itself up to this many times the allocated size (RDS storage autoscaling). */
export const STORAGE_AUTOSCALING_FACTOR = 5;

/**
 * MLflow's backend store: PostgreSQL on RDS, encrypted with the platform key, private subnets only,
 * reachable only from tasks carrying `clientSecurityGroup`. RDS generates the master password and
 * keeps it in Secrets Manager, so it never enters Pulumi state or config.
 */
export class MlflowDatabase extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  /** Attach to a task to let it reach the database. */
  readonly clientSecurityGroup: aws.ec2.SecurityGroup;
  readonly masterSecretArn: pulumi.Output<string>;

  constructor(name: string, args: MlflowDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gplay:mlflow:MlflowDatabase", name, {}, opts);
    const parent = { parent: this };

    // Marker group for the database's clients; it only needs egress to the database port.
    this.clientSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-clients`,
      { vpcId: args.vpcId, description: "Clients of the MLflow database", tags: { Name: `${name}-clients` } },
      parent,
    );
    // The database accepts PostgreSQL from its clients only.
    const dbSg = new aws.ec2.SecurityGroup(
      `${name}-db`,
      {
        vpcId: args.vpcId,
        description: "MLflow PostgreSQL",
        ingress: [
          {
            protocol: "tcp",
            fromPort: MLFLOW_DB.port,
            toPort: MLFLOW_DB.port,
            securityGroups: [this.clientSecurityGroup.id],
            description: "MLflow tasks",
          },
        ],
        egress: [],
        tags: { Name: `${name}-db` },
      },
      parent,
    );
    // Client egress to the database only.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-clients-to-db`,
      {
        securityGroupId: this.clientSecurityGroup.id,
        ipProtocol: "tcp",
        fromPort: MLFLOW_DB.port,
        toPort: MLFLOW_DB.port,
        referencedSecurityGroupId: dbSg.id,
        description: "PostgreSQL",
      },
      parent,
    );
    // Private subnets only.
    const subnets = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds }, parent);

    // The PostgreSQL instance.
    this.instance = new aws.rds.Instance(
      `${name}-postgres`,
      {
        engine: "postgres",
        engineVersion: "16",
        instanceClass: args.instanceClass,
        allocatedStorage: args.allocatedStorageGb,
        maxAllocatedStorage: args.allocatedStorageGb * STORAGE_AUTOSCALING_FACTOR,
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.keyArn,
        dbName: MLFLOW_DB.name,
        username: MLFLOW_DB.username,
        port: MLFLOW_DB.port,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.keyArn,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [dbSg.id],
        publiclyAccessible: false,
        multiAz: args.multiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.deletionProtection,
        skipFinalSnapshot: !args.deletionProtection,
        ...(args.deletionProtection && {
          finalSnapshotIdentifier: finalSnapshotName(`${name}-final`, new Date()),
        }),
        // Query-level load, kept 7 days (the free tier), encrypted with the platform key.
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.keyArn,
        performanceInsightsRetentionPeriod: 7,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        applyImmediately: false,
      },
      { ...parent, ignoreChanges: ["finalSnapshotIdentifier"] },
    );
    this.masterSecretArn = this.instance.masterUserSecrets.apply((s) => {
      const arn = s[0]?.secretArn;
      if (arn === undefined) throw new Error("RDS did not report its managed master secret");
      return arn;
    });
    this.registerOutputs({ address: this.instance.address, masterSecretArn: this.masterSecretArn });
  }
}
