/**
 * The training use case: snapshot → time split → tuned baselines → ranker → offline evaluation →
 * bundle → MLflow run, registered version and promotion gate.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BUNDLE_FILES,
  BUNDLE_SCHEMA_VERSION,
  type BundleManifest,
  bundleManifestSchema,
  CHALLENGER_ALIAS,
  CHAMPION_ALIAS,
  computeNormalisation,
  DEFAULT_EXPERIMENT_NAME,
  DEFAULT_MODEL_NAME,
  FEATURE_SCHEMA_VERSION,
  MODEL_INPUTS,
  NetworkScorer,
  RECENT_READS,
  readBundleDirectory,
  scorerOf,
  type Vocabularies,
  type VocabularyIndex,
  vocabularyIndex,
} from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import { writeBundle, writeBundleTables } from "../adapters/bundle-dir.js";
import {
  type BaselineName,
  bundleTables,
  evaluateBaselines,
  noveltyBasis,
  type RecentMeasure,
  ratiosToBestBaseline,
  type SegmentRatios,
  type TunedBaselines,
  tuneBaselines,
} from "../domain/baselines.js";
import { HOUR_MS, type TrainingData } from "../domain/data.js";
import {
  buildExamples,
  FEATURE_SETS,
  type FeatureSet,
  mergeExamples,
  type RankingLoss,
} from "../domain/examples.js";
import { type GateDecision, promotionDecision } from "../domain/gate.js";
import { evaluateLists, ndcgByCase, type PopulationFigures, segmentCases } from "../domain/metrics.js";
import { lossCurveSvg, metricBarsSvg, segmentTable } from "../domain/report.js";
import { servedLists, type TierFigures, type WindowServing } from "../domain/served-lists.js";
import { liveServing, type ServedAt, validacaoVisits, windowVisits } from "../domain/served-window.js";
import { pickShrinkage, SHRINKAGE_GRID, type ShrinkageChoice } from "../domain/shrinkage.js";
import {
  DEFAULT_SPLIT,
  type EvalCase,
  type SplitOptions,
  type TimeSplit,
  timeSplit,
  validationCases,
  windowCases,
} from "../domain/split.js";
import { DEFAULT_COVISITATION } from "../domain/structures.js";
import {
  buildWorld,
  type CandidateOptions,
  DEFAULT_CANDIDATES,
  servingPopularityName,
  type World,
} from "../domain/world.js";
import { forwardPassOf } from "../model/forward-pass-of.js";
import { buildRecommender, priorShrinkage } from "../model/recommender.js";
import type { Tf, TfBackendName } from "../tf/backend.js";
import { type EpochLog, fitRanker, standardise } from "./model-ops.js";
import type { ExperimentTracker, MetricPoint, ModelRegistry, Progress } from "./ports.js";

export { CHAMPION_ALIAS, FEATURE_SETS };

export interface TrainConfig {
  modelName: string;
  experimentName: string;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  negatives: number;
  /** How the ranker learns the order of a reader's pool (`RANKING_LOSSES`). */
  loss: RankingLoss;
  /** The network's numeric columns (`FEATURE_SETS`): shares of the portal's reads (default), read counts, or with the appeal. */
  features: FeatureSet;
  /**
   * Early stopping: epochs without a better validation loss before stopping; the best epoch's weights stay
   * (the untrained network, the popularity prior, included).
   */
  patience: number | undefined;
  embeddingDim: number;
  hidden: number[];
  maxEvalReaders: number;
  maxTrainReaders: number;
  /** Label windows (of `split.validationHours` each, going back from the validation cut) for training examples. */
  labelWindows: number;
  /**
   * Where a label window's examples are built: "visits", each reader at the first access in the window,
   * in the world the api serves then (the window start's tables advanced with the reads before that
   * hour: `served-window.ts`, as the evaluation); "window-start", every reader in the window start's world.
   */
  examplesAt: ServedAt;
  /**
   * Where the baselines are tuned and the serving popularity chosen on the validation window:
   * "visits", each reader served at the first access as the api serves it (as the evaluation);
   * "window-start", every reader in the window start's world.
   */
  tuningAt: ServedAt;
  /**
   * How the recent-buffer baseline, and a recent serving popularity, measure "recent": "time", the
   * reads of the last M minutes (M tuned on `WINDOW_GRID_MINUTES`); "reads", the latest N reads (N on
   * `BUFFER_GRID_READS`, as before issue #13's window).
   */
  recentBy: RecentMeasure;
  split: SplitOptions;
  candidates: CandidateOptions;
  /** Register and gate (false: evaluate only, e.g. the quality benchmark). */
  register: boolean;
  /**
   * The online loop (docs/online.md): the gate's winner gets `@challenger` (measured on readers' clicks;
   * only the decision job moves `@champion`), unless there is no champion yet. Off: the gate sets
   * `@champion` and the Production stage, as before.
   */
  onlineLoop: boolean;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  modelName: DEFAULT_MODEL_NAME,
  experimentName: DEFAULT_EXPERIMENT_NAME,
  seed: 42,
  epochs: 8,
  batchSize: 512,
  learningRate: 0.003,
  negatives: 8,
  loss: "listwise",
  features: "share",
  patience: 2,
  embeddingDim: 8,
  hidden: [64, 32],
  maxEvalReaders: 5_000,
  maxTrainReaders: 20_000,
  labelWindows: 3,
  examplesAt: "visits",
  tuningAt: "visits",
  // Off by default: on the held-out and unseen worlds the window did not do better overall (docs/quality.md).
  recentBy: "time",
  split: DEFAULT_SPLIT,
  candidates: DEFAULT_CANDIDATES,
  register: true,
  onlineLoop: false,
};

