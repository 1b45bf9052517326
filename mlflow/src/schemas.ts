/**
 * zod schemas of the MLflow REST responses this client reads. Unknown fields are dropped; fields the
 * server may omit (proto3 leaves defaults out of its JSON) are optional or defaulted.
 */
import { z } from "zod";

/** int64 fields arrive as JSON numbers (or strings from older servers); we use numbers. */
const int64 = z.union([z.number(), z.string().regex(/^-?[0-9]+$/)]).transform((v) => Number(v));
/** Doubles may arrive as "NaN"/"Infinity"/"-Infinity" strings (protobuf's JSON mapping). */
const double = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"])]).transform((v) => Number(v));

export const keyValueSchema = z.object({ key: z.string(), value: z.string().default("") });
export type KeyValueTag = z.infer<typeof keyValueSchema>;

export const experimentSchema = z.object({
  experiment_id: z.string(),
  name: z.string(),
  artifact_location: z.string().optional(),
  lifecycle_stage: z.string().optional(),
  creation_time: int64.optional(),
  last_update_time: int64.optional(),
  tags: z.array(keyValueSchema).default([]),
});
export type Experiment = z.infer<typeof experimentSchema>;

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runInfoSchema = z.object({
  run_id: z.string(),
  run_name: z.string().optional(),
  experiment_id: z.string(),
  user_id: z.string().optional(),
  status: z.enum(RUN_STATUSES),
  start_time: int64.optional(),
  end_time: int64.optional(),
  artifact_uri: z.string(),
  lifecycle_stage: z.string().optional(),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

export const metricSchema = z.object({
  key: z.string(),
  value: double,
  timestamp: int64.default(0),
  step: int64.default(0),
});
export type Metric = z.infer<typeof metricSchema>;

export const datasetSchema = z.object({
  name: z.string(),
  digest: z.string(),
  source_type: z.string(),
  source: z.string(),
  schema: z.string().optional(),
  profile: z.string().optional(),
});
export type Dataset = z.infer<typeof datasetSchema>;

export const datasetInputSchema = z.object({
  tags: z.array(keyValueSchema).default([]),
  dataset: datasetSchema,
});
export type DatasetInput = z.infer<typeof datasetInputSchema>;

export const runSchema = z.object({
  info: runInfoSchema,
  data: z
    .object({
      metrics: z.array(metricSchema).default([]),
      params: z.array(keyValueSchema).default([]),
      tags: z.array(keyValueSchema).default([]),
    })
    .default({ metrics: [], params: [], tags: [] }),
  inputs: z
    .object({ dataset_inputs: z.array(datasetInputSchema).default([]) })
    .default({ dataset_inputs: [] }),
});
export type Run = z.infer<typeof runSchema>;

export const MODEL_VERSION_STATUSES = ["PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY"] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export const modelVersionSchema = z.object({
  name: z.string(),
  version: z.union([z.string(), z.number()]).transform((v) => String(v)),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  current_stage: z.string().default("None"),
  description: z.string().optional(),
  source: z.string().default(""),
  run_id: z.string().optional(),
  status: z.enum(MODEL_VERSION_STATUSES).default("READY"),
  status_message: z.string().optional(),
  tags: z.array(keyValueSchema).default([]),
  aliases: z.array(z.string()).default([]),
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;

export const registeredModelSchema = z.object({
  name: z.string(),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  description: z.string().optional(),
  latest_versions: z.array(modelVersionSchema).default([]),
  tags: z.array(keyValueSchema).default([]),
  aliases: z
    .array(z.object({ alias: z.string(), version: z.union([z.string(), z.number()]).transform(String) }))
    .default([]),
});
export type RegisteredModel = z.infer<typeof registeredModelSchema>;

export const fileInfoSchema = z.object({
  path: z.string(),
  is_dir: z.boolean().default(false),
  file_size: int64.optional(),
});
export type FileInfo = z.infer<typeof fileInfoSchema>;

// Response envelopes.
export const getExperimentResponse = z.object({ experiment: experimentSchema });
export const createExperimentResponse = z.object({ experiment_id: z.string() });
export const runResponse = z.object({ run: runSchema });
export const updateRunResponse = z.object({ run_info: runInfoSchema });
export const metricHistoryResponse = z.object({
  metrics: z.array(metricSchema).default([]),
  next_page_token: z.string().optional(),
});
export const registeredModelResponse = z.object({ registered_model: registeredModelSchema });
export const modelVersionResponse = z.object({ model_version: modelVersionSchema });
export const modelVersionsResponse = z.object({ model_versions: z.array(modelVersionSchema).default([]) });
export const downloadUriResponse = z.object({ artifact_uri: z.string() });
export const listArtifactsResponse = z.object({ files: z.array(fileInfoSchema).default([]) });
export const loggedModelResponse = z.object({
  model: z.object({ info: z.object({ model_id: z.string(), artifact_uri: z.string() }) }),
});
/** Endpoints that answer `{}` on success. */
export const emptyResponse = z.looseObject({});
