import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildModelInputs,
  bundleManifestSchema,
  bundleWorlds,
  DEFAULT_FEATURE_COLUMNS,
  type LoadedBundle,
  type ModelInputArrays,
  type NetworkScorer,
  NUMERIC_FEATURES,
  type NumericFeature,
  numericWidth,
  readBundleDirectory,
  readerProfile,
  SHARE_FEATURES,
  SHARE_SCALE,
  scorerOf,
} from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type * as TfModule from "@tensorflow/tfjs";
import { initTensorflow } from "../../../../training/src/tf/backend.js";
import { fileSystemLoadHandler } from "../../../../training/src/tf/file-io.js";
import { assertServable, bundleRanker } from "../../../src/app/bundle-ranker.js";
import { AS_OF, baselineBundle, fixtureCatalogue, pageId } from "../../support/fixtures.js";
import { writeTestBundle } from "../../support/model-bundle.js";

const p = pageId;

/** A baseline's bundle: its strategy and candidate structures, no network. */
function bundleOf(name: "popularity" | "covisitation"): LoadedBundle {
  return baselineBundle(
    { name, params: { halfLifeHours: 3 } },
    {
      popularity: {
        asOf: AS_OF,
        halfLifeHours: 3,
        entries: [
          [p(4), 9],
          [p(2), 8],
          [p(7), 5],
          [p(1), 3],
        ],
        scales: {},
      },
      covisitation: { topK: 5, neighbours: { [p(1)]: [[p(9), 2]] } },
    },
    { popular: 5, covisited: 5, contentSimilar: 0, scoped: 0, freshHours: 48, popularityHalfLifeHours: 3 },
  );
}

const read = (page: string) => ({
  page,
  timestamp: AS_OF - 60_000,
  clicks: 1,
  timeOnPageMs: 10_000,
  scrollPercentage: 50,
  pageVisits: 1,
});

describe("a baseline bundle", () => {
  it("is served like a model: its strategy's scorer over its own world, history excluded", async () => {
    const ranker = bundleRanker("3", bundleOf("popularity"), () => fixtureCatalogue());
    const out = await ranker.recommend(
      { interactions: [read(p(2))], userType: "Logged" },
      { k: 3, exclude: { has: () => false } },
    );
    expect(out.strategy).toBe("model");
    expect(out.items.map((i) => i.page)).toEqual([p(4), p(7), p(1)]);
  });

  it("ranks co-visited pages of the recent reads first when it is the co-visitation baseline", async () => {
    const ranker = bundleRanker("4", bundleOf("covisitation"), () => fixtureCatalogue());
    const out = await ranker.recommend(
      { interactions: [read(p(1))], userType: "Logged" },
      { k: 2, exclude: { has: () => false } },
    );
    expect(out.items.map((i) => [i.page, i.tier])).toEqual([
      [p(9), "co-visited"],
      [p(4), "popular"],
    ]);
  });
});

