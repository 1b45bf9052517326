export { readBundle } from "./adapters/bundle-dir.js";
export { type JobDeps, runTrainingJob } from "./app/run-job.js";
export {
  CHAMPION_ALIAS,
  DEFAULT_TRAIN_CONFIG,
  rollback,
  type TrainConfig,
  trainAndEvaluate,
} from "./app/train.js";
