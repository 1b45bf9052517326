/**
 * The hidden dynamics of a generated world, drawn per seed from ranges fixed in advance
 * (`docs/quality.md`, "The worlds", mirrors `WORLD_PARAM_RANGES`; a unit test keeps them equal).
 * The ranges are part of the quality protocol (issue #13): they are not narrowed to suit a model.
 */
import { Rng } from "./rng.js";

export type ParamDistribution = "uniform" | "log-uniform" | "zero-or-uniform" | "coin";

/** How one parameter is drawn: `[min, max]` (a coin is 0/1 with probability 0.5 each). */
export interface ParamRange {
  min: number;
  max: number;
  distribution: ParamDistribution;
  /** For `zero-or-uniform`: the probability of exactly 0 (otherwise uniform in (min, max]). */
  zeroProbability?: number;
  /** What the parameter stands for in a news portal. */
  models: string;
}

/** The hidden dynamics of one world (see `WORLD_PARAM_RANGES` for what each models). */
export interface WorldParams {
  halfLifeHours: number;
  qualitySigma: number;
  trendShare: number;
  burstShare: number;
  burstHalfLifeHours: number;
  affinity: number;
  affinitySpread: number;
  regionWeight: number;
  articlesPerHourPer20kReaders: number;
  historyMedian: number;
  historySigma: number;
  oneVisitShare: number;
  meanSessionReads: number;
  sessionCoherence: number;
  storySize: number;
  storyWordShare: number;
  returnShare: number;
  validationOnlyShare: number;
  rereading: boolean;
  rereadShare: number;
}

/** The single source of the ranges; the order is the draw order (do not reorder: seeds would change). */
export const WORLD_PARAM_RANGES = {
  halfLifeHours: {
    min: 1,
    max: 24,
    distribution: "log-uniform",
    models: "half-life of an article's attractiveness (reads ∝ appeal × 2^(−age/half-life))",
  },
  qualitySigma: {
    min: 0.3,
    max: 1.5,
    distribution: "uniform",
    models: "spread of article appeal (log-normal σ, median 1): how much a few hits dominate",
  },
  trendShare: {
    min: 0,
    max: 0.4,
    distribution: "uniform",
    models: "share of free reads that go to a trending (bursting) article",
  },
  burstShare: {
    min: 0.01,
    max: 0.1,
    distribution: "log-uniform",
    models: "share of articles that become breaking news (a burst ~1 h after issue)",
  },
  burstHalfLifeHours: {
    min: 0.5,
    max: 6,
    distribution: "log-uniform",
    models: "half-life of a burst",
  },
  affinity: {
    min: 0,
    max: 1,
    distribution: "zero-or-uniform",
    zeroProbability: 0.25,
    models: "share of a reader's free reads drawn from their own region/sections (0: readers ignore them)",
  },
  affinitySpread: {
    min: 0,
    max: 1,
    distribution: "uniform",
    models: "per-reader variation: a reader's affinity is affinity × (1 ± spread), clamped to [0, 1]",
  },
  regionWeight: {
    min: 0,
    max: 1,
    distribution: "uniform",
    models: "of the affine reads, the share through the reader's region (the rest: preferred sections)",
  },
  articlesPerHourPer20kReaders: {
    min: 5,
    max: 80,
    distribution: "log-uniform",
    models: "catalogue turnover: articles issued per hour, scaled linearly with the number of readers",
  },
  historyMedian: {
    min: 1.5,
    max: 3,
    distribution: "uniform",
    models: "median treino history length of a returning reader (log-normal, at least 2 reads)",
  },
  historySigma: {
    min: 1.4,
    max: 2.3,
    distribution: "uniform",
    models: "log-normal σ of that history length (mean = median × e^(σ²/2); capped at 7,004)",
  },
  oneVisitShare: {
    min: 0.2,
    max: 0.6,
    distribution: "uniform",
    models: "share of treino readers whose whole history is one visit (one session)",
  },
  meanSessionReads: {
    min: 1.3,
    max: 4,
    distribution: "uniform",
    models: "mean reads per session (1 + geometric)",
  },
  sessionCoherence: {
    min: 0.05,
    max: 0.9,
    distribution: "uniform",
    models: "probability that the next read of a session continues the previous read's story",
  },
  storySize: {
    min: 1.5,
    max: 12,
    distribution: "log-uniform",
    models: "mean articles per story (a story: same section, articles ≤ 24 h apart)",
  },
  storyWordShare: {
    min: 0.1,
    max: 0.6,
    distribution: "uniform",
    models: "share of an article's topic words that are its story's own words (content similarity)",
  },
  returnShare: {
    min: 0.1,
    max: 0.3,
    distribution: "uniform",
    models: "share of treino readers with accesses in the 2 validation days",
  },
  validationOnlyShare: {
    min: 0.05,
    max: 0.6,
    distribution: "uniform",
    models: "share of validacao readers with no treino history (new readers)",
  },
  rereading: {
    min: 0,
    max: 1,
    distribution: "coin",
    models: "re-reading on (1) or off (0)",
  },
  rereadShare: {
    min: 0.02,
    max: 0.2,
    distribution: "uniform",
    models: "when re-reading is on: share of reads that repeat an article the reader already read",
  },
} as const satisfies Record<keyof WorldParams, ParamRange>;

export type WorldParamName = keyof WorldParams;

const NAMES = Object.keys(WORLD_PARAM_RANGES) as WorldParamName[];

/** Rounds to 4 significant digits (readable in expected.json), staying inside [min, max]. */
function round4(value: number, range: ParamRange): number {
  const rounded = Number(value.toPrecision(4));
  return Math.min(range.max, Math.max(range.min, rounded));
}

function drawOne(rng: Rng, range: ParamRange): number {
  const u = rng.next();
  switch (range.distribution) {
    case "uniform":
      return range.min + u * (range.max - range.min);
    case "log-uniform":
      return Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)));
    case "zero-or-uniform": {
      const p0 = range.zeroProbability ?? 0;
      return u < p0 ? 0 : range.min + ((u - p0) / (1 - p0)) * (range.max - range.min);
    }
    case "coin":
      return u < 0.5 ? 0 : 1;
  }
}

/** The hidden dynamics of the world of `seed`: pure and deterministic (same seed, same params). */
export function drawWorldParams(seed: string): WorldParams {
  const rng = new Rng(seed, "world-params");
  const drawn: Record<string, number | boolean> = {};
  for (const name of NAMES) {
    const range: ParamRange = WORLD_PARAM_RANGES[name];
    const value = round4(drawOne(rng, range), range);
    drawn[name] = range.distribution === "coin" ? value === 1 : value;
  }
  return drawn as unknown as WorldParams;
}

/**
 * The drawn params with `overrides` applied; throws a RangeError naming every override outside the
 * documented ranges (a world outside the family is not a world of the family).
 */
export function resolveWorldParams(seed: string, overrides: Partial<WorldParams> = {}): WorldParams {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in WORLD_PARAM_RANGES)) {
      problems.push(`${name} is not a world parameter`);
      continue;
    }
    const range: ParamRange = WORLD_PARAM_RANGES[name as WorldParamName];
    if (range.distribution === "coin") {
      if (typeof value !== "boolean") problems.push(`${name} must be true or false`);
    } else if (typeof value !== "number" || !(value >= range.min && value <= range.max)) {
      problems.push(`${name} must be a number in [${range.min}, ${range.max}] (got ${String(value)})`);
    }
  }
  if (problems.length > 0) throw new RangeError(`world params out of range: ${problems.join("; ")}`);
  return { ...drawWorldParams(seed), ...overrides };
}
