/**
 * Offline quality of the recommender against its tuned baselines, per seed, on generated data run
 * through the featstore-engine's real ingestion and snapshot use cases (in memory):
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-quality.ts \
 *     [--users 3000] [--days 4] [--seeds 1,2,3] [--epochs 8] [--backend wasm|cpu|node]
 *
 * Prints every method's test-window figures (all / with history / cold start) for each seed, then
 * the mean NDCG@10 of the model against the strongest baseline. The training workspace's sources
 * are loaded at run time (bench does not depend on @gplay/training), so this file declares the few
 * shapes it uses.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

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
interface Outcome {
  evaluation: {
    model: Populations;
    baselines: Record<string, Populations>;
    validacao: { model: Populations; baselines: Record<string, Populations> };
    tuned: { halfLifeHours: number; recentReads: number };
    timings: { baselinesSeconds: number; trainSeconds: number };
    epochs: { epoch: number; loss: number; seconds: number }[];
  };
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const load = async (rel: string) => import(pathToFileURL(path.join(root, rel)).href);

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "3000" },
    days: { type: "string", default: "4" },
    seeds: { type: "string", default: "1,2,3" },
    epochs: { type: "string", default: "8" },
    backend: { type: "string", default: "wasm" },
  },
});

const fmt = (f: Figures) =>
  [f.ndcg10, f.hr10, f.recall10, f.mrr, f.coverage].map((v) => v.toFixed(4)).join("  ") +
  `  ${f.novelty.toFixed(2)}  ${String(f.readers).padStart(5)}`;

async function main(): Promise<void> {
  const { initTensorflow } = await load("training/src/tf/backend.ts");
  const { trainAndEvaluate, DEFAULT_TRAIN_CONFIG } = await load("training/src/app/train.ts");
  const { loadTrainingData } = await load("training/src/app/load-data.ts");
  const { inMemorySnapshot } = await load("training/test/support/in-memory-pipeline.ts");
  const silent = { info: () => undefined, warn: () => undefined };
  const { tf, backend } = await initTensorflow({ prefer: values.backend, log: silent });
  console.log(`backend ${backend}; users ${values.users}, days ${values.days}, epochs ${values.epochs}`);
  const summary: { seed: string; model: number; best: string; bestNdcg: number }[] = [];
  for (const seed of (values.seeds ?? "1").split(",")) {
    const snap = await inMemorySnapshot({
      users: Number(values.users),
      days: Number(values.days),
      seed: `quality-${seed}`,
    });
    const data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
    const outcome = (await trainAndEvaluate(
      { tf, backend, log: silent },
      data,
      {
        snapshotId: snap.manifest.snapshotId,
        manifestKey: snap.manifestKey,
        digest: snap.manifest.digest,
        bucket: "mem",
      },
      { ...DEFAULT_TRAIN_CONFIG, seed: Number(seed), epochs: Number(values.epochs), register: false },
    )) as Outcome;
    const e = outcome.evaluation;
    console.log(
      `\nseed ${seed}: ${data.readers.size} readers, ${data.articles.size} articles, ${data.events.length} interactions; ` +
        `tuned half-life ${e.tuned.halfLifeHours} h, co-visitation recent ${e.tuned.recentReads}; ` +
        `train ${e.timings.trainSeconds.toFixed(1)} s, baselines ${e.timings.baselinesSeconds.toFixed(1)} s`,
    );
    console.log("  test window      population  NDCG@10 HR@10   Rec@10  MRR     cover   novel readers");
    const rows: [string, Populations][] = [["model", e.model], ...Object.entries(e.baselines)];
    for (const [name, p] of rows)
      for (const pop of ["all", "history", "cold"] as const)
        console.log(`  ${name.padEnd(16)} ${pop.padEnd(11)} ${fmt(p[pop])}`);
    console.log("  validacao set");
    const vrows: [string, Populations][] = [
      ["model", e.validacao.model],
      ...Object.entries(e.validacao.baselines),
    ];
    for (const [name, p] of vrows) console.log(`  ${name.padEnd(16)} ${"all".padEnd(11)} ${fmt(p.all)}`);
    const [best, bestFig] = Object.entries(e.baselines).sort(
      (a, b) => b[1].all.ndcg10 - a[1].all.ndcg10,
    )[0] as [string, Populations];
    summary.push({ seed, model: e.model.all.ndcg10, best, bestNdcg: bestFig.all.ndcg10 });
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const m = mean(summary.map((s) => s.model));
  const b = mean(summary.map((s) => s.bestNdcg));
  console.log(
    `\nmean NDCG@10 over ${summary.length} seeds: model ${m.toFixed(4)}, strongest baseline ${b.toFixed(4)} (${summary.map((s) => s.best).join(", ")}); lift ${(100 * (m / b - 1)).toFixed(1)} %`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
