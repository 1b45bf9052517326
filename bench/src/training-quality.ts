/**
 * Offline quality of the recommender against its tuned baselines on a family of held-out worlds
 * (docs/quality.md): each world's hidden dynamics are drawn from its seed, the seeds derive from the
 * commit being measured (nobody picks them), its G1 files go through the featstore-engine's real
 * ingestion and snapshot use cases (in memory), and training evaluates model and baselines through
 * the served recommendation path.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-quality.ts \
 *     [--worlds 6] [--users 20000] [--days 7] [--epochs 8] [--seeds a,b] [--backend wasm|cpu|node]
 *     [--features share|counts|appeal] [--examples-at visits|window-start] [--tuning-at visits|window-start]
 *     [--recent-by time|reads] [--candidates '{"scoped":60}']
 *
 * Prints, per world, the drawn parameters that matter most and, per segment (readers with history,
 * new readers) and window (test = the snapshot's last 48 h, shorter on a short snapshot; validacao = the 2 days after it),
 * NDCG@10 / HR@10 / MRR / coverage of the model and of every baseline, with the model's ratio to the
 * best baseline; then the ratios over the worlds.
 */
import { parseArgs } from "node:util";
import { generatedWorld, loadRepoModule as load, worldSeeds } from "./quality-worlds.js";

interface Figures {
  ndcg10: number;
  hr10: number;
  recall10: number;
  mrr: number;
  coverage: number;
  novelty: number;
  readers: number;
}
type Populations = Record<"all" | "history" | "cold", Figures>;
/** The model ÷ the segment's best baseline, with a 90 % paired-bootstrap interval over readers. */
interface Interval {
  ratio: number;
  low: number;
  high: number;
  baseline: string;
}
interface Evaluation {
  model: Populations;
  baselines: Record<string, Populations>;
  validacao: { model: Populations; baselines: Record<string, Populations> };
  tiers: {
    test: { candidateRecall: Record<string, number> };
    validacao: { candidateRecall: Record<string, number> };
  };
  ratios: Record<"test" | "validacao", Record<"history" | "cold", Interval>>;
  tuned: {
    halfLifeHours: number;
    servingPopularity: { kind: string; reads?: number };
    servingPopularityEvidence: { ratio: number; low: number; high: number };
    strategies: { "recent-buffer": { params: Record<string, unknown> } };
  };
  timings: Record<`${"baselines" | "examples" | "train" | "test" | "validacao"}Seconds`, number>;
  examples: { positives: number };
  epochs: { kept?: boolean }[];
  shrinkage: {
    weight: number;
    ndcg: { weight: number; ndcg: number }[];
    evidence?: { weight: number; ratio: number; low: number; high: number };
  };
}

const { values } = parseArgs({
  options: {
    worlds: { type: "string", default: "6" },
    users: { type: "string", default: "20000" },
    days: { type: "string", default: "7" },
    epochs: { type: "string", default: "8" },
    seeds: { type: "string" },
    backend: { type: "string", default: "wasm" },
    hidden: { type: "string" },
    negatives: { type: "string" },
    loss: { type: "string" },
    /** The network's numeric columns: default, or appeal (training's `FEATURE_SETS`). */
    features: { type: "string" },
    patience: { type: "string" },
    /** JSON of world parameters to fix (each within its range), e.g. '{"affinity":0}': for development only. */
    params: { type: "string" },
    windows: { type: "string" },
    /** Where the training examples are built: visits (default) or window-start. */
    "examples-at": { type: "string" },
    "tuning-at": { type: "string" },
    /** How "recent" is measured: reads (the latest N reads, the default) or time (the last M minutes). */
    "recent-by": { type: "string" },
    "validation-hours": { type: "string" },
    "test-hours": { type: "string" },
    /** JSON of candidate budgets to change, e.g. '{"scoped":0}': for development only. */
    candidates: { type: "string" },
  },
});

const f4 = (v: number) => v.toFixed(4);
const row = (name: string, f: Figures, best?: number) =>
  `    ${name.padEnd(22)} ${f4(f.ndcg10)}  ${f4(f.hr10)}  ${f4(f.mrr)}  ${f4(f.coverage)}  ${String(f.readers).padStart(6)}${
    best === undefined ? "" : `   ×${(f.ndcg10 / Math.max(best, 1e-9)).toFixed(3)}`
  }`;

