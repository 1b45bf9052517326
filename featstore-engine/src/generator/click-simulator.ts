/**
 * The click simulator of the online loop (issue #19, docs/online.md): readers of a generated world
 * click the lists an api serves them according to that world's hidden preferences — never via a
 * model — so a version that ranks what readers favour earns more clicks. Pure and seeded.
 *
 * A reader examines position i (0-based) with probability (1 + i)^−positionDecay and clicks an
 * examined article with probability `base`, or `base + favouredLift × affinity` when the article is
 * in its region or sections (its hidden preferences, `HiddenReader`).
 */
import type { HiddenReader } from "./worlds.js";

export interface ClickModel {
  /** Click probability of an examined article the reader does not favour. */
  base: number;
  /** Added, times the reader's affinity, for an article it favours. */
  favouredLift: number;
  /** How fast attention falls with the position. */
  positionDecay: number;
}

export const DEFAULT_CLICK_MODEL: ClickModel = { base: 0.01, favouredLift: 0.25, positionDecay: 0.8 };

/** The probability that `reader` clicks `page` shown at `position` (0-based). */
export function clickProbability(
  reader: HiddenReader,
  page: string,
  position: number,
  model: ClickModel = DEFAULT_CLICK_MODEL,
): number {
  const examined = (1 + position) ** -model.positionDecay;
  const appeal = reader.favours(page) ? model.base + model.favouredLift * reader.affinity : model.base;
  return Math.min(1, examined * appeal);
}

/** The pages `reader` clicks in a shown list (each decided on its own, in list order). */
export function simulateClicks(
  reader: HiddenReader,
  pages: readonly string[],
  random: () => number,
  model: ClickModel = DEFAULT_CLICK_MODEL,
): string[] {
  return pages.filter((page, position) => random() < clickProbability(reader, page, position, model));
}

/** The true probability that `reader` clicks at least once on `pages` (the list's CTR for it). */
export function listClickProbability(
  reader: HiddenReader,
  pages: readonly string[],
  model: ClickModel = DEFAULT_CLICK_MODEL,
): number {
  return (
    1 -
    pages.reduce((none, page, position) => none * (1 - clickProbability(reader, page, position, model)), 1)
  );
}

/** The true expected clicks of `reader` on `pages`. */
export function expectedClicks(
  reader: HiddenReader,
  pages: readonly string[],
  model: ClickModel = DEFAULT_CLICK_MODEL,
): number {
  return pages.reduce((sum, page, position) => sum + clickProbability(reader, page, position, model), 0);
}
