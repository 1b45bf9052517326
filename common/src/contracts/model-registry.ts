/**
 * The registry names every service agrees on: training registers and promotes `DEFAULT_MODEL_NAME`
 * under `CHAMPION_ALIAS` in experiment `DEFAULT_EXPERIMENT_NAME`, the api loads
 * `models:/DEFAULT_MODEL_NAME@CHAMPION_ALIAS`, infra sets `GPLAY_MODEL_NAME` to the same name. Started
 * with their defaults, a training task and an api meet on the same model.
 */
export const DEFAULT_MODEL_NAME = "gplay-recommender";
export const DEFAULT_EXPERIMENT_NAME = "gplay-recommender";
/** The alias that marks the version in production (promotion sets it; rollback moves it). */
export const CHAMPION_ALIAS = "champion";
/**
 * The alias of the version on trial online (issue #19): the api serves it to a share of readers (or
 * in shadow); with the online loop on, the training gate sets it and only the decision job moves
 * `champion` (docs/online.md).
 */
export const CHALLENGER_ALIAS = "challenger";
