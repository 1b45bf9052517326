import {
  CONTAINER_NAMES,
  type LakeBuckets,
  lakeBucketNames,
  type TableNames,
  tableNames,
} from "@gplay/common";

/** The four container workloads; each has an ECR repository, a log group, roles and a task definition. */
export const WORKLOADS = ["featstoreEngine", "training", "api", "mlflow"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Sibling workspace (and Dockerfile folder) of each workload. */
export const WORKSPACE_OF: Record<Workload, string> = {
  featstoreEngine: "featstore-engine",
  training: "training",
  api: "api",
  mlflow: "mlflow",
};

export interface ResourceNames {
  prefix: string;
  buckets: LakeBuckets;
  tables: TableNames;
  cluster: string;
  repository: Record<Workload, string>;
  logGroup: Record<Workload, string>;
  family: Record<Workload, string>;
  container: Record<Workload, string>;
  dlq: string;
  dashboard: string;
  /** Secrets Manager secret names (one per secret value; see Platform). */
  secret: {
    apiKeys: string;
    mlflowAdminPassword: string;
    mlflowFlaskSecretKey: string;
    mlflowServicePassword: string;
    mlflowDbPassword: string;
  };
}

/** Every physical name, derived from the one prefix (common's naming contract). Pure. */
export function resourceNames(prefix: string): ResourceNames {
  const per = (f: (w: Workload) => string) =>
    Object.fromEntries(WORKLOADS.map((w) => [w, f(w)])) as Record<Workload, string>;
  return {
    prefix,
    buckets: lakeBucketNames(prefix),
    tables: tableNames(prefix),
    cluster: prefix,
    repository: per((w) => `${prefix}/${WORKSPACE_OF[w]}`),
    logGroup: per((w) => `/gplay/${prefix}/${WORKSPACE_OF[w]}`),
    family: per((w) => `${prefix}-${WORKSPACE_OF[w]}`),
    container: per((w) => CONTAINER_NAMES[w]),
    dlq: `${prefix}-events-dlq`,
    dashboard: prefix,
    secret: {
      apiKeys: `${prefix}/api/api-keys`,
      mlflowAdminPassword: `${prefix}/mlflow/admin-password`,
      mlflowFlaskSecretKey: `${prefix}/mlflow/flask-secret-key`,
      mlflowServicePassword: `${prefix}/mlflow/service-password`,
      mlflowDbPassword: `${prefix}/mlflow/db-password`,
    },
  };
}
