/**
 * The time-based split. With `asOf` the newest interaction:
 *   test window       [testCut, asOf]           evaluation (features from data before testCut)
 *   validation window [validCut, testCut)       baseline tuning and the ranker's training labels
 *                                               (features from data before validCut)
 * Nothing at or after a window's start feeds that window's features.
 *
 * Each window spans the serving horizon: a bundle answers from its snapshot's state until the next
 * one, and the G1 kit's `validacao` holds the 2 days after the training period, so what is tuned,
 * trained and gated on is "reads over the 48 h after the state", not only the next day (a strategy
 * that wins the next hours, e.g. the last hour's popularity, can lose over two days to one that follows
 * the reader). On a short snapshot both windows shrink in proportion so that they take at most half
 * of it, leaving the other half to feed features.
 */
import { mulberry32 } from "@gplay/common";
import { HOUR_MS, type TrainingData } from "./data.js";

export interface SplitOptions {
  testHours: number;
  validationHours: number;
}

export const DEFAULT_SPLIT: SplitOptions = { testHours: 48, validationHours: 48 };

export interface TimeSplit {
  validCut: number;
  testCut: number;
  end: number;
  /** The windows' spans after shrinking to the snapshot. */
  testHours: number;
  validationHours: number;
}

/** The split of a snapshot whose interactions run from `first` to `asOf` (no `first`: no shrinking). */
export function timeSplit(asOf: number, options: SplitOptions = DEFAULT_SPLIT, first?: number): TimeSplit {
  const spanHours = first === undefined ? Number.POSITIVE_INFINITY : (asOf - first) / HOUR_MS;
  const shrink = Math.min(1, spanHours / 2 / (options.testHours + options.validationHours));
  const testHours = options.testHours * shrink;
  const validationHours = options.validationHours * shrink;
  const testCut = asOf - testHours * HOUR_MS;
  return { validCut: testCut - validationHours * HOUR_MS, testCut, end: asOf, testHours, validationHours };
}

/** One reader's ground truth in a window: the distinct pages read in [from, to]. */
export interface EvalCase {
  userId: string;
  targets: Set<string>;
  /** True when the reader had no interaction before `from`. */
  cold: boolean;
}

/**
 * Ground truth of a window: per reader, the distinct pages first read in `[from, to]` — a page the
 * reader read before `from` is no target, since the platform never recommends a read article again
 * (a re-read would reward only a method that breaks that contract). Readers are sampled (seeded) down
 * to `maxReaders` to bound evaluation time.
 */
export function windowCases(
  data: Pick<TrainingData, "readers">,
  from: number,
  to: number,
  maxReaders: number,
  seed: number,
): EvalCase[] {
  const cases: EvalCase[] = [];
  for (const reader of data.readers.values()) {
    const targets = new Set<string>();
    const read = new Set<string>();
    for (const i of reader.log) {
      if (i.timestamp < from) read.add(i.page);
      else if (i.timestamp <= to && !read.has(i.page)) targets.add(i.page);
    }
    if (targets.size > 0) cases.push({ userId: reader.userId, targets, cold: read.size === 0 });
  }
  cases.sort((a, b) => (a.userId < b.userId ? -1 : 1));
  return sample(cases, maxReaders, seed);
}

/**
 * The `validacao` accesses as cases (features from everything in the training period); as in
 * `windowCases`, only pages the reader had not read in the training period are targets.
 */
export function validationCases(data: TrainingData, maxReaders: number, seed: number): EvalCase[] {
  const cases: EvalCase[] = [];
  for (const [userId, accesses] of data.validation) {
    const reader = data.readers.get(userId);
    const read = new Set(reader?.log.map((i) => i.page));
    const targets = new Set(accesses.map((a) => a.page).filter((page) => !read.has(page)));
    if (targets.size === 0) continue;
    cases.push({ userId, targets, cold: reader === undefined || reader.log.length === 0 });
  }
  cases.sort((a, b) => (a.userId < b.userId ? -1 : 1));
  return sample(cases, maxReaders, seed);
}

/** Seeded sample without replacement, order kept. */
export function sample<T>(items: readonly T[], max: number, seed: number): T[] {
  if (items.length <= max) return [...items];
  const rng = mulberry32(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}
