import type { Workload } from "./names.js";

/**
 * The AWS services each task calls, as VPC endpoint service names (`com.amazonaws.<region>.<name>`).
 * One list: the interface endpoints of "endpoints" egress are derived from it, the invariant
 * `vpc-endpoints-egress` expects exactly those, and `task-aws-services` checks that every service a
 * task role may call is listed here (so a new SDK call cannot leave the VPC unnoticed). Pure.
 */
export const AWS_SERVICES_CALLED = {
  /** The ECS agent for every task: image pulls (layers come from S3), logs, ECS secrets. */
  agent: ["ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager"],
  /** raw/ and processed/ objects, the four tables, and the "Snapshot Ready" event. */
  featstoreEngine: ["s3", "dynamodb", "events"],
  /** processed/ snapshots and the tables (the model goes to MLflow inside the VPC). */
  training: ["s3", "dynamodb"],
  /** The tables and the click files under raw/api-events/. */
  api: ["s3", "dynamodb"],
  /** Artifacts in the models bucket; ECS Exec's SSM channels and its session log. */
  mlflow: ["s3", "ssmmessages", "logs"],
} as const satisfies Record<Workload | "agent", readonly string[]>;

/**
 * Action prefixes a task role holds without calling that service itself: KMS is used by S3,
 * DynamoDB and Secrets Manager on the task's behalf (SSE-KMS), never by the SDK in the task.
 */
export const CALLED_ON_THE_TASKS_BEHALF: readonly string[] = ["kms"];

/** Gateway endpoints, always present: free, and keep lake and table traffic off the NAT. */
export const GATEWAY_ENDPOINT_SERVICES = ["s3", "dynamodb"] as const;

/** The endpoint service an IAM action prefix is reached at (`ecr:` actions go to `ecr.api`). */
export function endpointServiceOfAction(action: string): string {
  const prefix = action.split(":")[0] ?? action;
  return prefix === "ecr" ? "ecr.api" : prefix;
}

/**
 * The interface endpoints tasks need without a NAT: every service of AWS_SERVICES_CALLED that is not
 * a gateway endpoint, sorted, once each.
 */
export function interfaceEndpointServices(
  called: Record<string, readonly string[]> = AWS_SERVICES_CALLED,
): string[] {
  const gateway: readonly string[] = GATEWAY_ENDPOINT_SERVICES;
  return [...new Set(Object.values(called).flat())].filter((s) => !gateway.includes(s)).sort();
}