async function main(): Promise<void> {
  const { initTensorflow } = await load("training/src/tf/backend.ts");
  const { trainAndEvaluate, DEFAULT_TRAIN_CONFIG, FEATURE_SETS } = await load("training/src/app/train.ts");
  const { promotionDecision } = await load("training/src/domain/gate.ts");
  const { RANKING_LOSSES } = await load("training/src/domain/examples.ts");
  const { SERVED_AT } = await load("training/src/domain/served-window.ts");
  if (values.features !== undefined && !(values.features in FEATURE_SETS))
    throw new Error(
      `--features must be one of ${Object.keys(FEATURE_SETS).join(", ")}, got ${values.features}`,
    );
  if (values.loss !== undefined && !RANKING_LOSSES.includes(values.loss))
    throw new Error(`--loss must be one of ${RANKING_LOSSES.join(", ")}, got ${values.loss}`);
  const servedAt = (flag: "examples-at" | "tuning-at") => {
    const value = values[flag];
    if (value !== undefined && !SERVED_AT.includes(value))
      throw new Error(`--${flag} must be one of ${SERVED_AT.join(", ")}, got ${value}`);
    return value;
  };
  const examplesAt = servedAt("examples-at");
  const tuningAt = servedAt("tuning-at");
  const { RECENT_MEASURES } = await load("training/src/domain/baselines.ts");
  const recentBy = values["recent-by"];
  if (recentBy !== undefined && !RECENT_MEASURES.includes(recentBy))
    throw new Error(`--recent-by must be one of ${RECENT_MEASURES.join(", ")}, got ${recentBy}`);
  const silent = { info: () => undefined, warn: () => undefined };
  const { tf, backend } = await initTensorflow({ prefer: values.backend, log: silent });
  const seeds = worldSeeds(Number(values.worlds), values.seeds);
  console.log(`backend ${backend}; ${seeds.length} worlds × ${values.users} readers × ${values.days} days`);
  const ratios: {
    seed: string;
    affinity: number;
    window: string;
    segment: string;
    ratio: number;
    low: number;
    high: number;
    served: number;
  }[] = [];
  for (const seed of seeds) {
    const started = performance.now();
    const { snap, data, params } = await generatedWorld(
      seed,
      { users: Number(values.users), days: Number(values.days) },
      values.params === undefined ? undefined : JSON.parse(values.params),
    );
    const pipelineSeconds = (performance.now() - started) / 1000;
    const outcome = await trainAndEvaluate(
      { tf, backend, log: silent },
      data,
      {
        snapshotId: snap.manifest.snapshotId,
        manifestKey: snap.manifestKey,
        digest: snap.manifest.digest,
        bucket: "mem",
      },
      {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: Number(values.epochs),
        register: false,
        ...(values.hidden === undefined ? {} : { hidden: values.hidden.split("x").map(Number) }),
        ...(values.negatives === undefined ? {} : { negatives: Number(values.negatives) }),
        ...(values.loss === undefined ? {} : { loss: values.loss }),
        ...(values.features === undefined ? {} : { features: values.features }),
        ...(values.patience === undefined
          ? {}
          : { patience: values.patience === "none" ? undefined : Number(values.patience) }),
        ...(values.windows === undefined ? {} : { labelWindows: Number(values.windows) }),
        ...(examplesAt === undefined ? {} : { examplesAt }),
        ...(tuningAt === undefined ? {} : { tuningAt }),
        ...(recentBy === undefined ? {} : { recentBy }),
        ...(values.candidates === undefined
          ? {}
          : { candidates: { ...DEFAULT_TRAIN_CONFIG.candidates, ...JSON.parse(values.candidates) } }),
        split: {
          validationHours: Number(values["validation-hours"] ?? DEFAULT_TRAIN_CONFIG.split.validationHours),
          testHours: Number(values["test-hours"] ?? DEFAULT_TRAIN_CONFIG.split.testHours),
        },
      },
    );
    const e = outcome.evaluation as Evaluation;
    // What a first training run on this world serves: the gate's choice on the test window.
    const decision = promotionDecision({
      model: e.model.all.ndcg10,
      baselines: Object.fromEntries(Object.entries(e.baselines).map(([k, v]) => [k, v.all.ndcg10])),
      champion: undefined,
    });
    const servedName: string = decision.reason === "baseline-best" ? decision.baseline : "model";
    const p = (k: string) => Number(params[k] ?? Number.NaN).toFixed(2);
    const servingName = (s: { kind: string; reads?: number; minutes?: number }) =>
      s.kind === "buffer"
        ? `buffer of ${s.reads} reads`
        : s.kind === "window"
          ? `window of ${s.minutes} minutes`
          : "decayed";
    // The recent reads the evidence weighed against decayed popularity: the best of the recent grid.
    const recent = e.tuned.strategies["recent-buffer"].params;
    const recentName = servingName(
      typeof recent.minutes === "number"
        ? { kind: "window", minutes: recent.minutes }
        : { kind: "buffer", reads: Number(recent.reads) },
    );
    const ratioText = (r: { ratio: number; low: number; high: number }) =>
      `${r.ratio.toFixed(3)} (${r.low.toFixed(3)}–${r.high.toFixed(3)})`;
    console.log(
      `\n${seed}: ${data.readers.size} readers, ${data.articles.size} articles, ${data.events.length} reads; ` +
        `half-life ${p("halfLifeHours")} h, affinity ${p("affinity")}, trends ${p("trendShare")}, coherence ${p("sessionCoherence")}, ` +
        `re-reading ${p("rereading")}, new readers ${p("validationOnlyShare")}; tuned half-life ${e.tuned.halfLifeHours} h; ` +
        `serving popularity ${servingName(e.tuned.servingPopularity)} (${recentName} ÷ decayed ${ratioText(e.tuned.servingPopularityEvidence)}); ` +
        `${e.examples.positives} positives, best epoch ${e.epochs.findIndex((l) => l.kept === true) + 1} of ${e.epochs.length}; ` +
        `shrinkage weight ${e.shrinkage.weight} (test NDCG@10 ${e.shrinkage.ndcg.map((t) => `${t.weight}:${t.ndcg.toFixed(4)}`).join(" ")}` +
        `${e.shrinkage.evidence === undefined ? "" : `; ${e.shrinkage.evidence.weight} ÷ 1 = ${ratioText(e.shrinkage.evidence)}`}); ` +
        `pipeline ${pipelineSeconds.toFixed(0)} s, baselines ${e.timings.baselinesSeconds.toFixed(0)} s, ` +
        `examples ${e.timings.examplesSeconds.toFixed(0)} s, train ${e.timings.trainSeconds.toFixed(0)} s, ` +
        `test window ${e.timings.testSeconds.toFixed(0)} s, validacao ${e.timings.validacaoSeconds.toFixed(0)} s, ` +
        `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    for (const [window, model, baselines, tiers] of [
      ["test", e.model, e.baselines, e.tiers.test],
      ["validacao", e.validacao.model, e.validacao.baselines, e.tiers.validacao],
    ] as const) {
      console.log(
        `  ${window}: candidate recall ${f4(tiers.candidateRecall.all ?? 0)} (own section ${f4(tiers.candidateRecall["popular-section"] ?? 0)}, ` +
          `own region ${f4(tiers.candidateRecall["popular-region"] ?? 0)}); the gate serves ${servedName}`,
      );
      for (const segment of ["history", "cold"] as const) {
        const best = Math.max(...Object.values(baselines).map((b) => b[segment].ndcg10));
        console.log(
          `   ${segment === "history" ? "readers with history" : "new readers"}    NDCG@10 HR@10   MRR     cover   readers  ÷ best baseline`,
        );
        const r = e.ratios[window][segment];
        console.log(
          `${row("model", model[segment], best)}   (90 % interval ${r.low.toFixed(3)}–${r.high.toFixed(3)})`,
        );
        for (const [name, f] of Object.entries(baselines)) console.log(row(name, f[segment]));
        const served =
          servedName === "model" ? model[segment] : (baselines[servedName] as Populations)[segment];
        ratios.push({
          seed,
          affinity: params.affinity ?? Number.NaN,
          window,
          segment,
          ratio: model[segment].ndcg10 / Math.max(best, 1e-9),
          low: r.low,
          high: r.high,
          served: served.ndcg10 / Math.max(best, 1e-9),
        });
      }
    }
  }
  for (const [title, key] of [
    ["model", "ratio"],
    ["what the gate serves (model or a baseline)", "served"],
  ] as const) {
    console.log(`\n${title}: NDCG@10 ÷ best baseline, per world:`);
    for (const window of ["test", "validacao"])
      for (const segment of ["history", "cold"]) {
        const rs = ratios.filter((r) => r.window === window && r.segment === segment);
        const mean = rs.reduce((s, r) => s + r[key], 0) / Math.max(rs.length, 1);
        console.log(
          `  ${window.padEnd(9)} ${segment.padEnd(7)} ${rs.map((r) => `${r[key].toFixed(3)}${r.affinity === 0 ? "*" : ""}`).join("  ")}   mean ${mean.toFixed(3)}   min ${Math.min(...rs.map((r) => r[key])).toFixed(3)}`,
        );
      }
  }
  console.log("\nmodel: 90 % paired-bootstrap interval of that ratio, per world:");
  for (const window of ["test", "validacao"])
    for (const segment of ["history", "cold"]) {
      const rs = ratios.filter((r) => r.window === window && r.segment === segment);
      console.log(
        `  ${window.padEnd(9)} ${segment.padEnd(7)} ${rs.map((r) => `${r.low.toFixed(2)}–${r.high.toFixed(2)}`).join("  ")}`,
      );
    }
  console.log("  (* a world whose readers have no section/region affinity)");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
