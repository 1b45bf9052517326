import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, type RawConfig } from "./plan/config.js";
import { parseRetention } from "./plan/retention.js";
import { Platform, type PlatformSecrets, SECRET_CONFIG_KEYS } from "./platform.js";

/**
 * The Pulumi program (Pulumi.yaml `main`): reads the stack config, validates it (every problem at
 * once), builds the platform and exports what services, CI and operators need.
 */
const config = new pulumi.Config();
const KEYS = [
  "environment",
  "resourcePrefix",
  "vpcCidr",
  "azCount",
  "egress",
  "logRetentionDays",
  "buildImages",
  "imageTag",
  "domain",
  "hostedZoneId",
  "certificateArn",
  "alarmEmail",
  "deletionProtection",
  "wafRatePerFiveMinutes",
] as const;
const OBJECT_KEYS = [
  "api",
  "mlflow",
  "featstoreEngine",
  "training",
  "online",
  "database",
  "imageDigests",
] as const;

const raw: RawConfig = {
  ...Object.fromEntries(KEYS.map((k) => [k, config.get(k)])),
  ...Object.fromEntries(OBJECT_KEYS.map((k) => [k, config.getObject(k)])),
  region: new pulumi.Config("aws").get("region"),
};
const cfg = parseConfig(raw, pulumi.getStack());
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Secret values (`pulumi config set --secret <key>`): stored encrypted in the stack, never plain.
const secrets = Object.fromEntries(
  Object.entries(SECRET_CONFIG_KEYS).map(([field, key]) => [field, config.requireSecret(key)]),
) as unknown as PlatformSecrets;
// Retention per store (docs/privacy.md): stack config `retention`, over plan/retention.ts's defaults.
const retention = parseRetention(config.getObject("retention"));
const platform = new Platform("gplay", cfg, { repoRoot, secrets, retention });
const out = platform.outputs;

export const environment = cfg.environment;
export const resourcePrefix = out.resourcePrefix;
export const apiUrl = out.apiUrl;
export const healthUrl = pulumi.interpolate`${out.apiUrl}/healthz`;
export const mlflowTrackingUri = out.mlflowTrackingUri;
export const mlflowCaCertificatePem = out.mlflowCaCertificatePem;
export const clusterName = out.clusterName;
export const apiServiceName = out.services.api;
export const mlflowServiceName = out.services.mlflow;
export const rawBucket = out.buckets.raw;
export const processedBucket = out.buckets.processed;
export const modelsBucket = out.buckets.models;
export const tables = out.tables;
export const repositoryUrls = out.repositoryUrls;
export const taskDefinitions = out.taskDefinitions;
export const privateSubnetIds = out.privateSubnetIds;
export const batchSecurityGroupId = out.batchSecurityGroupId;
export const trainingSecurityGroupId = out.trainingSecurityGroupId;
export const mlflowClientSecurityGroupId = out.mlflowClientSecurityGroupId;
export const dlqUrl = out.dlqUrl;
export const alarmTopicArn = out.alarmTopicArn;
export const dashboardName = out.dashboardName;
