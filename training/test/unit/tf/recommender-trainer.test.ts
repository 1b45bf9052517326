import { DEFAULT_FEATURE_COLUMNS, mulberry32 } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { fitRanker } from "../../../src/app/model-ops.js";
import type { RankingLoss } from "../../../src/domain/examples.js";
import { buildRanker } from "../../../src/model/ranker.js";
import { buildRecommender } from "../../../src/model/recommender.js";
import { RecommenderTrainer } from "../../../src/model/recommender-trainer.js";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { referenceFit } from "../../support/reference-fit.js";
import { recordingLogger } from "../helpers.js";

/** The production architecture's widths on a small vocabulary. */
const SPEC = { sections: 11, regions: 5, embeddingDim: 8, hidden: [64, 32], seed: 13 } as const;
const GROUP = 9;

/** 60 groups of a positive and 8 negatives whose labels depend on the ids and the numeric block. */
function examples(seed: number) {
  const random = mulberry32(seed);
  const rows = 60 * GROUP;
  const inputs = {
    rows,
    article_section: new Int32Array(rows).map(() => Math.floor(random() * (SPEC.sections + 1))),
    article_region: new Int32Array(rows).map(() => Math.floor(random() * (SPEC.regions + 1))),
    numeric: new Float32Array(rows * DEFAULT_FEATURE_COLUMNS.length).map(() => random() * 4 - 2),
  };
  const labels = new Float32Array(rows).map((_, r) => (r % GROUP === 0 ? 1 : 0));
  // The positive leans toward section 1 and a high first feature: there is something to learn.
  for (let g = 0; g < rows / GROUP; g++) {
    if (random() < 0.7) inputs.article_section[g * GROUP] = 1;
    inputs.numeric[g * GROUP * DEFAULT_FEATURE_COLUMNS.length] =
      (inputs.numeric[g * GROUP * DEFAULT_FEATURE_COLUMNS.length] as number) + 1;
  }
  return { inputs, labels, positives: rows / GROUP, groupSize: GROUP };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

async function bothFits(loss: RankingLoss) {
  const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
  const data = examples(7);
  // Batches of 7 groups (63 rows): 6 full batches and a last one of 3 groups per epoch.
  const options = { loss, epochs: 4, batchSize: 64, learningRate: 0.01, seed: 5, validationShare: 0.25 };
  const fast = buildRecommender(tf as Tf, SPEC);
  const straight = buildRecommender(tf as Tf, SPEC);
  const start = fast.getWeights().map((w) => w.dataSync().slice());
  const fastLogs = await fitRanker(tf as Tf, fast, data, options, () => undefined);
  const straightLogs = await referenceFit(tf as Tf, straight, data, options);
  const weights = (m: typeof fast) => m.getWeights().map((w) => w.dataSync() as Float32Array);
  const result = { fastLogs, straightLogs, start, fast: weights(fast), straight: weights(straight) };
  fast.dispose();
  straight.dispose();
  return result;
}

describe("the written-out training step", () => {
  for (const loss of ["listwise", "pointwise"] as const) {
    it(`learns what model.fit learns with the ${loss} loss: the same loss curve and weights within 1e-5`, async () => {
      const { fastLogs, straightLogs, start, fast, straight } = await bothFits(loss);
      expect(fastLogs).toHaveLength(4);
      for (const [i, log] of fastLogs.entries()) {
        const ref = straightLogs[i];
        expect(Math.abs(log.loss - (ref?.loss ?? Number.NaN))).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(log.valLoss - (ref?.valLoss ?? Number.NaN))).toBeLessThanOrEqual(1e-5);
      }
      // It did learn (the loss fell, every layer moved), so equal weights are not a trivial match.
      expect((fastLogs.at(-1)?.loss ?? 0) < (fastLogs[0]?.loss ?? 0)).toBe(true);
      for (let w = 0; w < start.length; w++) {
        expect(maxAbsDiff(fast[w] ?? [], start[w] ?? [])).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(fast[w] ?? [], straight[w] ?? [])).toBeLessThanOrEqual(1e-5);
      }
    }, 120_000);
  }

  it("refuses a model that is not the recommender rather than training something else", async () => {
    const { tf } = await initTensorflow({ prefer: "node", log: recordingLogger() });
    const other = buildRanker(tf as Tf, {
      userVocab: 4,
      itemVocab: 4,
      embeddingDim: 2,
      numericFeatures: 3,
      hidden: [4],
    });
    expect(
      () => new RecommenderTrainer(tf as Tf, other, { loss: "listwise", groupSize: 3, learningRate: 0.01 }),
    ).toThrow(/not the recommender this trainer computes: no layer section_emb/);
    other.dispose();
  }, 60_000);
});
