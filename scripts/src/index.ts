/**
 * @gplay/scripts: the local stack (moto + MLflow), the local twin of an infra environment and the
 * local task runner. Tests and the demo code against these; see scripts/src/local-stack/.
 */
export type { StackPaths } from "./local-stack/paths.js";
export { stackPaths } from "./local-stack/paths.js";
export {
  destroyEnvironment,
  environmentNames,
  type ProvisionedEnvironment,
  provisionEnvironment,
  type QueueRef,
} from "./local-stack/provision.js";
export {
  acquireLease,
  ensureLocalStack,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_STACK_PREFIX,
  type LocalStackEndpoints,
  liveLeases,
  readLocalStack,
  readStackState,
  releaseLease,
  type StackState,
  stackEnvironment,
  stackHealth,
  stopLocalStack,
} from "./local-stack/stack.js";
export {
  LocalTaskRunner,
  type LocalTaskRunnerOptions,
  TASK_KINDS,
  type TaskKind,
  type TaskOutcome,
  type TaskResult,
} from "./local-stack/task-runner.js";
export {
  destroyTestEnvironment,
  type LocalTestEnvironment,
  localAwsClients,
  provisionTestEnvironment,
  uniquePrefix,
} from "./local-stack/test-support.js";
export { deployBundle, type EntrypointRun, runDeployedEntrypoint } from "./testing/deployed-bundle.js";
