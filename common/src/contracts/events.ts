import { z } from "zod";
import { RAW_PREFIX } from "./lake.js";

/**
 * EventBridge contracts: the raw/ "Object Created" pattern, the input transformer that turns the
 * event into ECS container overrides, and the "Snapshot Ready" event that starts training.
 * Infra declares exactly these; the local task runner applies exactly these.
 */

/** Container-override variables that carry the source object into the featstore-engine task. */
export const SOURCE_OVERRIDE_VARS = {
  bucket: "GPLAY_SOURCE_BUCKET",
  key: "GPLAY_SOURCE_KEY",
  etag: "GPLAY_SOURCE_ETAG",
  eventId: "GPLAY_EVENT_ID",
  eventTime: "GPLAY_EVENT_TIME",
} as const;

/** Container-override variables that carry the snapshot into the training task. */
export const SNAPSHOT_OVERRIDE_VARS = {
  bucket: "GPLAY_SNAPSHOT_BUCKET",
  manifestKey: "GPLAY_SNAPSHOT_MANIFEST_KEY",
  snapshotId: "GPLAY_SNAPSHOT_ID",
  eventId: "GPLAY_EVENT_ID",
} as const;

/** Container names in the task definitions (the overrides address them). */
export const CONTAINER_NAMES = {
  featstoreEngine: "featstore-engine",
  training: "training",
  api: "api",
  mlflow: "mlflow",
} as const;

export type EventPattern = Record<string, unknown>;

/**
 * Matches objects created under `raw/` in this raw bucket only: objects under `processed/` and
 * other buckets' events (parallel tests, other environments) never match.
 */
export function rawObjectCreatedPattern(rawBucket: string): EventPattern {
  return {
    source: ["aws.s3"],
    "detail-type": ["Object Created"],
    detail: {
      bucket: { name: [rawBucket] },
      object: { key: [{ prefix: RAW_PREFIX }] },
    },
  };
}

export interface InputTransformer {
  inputPathsMap: Record<string, string>;
  inputTemplate: string;
}

function overridesTemplate(
  container: string,
  vars: Record<string, string>,
  placeholders: Record<string, string>,
) {
  const environment = Object.entries(vars)
    .map(([field, name]) => `{"name":"${name}","value":<${placeholders[field] ?? field}>}`)
    .join(",");
  return `{"containerOverrides":[{"name":"${container}","environment":[${environment}]}]}`;
}

/** The input transformer of the raw rule's ECS target: event → container overrides. */
export const rawObjectInputTransformer: InputTransformer = {
  inputPathsMap: {
    bucket: "$.detail.bucket.name",
    key: "$.detail.object.key",
    etag: "$.detail.object.etag",
    eventId: "$.id",
    eventTime: "$.time",
  },
  inputTemplate: overridesTemplate(CONTAINER_NAMES.featstoreEngine, SOURCE_OVERRIDE_VARS, {}),
};

/** EventBridge "Object Created" event, as S3 sends it (the fields we read). */
export const s3ObjectCreatedEventSchema = z.object({
  id: z.string(),
  "detail-type": z.literal("Object Created"),
  source: z.literal("aws.s3"),
  time: z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), etag: z.string().optional(), size: z.number().optional() }),
  }),
});
export type S3ObjectCreatedEvent = z.infer<typeof s3ObjectCreatedEventSchema>;

/** Published by the featstore-engine's snapshot step. */
export const SNAPSHOT_READY = {
  source: "gplay.featstore",
  detailType: "Snapshot Ready",
} as const;

export const snapshotReadyDetailSchema = z.object({
  snapshotId: z.string().min(1),
  bucket: z.string().min(1),
  manifestKey: z.string().min(1),
  asOf: z.number().int().nonnegative(),
  partitions: z.number().int().nonnegative(),
  interactions: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
});
export type SnapshotReadyDetail = z.infer<typeof snapshotReadyDetailSchema>;

/** Matches "Snapshot Ready" events of this environment's processed bucket. */
export function snapshotReadyPattern(processedBucket: string): EventPattern {
  return {
    source: [SNAPSHOT_READY.source],
    "detail-type": [SNAPSHOT_READY.detailType],
    detail: { bucket: [processedBucket] },
  };
}

/** The input transformer of the training rule's ECS target. */
export const snapshotReadyInputTransformer: InputTransformer = {
  inputPathsMap: {
    bucket: "$.detail.bucket",
    manifestKey: "$.detail.manifestKey",
    snapshotId: "$.detail.snapshotId",
    eventId: "$.id",
  },
  inputTemplate: overridesTemplate(CONTAINER_NAMES.training, SNAPSHOT_OVERRIDE_VARS, {}),
};

/** What `RunTask` receives as `overrides` after the transformer ran. */
export const containerOverridesSchema = z.object({
  containerOverrides: z
    .array(
      z.object({
        name: z.string(),
        environment: z.array(z.object({ name: z.string(), value: z.string() })),
      }),
    )
    .min(1),
});
export type ContainerOverrides = z.infer<typeof containerOverridesSchema>;

/** Reads a JSON path of the simple form EventBridge input paths use (`$.a.b.c`). */
export function readJsonPath(event: unknown, path: string): unknown {
  if (path === "$") return event;
  if (!path.startsWith("$.")) throw new RangeError(`unsupported input path: ${path}`);
  let node: unknown = event;
  for (const part of path.slice(2).split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * Applies an input transformer the way EventBridge does for a JSON template: each `<name>` is
 * replaced by the JSON value at its path (a string becomes a quoted, escaped JSON string; a missing
 * path becomes `null`). Used by the local task runner in place of EventBridge's own.
 */
export function applyInputTransformer(transformer: InputTransformer, event: unknown): string {
  return transformer.inputTemplate.replace(/<([A-Za-z0-9_.-]+)>/g, (whole, name: string) => {
    const path = transformer.inputPathsMap[name];
    if (path === undefined) return whole;
    const value = readJsonPath(event, path);
    return value === undefined ? "null" : JSON.stringify(value);
  });
}

/** Turns the transformed input into the environment a task's container receives. */
export function overridesToEnvironment(
  overrides: ContainerOverrides,
  container: string,
): Record<string, string> {
  const entry = overrides.containerOverrides.find((c) => c.name === container);
  if (entry === undefined) throw new RangeError(`no container override for ${container}`);
  return Object.fromEntries(entry.environment.map((e) => [e.name, e.value]));
}
