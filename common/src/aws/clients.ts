import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { z } from "zod";
import { envFields } from "../config/env.js";
import { PooledHttpHandler } from "./pooled-http-handler.js";

/** The AWS part of every service's env schema: production and local runs share it. */
export const awsEnvSchema = z.object({
  AWS_REGION: z.string().min(1).default("us-east-1"),
  /** Set only for local runs (the emulator); unset in AWS. */
  GPLAY_AWS_ENDPOINT: envFields.url().optional(),
  GPLAY_AWS_REQUEST_TIMEOUT_MS: envFields.int(100, 900_000).default(30_000),
  GPLAY_AWS_MAX_ATTEMPTS: envFields.int(1, 10).default(4),
});
export type AwsEnv = z.infer<typeof awsEnvSchema>;

export interface AwsClientOptions {
  region: string;
  /** Endpoint override (the local emulator). Undefined in AWS. */
  endpoint?: string | undefined;
  /** Whole request deadline; breaching it fails the call (not just a warning). */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Total attempts including the first, with the SDK's standard backoff and jitter. */
  maxAttempts?: number;
  /** Static credentials (local runs); in AWS the default provider chain (task role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * How the document client marshals items; callers of the low-level client marshal with the same
 * options. Frozen, and the document client gets a copy: lib-dynamodb writes
 * `convertTopLevelContainer: true` into the options it is given, which would make every later
 * `marshall(item, options)` wrap the item in `{ M: ... }`.
 */
export const DOCUMENT_MARSHALL_OPTIONS = Object.freeze({
  removeUndefinedValues: true,
  convertClassInstanceToMap: false,
} as const);

export interface AwsClients {
  s3: S3Client;
  /**
   * The low-level client, its middleware resolved once per command type (`cacheMiddleware`): the
   * path for hot loops with items marshalled by the caller (the engine's conditional writes).
   */
  dynamodb: DynamoDBClient;
  /** Document client (plain JS values in and out) over a DynamoDB client of its own (lib-dynamodb refuses `cacheMiddleware`). */
  documents: DynamoDBDocumentClient;
  eventbridge: EventBridgeClient;
  sqs: SQSClient;
  cloudwatch: CloudWatchClient;
  destroy(): void;
}

/** Maps the validated env fragment to client options, so mains need not repeat it. */
export function awsClientOptionsFromEnv(env: AwsEnv): AwsClientOptions {
  const local = env.GPLAY_AWS_ENDPOINT !== undefined;
  return {
    region: env.AWS_REGION,
    endpoint: env.GPLAY_AWS_ENDPOINT,
    requestTimeoutMs: env.GPLAY_AWS_REQUEST_TIMEOUT_MS,
    maxAttempts: env.GPLAY_AWS_MAX_ATTEMPTS,
    // The emulator accepts any key; real AWS uses the provider chain.
    ...(local ? { credentials: { accessKeyId: "testing", secretAccessKey: "testing" } } : {}),
  };
}

/**
 * Builds every AWS client the platform uses with one configuration: region, optional endpoint,
 * real request timeouts and bounded retries. Nothing is created at import time. DynamoDB's clients
 * send through undici's pools (pooled-http-handler.ts: a third less CPU per request, small JSON
 * bodies only); S3 and the others through NodeHttpHandler (streamed bodies).
 */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  const timeouts = {
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
  };
  const requestHandler = new NodeHttpHandler({
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs,
    throwOnRequestTimeout: true,
  });
  const common = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const dynamoHandler = new PooledHttpHandler(timeouts);
  const s3 = new S3Client({ ...common, forcePathStyle: options.endpoint !== undefined });
  const dynamodb = new DynamoDBClient({ ...common, requestHandler: dynamoHandler, cacheMiddleware: true });
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...common, requestHandler: dynamoHandler }),
    { marshallOptions: { ...DOCUMENT_MARSHALL_OPTIONS } },
  );
  const eventbridge = new EventBridgeClient(common);
  const sqs = new SQSClient(common);
  const cloudwatch = new CloudWatchClient(common);
  return {
    s3,
    dynamodb,
    documents,
    eventbridge,
    sqs,
    cloudwatch,
    destroy() {
      for (const client of [s3, dynamodb, documents, eventbridge, sqs, cloudwatch]) client.destroy();
    },
  };
}
