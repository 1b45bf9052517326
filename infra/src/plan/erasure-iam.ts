import { MLFLOW_ARTIFACTS_PREFIX, PROCESSED_PREFIX, RAW_PREFIX } from "@gplay/common";
import { bucketArn, type Statement, type TaskPolicyContext } from "./iam.js";

/**
 * What erasure (docs/privacy.md) adds to the task roles, as data. The engine's `erase` rewrites raw
 * objects and MLflow's text artifacts and deletes their old versions (so versioning keeps no copy),
 * scans the users and event-ids tables and keeps the ledger; the api's admin route writes the
 * ledger, deletes the readers' items and event ids, and every flush reads the ledger.
 */
export function engineErasureStatements(ctx: TaskPolicyContext): Statement[] {
  const zones = [
    { sid: "Raw", bucket: ctx.buckets.raw, prefix: RAW_PREFIX },
    { sid: "Processed", bucket: ctx.buckets.processed, prefix: PROCESSED_PREFIX },
    { sid: "Artifacts", bucket: ctx.buckets.models, prefix: MLFLOW_ARTIFACTS_PREFIX },
  ];
  return [
    {
      Sid: "ErasureVersions",
      Effect: "Allow",
      Action: [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
      ],
      Resource: zones.map((z) => `${bucketArn(z.bucket)}/${z.prefix}*`),
    },
    ...zones.map(
      (z): Statement => ({
        Sid: `Erasure${z.sid}List`,
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:ListBucketVersions"],
        Resource: [bucketArn(z.bucket)],
        Condition: { StringLike: { "s3:prefix": [`${z.prefix}*`] } },
      }),
    ),
    {
      Sid: "ErasureLedger",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
      Resource: [ctx.tableArns.erasures],
    },
    {
      Sid: "ErasureReaderTables",
      Effect: "Allow",
      Action: ["dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"],
      Resource: [ctx.tableArns.users, ctx.tableArns.eventIds],
    },
  ];
}

export function apiErasureStatements(ctx: TaskPolicyContext): Statement[] {
  return [
    {
      Sid: "ErasureLedger",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:BatchGetItem"],
      Resource: [ctx.tableArns.erasures],
    },
    // Deletes only: the readers' items and event ids; the event ids are found by a scan.
    {
      Sid: "ErasureReaderTables",
      Effect: "Allow",
      Action: ["dynamodb:BatchWriteItem"],
      Resource: [ctx.tableArns.users, ctx.tableArns.eventIds],
    },
    {
      Sid: "ErasureEventIdsScan",
      Effect: "Allow",
      Action: ["dynamodb:Scan"],
      Resource: [ctx.tableArns.eventIds],
    },
  ];
}