export interface SnapshotRef {
  snapshotId: string;
  manifestKey: string;
  digest: string;
  bucket: string;
}

export interface EvaluationResult {
  model: PopulationFigures;
  baselines: Record<BaselineName, PopulationFigures>;
  validacao: { model: PopulationFigures; baselines: Record<BaselineName, PopulationFigures> };
  /** The candidate pool's figures per tier: on the test window, and for validacao through the written bundle. */
  tiers: { test: TierFigures; validacao: TierFigures };
  /** The model ÷ each segment's best baseline, with a 90 % paired-bootstrap interval, per window. */
  ratios: { test: SegmentRatios; validacao: SegmentRatios };
  tuned: ReturnType<typeof tuneBaselines>;
  epochs: EpochLog[];
  /** The weight of the trained logit against the popularity prior, and the test window's evidence. */
  shrinkage: ShrinkageChoice;
  examples: { rows: number; positives: number };
  /**
   * Seconds spent: tuning the baselines, building the training examples, fitting, and evaluating each window (its served worlds, every
   * shrinkage trial and baseline; validacao after the bundle is written).
   */
  timings: {
    baselinesSeconds: number;
    examplesSeconds: number;
    trainSeconds: number;
    testSeconds: number;
    validacaoSeconds: number;
  };
}

export interface TrainOutcome {
  runId: string | undefined;
  /** The model's registered version. */
  version: string | undefined;
  /** The version now `champion`: the model's, or a baseline's bundle registered by this run. */
  promotedVersion?: string | undefined;
  decision: GateDecision | undefined;
  promoted: boolean;
  championVersion: string | undefined;
  championNdcg: number | undefined;
  evaluation: EvaluationResult;
}

export interface TrainDeps {
  tf: Tf;
  backend: TfBackendName;
  tracker?: ExperimentTracker;
  registry?: ModelRegistry;
  log: Progress;
  now?: () => Date;
  /** Given the model bundle's directory once written (before it is removed): benches that serve it copy it. */
  onBundle?: (dir: string) => Promise<void>;
}

/** The section and region vocabularies of the articles issued before `cut`, most frequent first. */
export function vocabularies(data: TrainingData, cut: number): Vocabularies {
  const sections = new Map<string, number>();
  const regions = new Map<string, number>();
  for (const a of data.articles.values()) {
    if (a.issued >= cut) continue;
    sections.set(a.section, (sections.get(a.section) ?? 0) + 1);
    regions.set(a.region, (regions.get(a.region) ?? 0) + 1);
  }
  const order = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  return { section: order(sections), region: order(regions) };
}

function flatten(prefix: string, figures: PopulationFigures): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const [population, f] of Object.entries(figures))
    for (const [name, value] of Object.entries(f))
      out.push({ key: `${prefix}.${population}.${name}`, value: value as number });
  return out;
}

/**
 * Every baseline tuned and the serving popularity chosen on the split's validation window, served at
 * the readers' visits or at the window's start (`config.tuningAt`): `trainAndEvaluate`'s first step,
 * which the oracle bench (bench/src/oracle-ceiling.ts) repeats to score the same baselines.
 */
export function tuneOnValidationWindow(
  data: TrainingData,
  split: TimeSplit,
  vIndex: VocabularyIndex,
  config: Pick<
    TrainConfig,
    "candidates" | "maxTrainReaders" | "maxEvalReaders" | "seed" | "tuningAt" | "recentBy"
  >,
): TunedBaselines {
  const tuningWorld = buildWorld(data, split.validCut, vIndex, config.candidates);
  const validCases = windowCases(
    data,
    split.validCut,
    split.testCut - 1,
    config.maxTrainReaders,
    config.seed,
  );
  const tuningCases = validCases.slice(0, config.maxEvalReaders);
  return tuneBaselines(
    tuningWorld,
    tuningCases,
    config.tuningAt === "visits"
      ? liveServing(tuningWorld, windowVisits(data, tuningCases, split.validCut, split.testCut - 1))
      : undefined,
    config.recentBy,
  );
}