describe("a model bundle's feature columns", () => {
  let tf: typeof TfModule;
  let dir: string;
  beforeAll(async () => {
    ({ tf } = await initTensorflow({
      prefer: "wasm",
      log: { info: () => undefined, warn: () => undefined },
    }));
    dir = await mkdtemp(join(tmpdir(), "gplay-columns-"));
  }, 60_000);
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A bundle written with `features`, loaded as the api loads it. */
  async function loaded(name: string, features?: readonly NumericFeature[]): Promise<LoadedBundle> {
    const at = join(dir, name);
    const manifest = await writeTestBundle(tf, at, {
      vocabularies: { section: ["sp", "rj"], region: ["sao-paulo", "rio"] },
      asOf: AS_OF,
      popularity: Array.from({ length: 30 }, (_, i): [string, number] => [p(i + 1), 60 - 2 * i]),
      covisitation: { [p(2)]: [[p(9), 2]] },
      seed: 7,
      ...(features === undefined ? {} : { features }),
    });
    return readBundleDirectory(at, bundleManifestSchema.parse(manifest));
  }

  /** /predict's list for a reader, and tfjs's scores of the same pages over the feature builder's inputs. */
  async function servedAndOffline(bundle: LoadedBundle) {
    const ranker = bundleRanker("1", bundle, () => fixtureCatalogue());
    const reader = { interactions: [read(p(2)), read(p(5))], userType: "Logged" as const };
    const out = await ranker.recommend(reader, { k: 10, exclude: { has: () => false } });
    const world = bundleWorlds(bundle)(fixtureCatalogue());
    const context = (scorerOf(bundle) as NetworkScorer).context(world);
    const pages = out.items.map((i) => i.page);
    const x = buildModelInputs(
      readerProfile(reader.interactions, reader.userType, world.features),
      pages,
      context,
    );
    return { out, x };
  }

  it("serves a bundle written before the appeal (19 columns, no portal reads) with tfjs's scores of those columns", async () => {
    const bundle = await loaded("old");
    expect(bundle.manifest.numericFeatures).toEqual([...DEFAULT_FEATURE_COLUMNS]);
    expect(bundle.popularity.portal).toBeUndefined();
    expect(() => assertServable(bundle, "1")).not.toThrow();
    const { out, x } = await servedAndOffline(bundle);
    expect(x.numeric).toHaveLength(x.rows * DEFAULT_FEATURE_COLUMNS.length);
    const scores = await tfjsScores(join(dir, "old"), x);
    expect(out.items).toHaveLength(10);
    for (const [r, item] of out.items.entries())
      expect(Math.abs(item.score - (scores[r] as number))).toBeLessThan(1e-6);
  });

  it("serves a bundle that names the appeal column, its exposure counted from the portal's reads", async () => {
    const bundle = await loaded("appeal", NUMERIC_FEATURES);
    expect(bundle.popularity.portal?.length).toBeGreaterThan(0);
    expect(() => assertServable(bundle, "2")).not.toThrow();
    const { out, x } = await servedAndOffline(bundle);
    expect(x.numeric).toHaveLength(x.rows * NUMERIC_FEATURES.length);
    const scores = await tfjsScores(join(dir, "appeal"), x);
    for (const [r, item] of out.items.entries())
      expect(Math.abs(item.score - (scores[r] as number))).toBeLessThan(1e-6);
    // The appeal column holds each article's own value: p(1) was read more than p(2) since their issue.
    const appeal = NUMERIC_FEATURES.indexOf("article_log_appeal");
    const world = bundleWorlds(bundle)(fixtureCatalogue());
    const context = (scorerOf(bundle) as NetworkScorer).context(world);
    const two = buildModelInputs(readerProfile([], "Logged", world.features), [p(1), p(2)], context);
    const width = NUMERIC_FEATURES.length;
    expect(two.numeric[appeal] as number).toBeGreaterThan(two.numeric[width + appeal] as number);
  });

  it("serves a bundle whose read counts are shares of the portal's reads, summed over its tables", async () => {
    const columns = NUMERIC_FEATURES.filter(
      (f) => SHARE_FEATURES.includes(f) || (DEFAULT_FEATURE_COLUMNS.includes(f) && !/pop|velocity/.test(f)),
    );
    const bundle = await loaded("share", columns);
    const { out, x } = await servedAndOffline(bundle);
    expect(x.numeric).toHaveLength(x.rows * columns.length);
    const scores = await tfjsScores(join(dir, "share"), x);
    for (const [r, item] of out.items.entries())
      expect(Math.abs(item.score - (scores[r] as number))).toBeLessThan(1e-6);
    // Unstandardised, p(1)'s 24 h share is its 24 h reads over every article's, per SHARE_SCALE reads.
    const world = bundleWorlds(bundle)(fixtureCatalogue());
    const context = (scorerOf(bundle) as NetworkScorer).context(world);
    const raw = buildModelInputs(readerProfile([], "Logged", world.features), [p(1)], {
      ...context,
      normalisation: undefined,
      columns,
    });
    const portal24h = Object.values(bundle.popularity.scales).reduce((s, v) => s + (v[2] as number), 0);
    expect(raw.numeric[columns.indexOf("article_log_share_24h")]).toBeCloseTo(
      Math.log1p((SHARE_SCALE * (bundle.popularity.scales[p(1)]?.[2] as number)) / portal24h),
      5,
    );
  });

  it("refuses a bundle whose manifest names other columns than its normalisation", async () => {
    const bundle = await loaded("mismatch", NUMERIC_FEATURES);
    const manifest = { ...bundle.manifest, numericFeatures: [...DEFAULT_FEATURE_COLUMNS] };
    expect(() => assertServable({ ...bundle, manifest }, "3")).toThrow(
      /numericFeatures differ from its normalisation/,
    );
  });

  async function tfjsScores(bundleDir: string, x: ModelInputArrays): Promise<number[]> {
    const model = await tf.loadLayersModel(fileSystemLoadHandler(join(bundleDir, "tfjs")));
    const inputs = [
      tf.tensor2d(x.article_section, [x.rows, 1], "int32"),
      tf.tensor2d(x.article_region, [x.rows, 1], "int32"),
      tf.tensor2d(x.numeric, [x.rows, numericWidth(x)], "float32"),
    ];
    const out = model.predict(inputs) as TfModule.Tensor;
    const scores = Array.from(await out.data());
    out.dispose();
    for (const t of inputs) t.dispose();
    model.dispose();
    return scores;
  }
});
