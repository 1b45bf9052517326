/**
 * One source tree's `fitRanker` on rows training-speed.ts wrote, in a process of its own (so that
 * the tree's own TensorFlow settings apply): the baseline side of the training benchmark.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/training-fit-child.ts TREE DATA_DIR SPEC_JSON
 *
 * SPEC_JSON: {"groupSize", "sections", "regions", "embeddingDim", "hidden", "seed", "epochs",
 * "batchSize", "learningRate", "profileSteps"}. Prints {"epochSeconds", "cpuSecondsPerEpoch",
 * "kernelsPerStep", "peakRssMb"}.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { kernelsPerStep, readExampleFiles } from "./training-fit.js";

async function main(): Promise<void> {
  const [tree, dir, specJson] = process.argv.slice(2);
  if (tree === undefined || dir === undefined || specJson === undefined)
    throw new Error("usage: training-fit-child.ts TREE DATA_DIR SPEC_JSON");
  const spec = JSON.parse(specJson);
  // biome-ignore lint/suspicious/noExplicitAny: the tree's training sources, untyped here.
  const load = async (rel: string): Promise<any> => import(pathToFileURL(path.join(tree, rel)).href);
  const { initTensorflow } = await load("training/src/tf/backend.ts");
  const { fitRanker } = await load("training/src/app/model-ops.ts");
  const { buildRecommender } = await load("training/src/model/recommender.ts");
  const { tf } = await initTensorflow({
    prefer: "node",
    log: { info: () => undefined, warn: () => undefined },
  });
  const examples = await readExampleFiles(dir, spec.groupSize);
  const build = () =>
    buildRecommender(tf, {
      sections: spec.sections,
      regions: spec.regions,
      embeddingDim: spec.embeddingDim,
      hidden: spec.hidden,
      seed: spec.seed,
    });
  // biome-ignore lint/suspicious/noExplicitAny: idem.
  const train = (model: any, rows: typeof examples, epochs: number) =>
    fitRanker(
      tf,
      model,
      rows,
      {
        loss: "listwise",
        epochs,
        batchSize: spec.batchSize,
        learningRate: spec.learningRate,
        seed: spec.seed,
        validationShare: 0,
      },
      () => undefined,
    );
  const model = build();
  const cpu0 = process.cpuUsage();
  const logs: { seconds: number }[] = await train(model, examples, spec.epochs);
  const cpu = process.cpuUsage(cpu0);
  model.dispose();
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const batchGroups = Math.max(1, Math.round(spec.batchSize / spec.groupSize));
  const kernels = await kernelsPerStep(tf, train, build, examples, batchGroups, spec.profileSteps);
  console.log(
    JSON.stringify({
      epochSeconds: logs.map((l) => l.seconds),
      cpuSecondsPerEpoch: (cpu.user + cpu.system) / 1e6 / spec.epochs,
      kernelsPerStep: kernels,
      peakRssMb,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