/**
 * The test window as training evaluates it: the world of its cut (features from before it, the
 * serving popularity) and its sampled cases. The oracle bench (bench/src/oracle-ceiling.ts) scores the same.
 */
export function testWindow(
  data: TrainingData,
  split: TimeSplit,
  vIndex: VocabularyIndex,
  candidates: CandidateOptions,
  popularity: TunedBaselines["servingPopularity"],
  config: Pick<TrainConfig, "maxEvalReaders" | "seed">,
): { world: World; cases: EvalCase[] } {
  return {
    world: buildWorld(data, split.testCut, vIndex, candidates, DEFAULT_COVISITATION, undefined, {
      popularity,
    }),
    cases: windowCases(data, split.testCut, split.end, config.maxEvalReaders, config.seed + 1),
  };
}

/** The world as of the snapshot's `asOf` (every interaction): the bundle's, which serves validacao. */
export function snapshotWorld(
  data: TrainingData,
  vIndex: VocabularyIndex,
  candidates: CandidateOptions,
  popularity: TunedBaselines["servingPopularity"],
): World {
  return buildWorld(data, data.asOf + 1, vIndex, candidates, DEFAULT_COVISITATION, undefined, {
    asOf: data.asOf,
    popularity,
  });
}

/** The validacao readers training evaluates (sampled as the test window's, with their own seed). */
export function validacaoCases(
  data: TrainingData,
  config: Pick<TrainConfig, "maxEvalReaders" | "seed">,
): EvalCase[] {
  return validationCases(data, config.maxEvalReaders, config.seed + 2);
}

/** Trains and evaluates on `data`; with a tracker and registry, logs, registers and gates. */
export async function trainAndEvaluate(
  deps: TrainDeps,
  data: TrainingData,
  snapshot: SnapshotRef,
  config: TrainConfig,
): Promise<TrainOutcome> {
  const { tf, log } = deps;
  const now = deps.now ?? (() => new Date());
  const split = timeSplit(data.asOf, config.split, data.events[0]?.timestamp);
  const vocab = vocabularies(data, split.validCut);
  const vIndex = vocabularyIndex(vocab);
  log.info({ split, readers: data.readers.size, articles: data.articles.size }, "time split");

  // Validation window: tune baselines, build the ranker's training examples.
  const t0 = performance.now();
  const tuned = tuneOnValidationWindow(data, split, vIndex, config);
  const baselinesSeconds = (performance.now() - t0) / 1000;
  // The model's popularity feature and popular tier use the better popularity baseline: decayed
  // with the tuned half-life, or the recent-click buffer when it is clearly better.
  const candidates: CandidateOptions = { ...config.candidates, popularityHalfLifeHours: tuned.halfLifeHours };
  const popularity = tuned.servingPopularity;
  log.info(
    {
      tuned: tuned.strategies,
      popularity,
      evidence: tuned.servingPopularityEvidence,
      at: config.tuningAt,
      baselinesSeconds,
    },
    "baselines tuned",
  );

  // Training examples from several label windows: each reader at the first access in the window, in
  // the world the api serves then (the model's hour worlds, as the evaluation), or at the window's start.
  const tx = performance.now();
  const columns = FEATURE_SETS[config.features];
  const parts = [];
  for (let w = 0; w < config.labelWindows; w++) {
    const from = split.validCut - w * split.validationHours * HOUR_MS;
    const to = from + split.validationHours * HOUR_MS - 1;
    if (from <= (data.events[0]?.timestamp ?? 0)) break;
    const world = buildWorld(data, from, vIndex, candidates, DEFAULT_COVISITATION, undefined, { popularity });
    const cases = windowCases(data, from, to, config.maxTrainReaders, config.seed + 10 * w);
    const servedAt =
      config.examplesAt === "visits"
        ? liveServing(world, windowVisits(data, cases, from, to)).worldsOf()
        : undefined;
    parts.push(buildExamples(world, cases, config.negatives, config.seed + w, servedAt, columns));
  }
  const examples = mergeExamples(parts);
  const normalisation = computeNormalisation(examples.inputs.numeric, examples.inputs.rows, columns);
  standardise(examples.inputs, normalisation.mean, normalisation.std);
  const examplesSeconds = (performance.now() - tx) / 1000;
  log.info(
    { rows: examples.inputs.rows, positives: examples.positives, at: config.examplesAt, examplesSeconds },
    "training examples",
  );

  const model = buildRecommender(tf, {
    sections: vocab.section.length,
    regions: vocab.region.length,
    embeddingDim: config.embeddingDim,
    hidden: config.hidden,
    seed: config.seed,
    features: columns,
  });
  const t1 = performance.now();
  const epochs = await fitRanker(
    tf,
    model,
    examples,
    {
      loss: config.loss,
      epochs: config.epochs,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      seed: config.seed,
      validationShare: 0.1,
      patience: config.patience,
    },
    (e) => log.info({ ...e, of: config.epochs }, "epoch"),
  );
  const trainSeconds = (performance.now() - t1) / 1000;

  // Test window: features from before testCut only; lists from common's recommendation path, scored
  // by the trained network through common's forward pass (what the api runs).
  const { world: testWorld, cases: testCases } = testWindow(
    data,
    split,
    vIndex,
    candidates,
    popularity,
    config,
  );
  const basis = noveltyBasis(testWorld);
  // Every scorer (each shrinkage trial, every baseline, the champion) serves each reader at the first
  // access in the window from the world the api would serve then: the window's start advanced with the
  // portal's reads before that hour (`served-window.ts`).
  const t2 = performance.now();
  const testServing = liveServing(testWorld, windowVisits(data, testCases, split.testCut, split.end));
  const modelWorlds = testServing.worldsOf();
  // The trained logit shrunk toward the popularity prior when the test window clearly says so.
  const shrink = priorShrinkage(tf, model, columns);
  const trials = [];
  for (const weight of SHRINKAGE_GRID) {
    shrink(weight);
    const scorer = new NetworkScorer(await forwardPassOf(tf, model), vocab, normalisation);
    const served = servedLists(modelWorlds, testServing.profile, testCases, scorer);
    trials.push({ weight, served, scores: ndcgByCase(testCases, served.lists) });
  }
  const shrinkage = pickShrinkage(trials, segmentCases(testCases, "history"));
  shrink(shrinkage.weight);
  const testServed = (trials.find((t) => t.weight === shrinkage.weight) as (typeof trials)[number]).served;
  const modelFigures = evaluateLists(testCases, testServed.lists, basis);
  log.info(shrinkage, "prior shrinkage");
  const baselineFigures = evaluateBaselines(testServing, testCases, tuned, basis);
  const testSeconds = (performance.now() - t2) / 1000;
  log.info(
    {
      model: modelFigures.all.ndcg10,
      baselines: Object.fromEntries(Object.entries(baselineFigures).map(([k, v]) => [k, v.all.ndcg10])),
      candidateRecall: testServed.tiers.candidateRecall.all,
      readers: testCases.length,
      worlds: testServing.worlds,
      testSeconds,
    },
    "test NDCG@10",
  );

  const work = await mkdtemp(path.join(tmpdir(), "gplay-train-"));
  try {
    // The bundle: the world as of the snapshot's asOf (every interaction), the trained weights.
    const fullWorld = snapshotWorld(data, vIndex, candidates, popularity);
    const params = trainingParams(config, candidates, tuned, deps.backend, snapshot);
    const bundleDir = path.join(work, "bundle");
    const manifest: BundleManifest = bundleManifestSchema.parse({
      schemaVersion: BUNDLE_SCHEMA_VERSION,
      featureSchemaVersion: FEATURE_SCHEMA_VERSION,
      createdAt: now().toISOString(),
      snapshot: {
        snapshotId: snapshot.snapshotId,
        manifestKey: snapshot.manifestKey,
        digest: snapshot.digest,
      },
      asOf: data.asOf,
      inputs: MODEL_INPUTS.map((i) => ({
        name: i.name,
        dtype: i.dtype,
        shape: i.name === "numeric" ? [null, columns.length] : [...i.shape],
      })),
      numericFeatures: [...columns],
      recentReads: RECENT_READS,
      candidates: { ...candidates },
      files: {
        tfjsModel: BUNDLE_FILES.tfjsModel,
        kerasH5: BUNDLE_FILES.kerasH5,
        vocabularies: BUNDLE_FILES.vocabularies,
        normalisation: BUNDLE_FILES.normalisation,
        popularity: BUNDLE_FILES.popularity,
        covisitation: BUNDLE_FILES.covisitation,
      },
      params: { ...params },
    });
    const { halfLifeHours: _, ...modelTables } = bundleTables(fullWorld);
    await writeBundle(bundleDir, model, {
      manifest,
      vocabularies: vocab,
      normalisation,
      ...modelTables,
    });

    await deps.onBundle?.(bundleDir);
    // The validacao accesses (after the snapshot), each at the reader's first access, served from the
    // bundle as written (its tables advanced with the validacao reads before that hour, its network as
    // the api loads them) and the baselines' bundles likewise.
    const t3 = performance.now();
    const vCases = validacaoCases(data, config);
    const served = await readBundleDirectory(bundleDir, manifest);
    const vServing = liveServing(fullWorld, validacaoVisits(data, vCases), { model: served });
    const vServed = servedLists(vServing.worldsOf(), vServing.profile, vCases, scorerOf(served));
    const vBasis = noveltyBasis(fullWorld);
    const validacao = {
      model: evaluateLists(vCases, vServed.lists, vBasis),
      baselines: evaluateBaselines(vServing, vCases, tuned, vBasis),
    };
    const validacaoSeconds = (performance.now() - t3) / 1000;
    log.info({ worlds: vServing.worlds, readers: vCases.length, validacaoSeconds }, "validacao evaluated");

    const evaluation: EvaluationResult = {
      model: modelFigures,
      baselines: baselineFigures,
      validacao,
      tiers: { test: testServed.tiers, validacao: vServed.tiers },
      ratios: {
        test: ratiosToBestBaseline(testServing, testCases, testServed.lists, baselineFigures, tuned),
        validacao: ratiosToBestBaseline(vServing, vCases, vServed.lists, validacao.baselines, tuned),
      },
      tuned,
      epochs,
      shrinkage,
      examples: { rows: examples.inputs.rows, positives: examples.positives },
      timings: { baselinesSeconds, examplesSeconds, trainSeconds, testSeconds, validacaoSeconds },
    };
    if (!config.register || deps.tracker === undefined || deps.registry === undefined)
      return {
        runId: undefined,
        version: undefined,
        decision: undefined,
        promoted: false,
        championVersion: undefined,
        championNdcg: undefined,
        evaluation,
      };
    return await registerAndGate(
      { ...deps, tracker: deps.tracker, registry: deps.registry },
      config,
      snapshot,
      data,
      {
        evaluation,
        fullWorld,
        manifest,
        params,
        bundleDir,
        work,
        testWorld,
        testServing,
        testCases,
        split,
      },
    );
  } finally {
    model.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

function trainingParams(
  config: TrainConfig,
  candidates: CandidateOptions,
  tuned: ReturnType<typeof tuneBaselines>,
  backend: TfBackendName,
  snapshot: SnapshotRef,
): Record<string, string> {
  return {
    seed: String(config.seed),
    epochs: String(config.epochs),
    batch_size: String(config.batchSize),
    learning_rate: String(config.learningRate),
    negatives: String(config.negatives),
    loss: config.loss,
    patience: String(config.patience ?? "none"),
    embedding_dim: String(config.embeddingDim),
    hidden: config.hidden.join("x"),
    test_hours: String(config.split.testHours),
    validation_hours: String(config.split.validationHours),
    candidates_popular: String(candidates.popular),
    candidates_covisited: String(candidates.covisited),
    candidates_content: String(candidates.contentSimilar),
    fresh_hours: String(candidates.freshHours),
    popularity_half_life_hours: String(tuned.halfLifeHours),
    serving_popularity: servingPopularityName(tuned.servingPopularity),
    label_windows: String(config.labelWindows),
    examples_at: config.examplesAt,
    features: config.features,
    tuning_at: config.tuningAt,
    recent_by: config.recentBy,
    ...Object.fromEntries(
      Object.values(tuned.strategies).flatMap((s) =>
        Object.entries(s.params).map(([k, v]) => [`baseline.${s.name}.${k}`, String(v)]),
      ),
    ),
    backend,
    snapshot_manifest: snapshot.manifestKey,
    snapshot_digest: snapshot.digest,
    feature_schema_version: String(FEATURE_SCHEMA_VERSION),
  };
}

function tierMetrics(prefix: string, tiers: TierFigures): MetricPoint[] {
  return [
    ...Object.entries(tiers.candidateRecall).map(([t, v]) => ({
      key: `${prefix}.candidate_recall.${t}`,
      value: v,
    })),
    ...Object.entries(tiers.servedShare).map(([t, v]) => ({ key: `${prefix}.served_share.${t}`, value: v })),
    { key: `${prefix}.pool_size`, value: tiers.poolSize },
  ];
}

interface Evaluated {
  evaluation: EvaluationResult;
  fullWorld: ReturnType<typeof buildWorld>;
  /** The model bundle's manifest (a baseline's bundle shares its lineage and reference time). */
  manifest: BundleManifest;
  params: Record<string, string>;
  bundleDir: string;
  work: string;
  testWorld: ReturnType<typeof buildWorld>;
  /** The test window as the api serves it: the worlds every scorer of the window is served from. */
  testServing: WindowServing;
  testCases: ReturnType<typeof windowCases>;
  split: ReturnType<typeof timeSplit>;
}

/** Logs the run to MLflow, re-evaluates the champion on the same split, registers and gates. */
async function registerAndGate(
  deps: TrainDeps & { tracker: ExperimentTracker; registry: ModelRegistry },
  config: TrainConfig,
  snapshot: SnapshotRef,
  data: TrainingData,
  run: Evaluated,
): Promise<TrainOutcome> {
  const { tracker, registry, log } = deps;
  const { evaluation, params, bundleDir, work, testWorld, testServing, testCases, split } = run;
  const { model: modelFigures, baselines: baselineFigures, validacao, tuned, epochs } = evaluation;
  const basis = noveltyBasis(testWorld);
  const runId = await tracker.startRun(config.experimentName, `train-${snapshot.snapshotId}`, {
    "gplay.snapshot_id": snapshot.snapshotId,
    "gplay.backend": deps.backend,
  });
  try {
    await tracker.logDataset(runId, {
      name: snapshot.snapshotId,
      digest: snapshot.digest.slice(0, 36),
      source: JSON.stringify({
        uri: `s3://${snapshot.bucket}/${snapshot.manifestKey}`,
        digest: snapshot.digest,
      }),
      profile: JSON.stringify({
        readers: data.readers.size,
        articles: data.articles.size,
        events: data.events.length,
      }),
    });
    await tracker.logParams(runId, params);
    const metrics: MetricPoint[] = [];
    for (const e of epochs) {
      metrics.push({ key: "loss", value: e.loss, step: e.epoch });
      if (Number.isFinite(e.valLoss)) metrics.push({ key: "val_loss", value: e.valLoss, step: e.epoch });
      metrics.push({ key: "epoch_seconds", value: e.seconds, step: e.epoch });
    }
    // With early stopping: the epoch whose weights the model kept (0: the untrained popularity prior).
    if (config.patience !== undefined)
      metrics.push({ key: "best_epoch", value: epochs.find((e) => e.kept === true)?.epoch ?? 0 });
    metrics.push({ key: "shrinkage_weight", value: evaluation.shrinkage.weight });
    // The evidence behind the serving popularity: the recent buffer's NDCG@10 ÷ decayed popularity's.
    for (const key of ["ratio", "low", "high"] as const) {
      const value = evaluation.tuned.servingPopularityEvidence[key];
      if (Number.isFinite(value)) metrics.push({ key: `serving_popularity.buffer_vs_decayed.${key}`, value });
    }
    for (const t of evaluation.shrinkage.ndcg)
      metrics.push({ key: `shrinkage.test.history.ndcg10.w${t.weight}`, value: t.ndcg });
    metrics.push(...flatten("test.model", modelFigures));
    for (const [name, f] of Object.entries(baselineFigures))
      metrics.push(...flatten(`test.baseline.${name}`, f));
    metrics.push(...flatten("validacao.model", validacao.model));
    for (const [name, f] of Object.entries(validacao.baselines))
      metrics.push(...flatten(`validacao.baseline.${name}`, f));
    metrics.push(...tierMetrics("test.tiers", evaluation.tiers.test));
    metrics.push(...tierMetrics("validacao.tiers", evaluation.tiers.validacao));
    for (const [window, bySegment] of Object.entries(evaluation.ratios))
      for (const [segment, r] of Object.entries(bySegment))
        for (const key of ["ratio", "low", "high"] as const)
          if (Number.isFinite(r[key]))
            metrics.push({ key: `${window}.ratio_to_best_baseline.${segment}.${key}`, value: r[key] });
    for (const [k, v] of Object.entries(tuned.grid))
      metrics.push({ key: `tuning.${k.replace(/[^A-Za-z0-9_.-]/g, "_")}`, value: v });

    // The champion, re-evaluated with its own bundle (network, vocabularies, normalisation) on this split.
    const championVersion = await registry.aliasVersion(config.modelName, CHAMPION_ALIAS);
    let championNdcg: number | undefined;
    /** The champion's bundle as downloaded, when it could defend its title. */
    let championBundle: { dir: string; manifest: BundleManifest } | undefined;
    if (championVersion !== undefined) {
      const dir = path.join(work, "champion");
      try {
        await registry.downloadVersion(config.modelName, championVersion, dir);
        const championManifest = bundleManifestSchema.parse(
          JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8")),
        );
        const champion = await readBundleDirectory(dir, championManifest);
        // A model champion ranks with its network in this split's worlds; a baseline champion in the
        // worlds of its own strategy (its popularity), as it would be served.
        const { strategy } = championManifest;
        const worlds = testServing.worldsOf(
          strategy.kind === "baseline" ? { name: strategy.name, params: strategy.params } : undefined,
        );
        const figures = evaluateLists(
          testCases,
          servedLists(worlds, testServing.profile, testCases, scorerOf(champion)).lists,
          basis,
        );
        championNdcg = figures.all.ndcg10;
        championBundle = { dir, manifest: championManifest };
        metrics.push(...flatten("test.champion", figures));
      } catch (error) {
        // An unreadable or incompatible champion cannot defend its title; the gate says so in a tag.
        log.warn(
          { championVersion, err: error instanceof Error ? error.message : String(error) },
          "champion could not be re-evaluated",
        );
      }
    }
    await tracker.logMetrics(runId, metrics);

    const baselineNdcg = Object.fromEntries(
      Object.entries(baselineFigures).map(([k, v]) => [k, v.all.ndcg10]),
    );
    const decision = promotionDecision({
      model: modelFigures.all.ndcg10,
      baselines: baselineNdcg,
      champion: championNdcg,
    });
    await tracker.uploadDir(runId, bundleDir);

    const reportDir = path.join(work, "evaluation");
    await mkdir(reportDir, { recursive: true });
    const bars = [
      { method: "model", ...modelFigures.all },
      ...Object.entries(baselineFigures).map(([method, f]) => ({ method, ...f.all })),
    ];
    await writeFile(
      path.join(reportDir, "metrics.svg"),
      metricBarsSvg(`Test window (${testCases.length} readers)`, bars),
    );
    // Model against every baseline per segment (readers with history, new readers), both windows.
    for (const segment of ["history", "cold"] as const)
      await writeFile(
        path.join(reportDir, `metrics-${segment}.svg`),
        metricBarsSvg(
          `Test window, ${segment === "history" ? "readers with history" : "new readers"} (${modelFigures[segment].readers})`,
          [
            { method: "model", ...modelFigures[segment] },
            ...Object.entries(baselineFigures).map(([method, f]) => ({ method, ...f[segment] })),
          ],
        ),
      );
    await writeFile(
      path.join(reportDir, "segments.md"),
      [
        segmentTable(
          "Test window",
          { model: modelFigures, ...baselineFigures },
          Object.keys(baselineFigures),
          evaluation.ratios.test,
        ),
        segmentTable(
          "validacao (after the snapshot)",
          { model: validacao.model, ...validacao.baselines },
          Object.keys(validacao.baselines),
          evaluation.ratios.validacao,
        ),
      ].join("\n"),
    );
    await writeFile(
      path.join(reportDir, "loss.svg"),
      lossCurveSvg({
        loss: epochs.map((e) => e.loss),
        val_loss: epochs.map((e) => e.valLoss).filter(Number.isFinite),
      }),
    );
    await writeFile(
      path.join(reportDir, "report.json"),
      JSON.stringify({ split, decision, championVersion, championNdcg, ...evaluation }, null, 2),
    );
    await tracker.uploadDir(runId, reportDir, "evaluation");

    // A baseline that beats the model (and the champion) is served instead: the model is registered
    // but not promoted, the baseline's own bundle is registered and promoted.
    const modelWins = decision.promote && decision.reason !== "baseline-best";
    const figureTags: Record<string, string> = {
      "gplay.gate.decision": modelWins ? "promote" : "reject",
      "gplay.gate.reason": decision.reason,
      "gplay.gate.model_ndcg10": modelFigures.all.ndcg10.toFixed(6),
      "gplay.gate.best_baseline_ndcg10": Math.max(...Object.values(baselineNdcg)).toFixed(6),
      "gplay.gate.champion_version": championVersion ?? "none",
      "gplay.gate.champion_ndcg10": championNdcg === undefined ? "none" : championNdcg.toFixed(6),
      "gplay.strategy": "model",
    };
    // With the online loop on, the winner goes on trial (`@challenger`) unless nothing is served yet.
    const gateAlias = config.onlineLoop && championVersion !== undefined ? CHALLENGER_ALIAS : CHAMPION_ALIAS;
    figureTags["gplay.gate.alias"] = gateAlias;
    const version = await registry.registerVersion(config.modelName, runId, figureTags);
    let promotedVersion: string | undefined;
    // The champion stays best: its scorer is served again in this snapshot's world (a refreshed bundle),
    // so the served candidates and popularity never go stale while the champion holds its title.
    const refresh = !decision.promote && decision.reason === "below-champion" && championBundle !== undefined;
    if (decision.promote || refresh) {
      const target = refresh
        ? await registerRefreshedChampion(
            deps,
            config,
            runId,
            run,
            championBundle as NonNullable<typeof championBundle>,
            {
              ...figureTags,
              "gplay.refreshed_from": championVersion ?? "none",
            },
          )
        : decision.promote && decision.reason === "baseline-best"
          ? await registerBaseline(deps, config, runId, run, decision.baseline as BaselineName, figureTags)
          : version;
      // Re-check: another run may have promoted since the champion was evaluated.
      const current = await registry.aliasVersion(config.modelName, CHAMPION_ALIAS);
      if (current !== championVersion) {
        log.warn({ evaluated: championVersion, current }, "champion changed during training; not promoting");
      } else if (gateAlias === CHALLENGER_ALIAS) {
        await registry.setAlias(config.modelName, CHALLENGER_ALIAS, target);
        promotedVersion = target;
      } else {
        await registry.setAlias(config.modelName, CHAMPION_ALIAS, target);
        await registry.moveProductionStage(config.modelName, target);
        promotedVersion = target;
      }
    }
    const promoted = promotedVersion !== undefined && promotedVersion === version;
    const outcome =
      promotedVersion === undefined
        ? decision.promote || refresh
          ? "aborted-champion-changed"
          : "not-promoted"
        : promoted
          ? "promoted"
          : refresh
            ? "champion-refreshed"
            : "baseline-promoted";
    await tracker.setTags(runId, {
      ...figureTags,
      "gplay.gate.outcome": outcome,
      "gplay.model_version": version,
      ...(promotedVersion === undefined ? {} : { "gplay.promoted_version": promotedVersion }),
    });
    await tracker.finishRun(runId, "FINISHED");
    log.info({ runId, version, decision, outcome, promotedVersion }, "training run finished");
    return { runId, version, decision, promoted, promotedVersion, championVersion, championNdcg, evaluation };
  } catch (error) {
    await tracker.finishRun(runId, "FAILED").catch(() => undefined);
    throw error;
  }
}

/**
 * Writes the bundle of a baseline with its tuned parameters — its popularity (at the snapshot's asOf)
 * and co-visitation, no network — uploads it under the run's `baseline/` artifacts and registers it.
 */
async function registerBaseline(
  deps: TrainDeps & { tracker: ExperimentTracker; registry: ModelRegistry },
  config: TrainConfig,
  runId: string,
  run: Evaluated,
  name: BaselineName,
  figureTags: Record<string, string>,
): Promise<string> {
  const { fullWorld, evaluation, work } = run;
  const strategy = evaluation.tuned.strategies[name];
  const { halfLifeHours, ...tables } = bundleTables(fullWorld, strategy);
  const dir = path.join(work, "baseline");
  await writeBundleTables(dir, {
    manifest: {
      ...run.manifest,
      strategy: { kind: "baseline", name, params: { ...strategy.params } },
      candidates: { ...run.manifest.candidates, popularityHalfLifeHours: halfLifeHours },
      files: { popularity: BUNDLE_FILES.popularity, covisitation: BUNDLE_FILES.covisitation },
    },
    ...tables,
  });
  await deps.tracker.uploadDir(runId, dir, BASELINE_ARTIFACT_DIR);
  return deps.registry.registerVersion(
    config.modelName,
    runId,
    { ...figureTags, "gplay.gate.decision": "promote", "gplay.strategy": `baseline:${name}` },
    BASELINE_ARTIFACT_DIR,
  );
}

/** Where a run keeps the bundle of the baseline it promoted. */
export const BASELINE_ARTIFACT_DIR = "baseline";
/** Where a run keeps the champion's bundle refreshed with its snapshot's world. */
export const REFRESH_ARTIFACT_DIR = "refresh";

/**
 * The champion's scorer (its network, vocabularies and normalisation, or its baseline rule) with this
 * run's world — the candidate tables at the snapshot's asOf, the budgets and popularity it was just
 * re-evaluated with — uploaded under the run's `refresh/` artifacts and registered.
 */
async function registerRefreshedChampion(
  deps: TrainDeps & { tracker: ExperimentTracker; registry: ModelRegistry },
  config: TrainConfig,
  runId: string,
  run: Evaluated,
  champion: { dir: string; manifest: BundleManifest },
  tags: Record<string, string>,
): Promise<string> {
  const { strategy } = champion.manifest;
  // A model champion serves the popularity it was just re-evaluated with (this run's: decayed or a
  // buffer), and its params say which, so the api knows what its table holds.
  const { halfLifeHours, ...tables } = bundleTables(
    run.fullWorld,
    strategy.kind === "baseline" ? { name: strategy.name, params: strategy.params } : undefined,
  );
  const servingPopularity: Record<string, string | number | boolean> =
    strategy.kind === "baseline" ? {} : { serving_popularity: run.manifest.params.serving_popularity ?? "" };
  const dir = path.join(run.work, "refresh");
  await cp(champion.dir, dir, { recursive: true });
  await writeBundleTables(dir, {
    manifest: {
      ...champion.manifest,
      createdAt: run.manifest.createdAt,
      snapshot: run.manifest.snapshot,
      asOf: run.manifest.asOf,
      candidates: { ...run.manifest.candidates, popularityHalfLifeHours: halfLifeHours },
      params: {
        ...champion.manifest.params,
        ...servingPopularity,
        refreshed_from: tags["gplay.refreshed_from"] ?? "",
      },
    },
    ...tables,
  });
  await deps.tracker.uploadDir(runId, dir, REFRESH_ARTIFACT_DIR);
  return deps.registry.registerVersion(
    config.modelName,
    runId,
    {
      ...tags,
      "gplay.strategy": strategy.kind === "baseline" ? `baseline:${strategy.name}` : "model",
    },
    REFRESH_ARTIFACT_DIR,
  );
}

/** Moves the champion alias (and stage Production) back to `version`. */
export async function rollback(
  registry: ModelRegistry,
  modelName: string,
  version: string,
): Promise<{ previous: string | undefined }> {
  const previous = await registry.aliasVersion(modelName, CHAMPION_ALIAS);
  await registry.setAlias(modelName, CHAMPION_ALIAS, version);
  await registry.moveProductionStage(modelName, version);
  return { previous };
}

export type { TfModule };
