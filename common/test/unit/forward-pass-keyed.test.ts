/**
 * The forward pass's keyed rows (a fused first layer reusing each article's partial sums) against the
 * same network run without keys, on a functional ranker of the bundle's shape: section and region
 * embeddings and the numeric block → Dense(ReLU) → Dense(ReLU) → Dense(sigmoid).
 */
import { describe, expect, it } from "@jest/globals";
import {
  type ArticleFeatureSource,
  articleColumns,
  buildModelInputs,
  buildRecommendationWorld,
  ForwardPassModel,
  type ForwardPassOptions,
  KeyedPartials,
  mapCatalogue,
  mulberry32,
  NetworkScorer,
  NUMERIC_FEATURE_COUNT,
  NUMERIC_FEATURES,
  readerProfile,
  recommend,
  type Scorer,
  sparseVectorFromWeights,
} from "../../src/index.js";

/** The article-only columns of inputs holding every feature (the widest layout). */
const ARTICLE_COLUMNS = articleColumns({
  asOf: 0,
  article: () => undefined,
  popularity: () => 0,
  popularityScales: () => undefined,
  covisitation: () => undefined,
  vocab: { section: new Map(), region: new Map() },
  columns: NUMERIC_FEATURES,
});

const SECTIONS = 6;
const REGIONS = 4;
const EMBEDDING = 3;

function ranker(seed: number, options: ForwardPassOptions = {}): ForwardPassModel {
  const random = mulberry32(seed);
  const weights: { name: string; shape: number[]; values: number[] }[] = [];
  const add = (name: string, shape: number[]) =>
    weights.push({
      name,
      shape,
      values: Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => (random() - 0.5) * 0.8),
    });
  add("section_embedding/embeddings", [SECTIONS, EMBEDDING]);
  add("region_embedding/embeddings", [REGIONS, EMBEDDING]);
  const inDim = 2 * EMBEDDING + NUMERIC_FEATURE_COUNT;
  add("hidden_0/kernel", [inDim, 16]);
  add("hidden_0/bias", [16]);
  add("hidden_1/kernel", [16, 8]);
  add("hidden_1/bias", [8]);
  add("score/kernel", [8, 1]);
  add("score/bias", [1]);
  const ref = (name: string) => [[[name, 0, 0, {}]]];
  const input = (name: string, width: number, dtype: string) => ({
    class_name: "InputLayer",
    name,
    config: { name, batch_input_shape: [null, width], dtype },
    inbound_nodes: [],
  });
  const layer = (class_name: string, name: string, config: object, inbound: string[]) => ({
    class_name,
    name,
    config: { name, ...config },
    inbound_nodes: [inbound.map((i) => [i, 0, 0, {}])],
  });
  const modelJson = {
    modelTopology: {
      class_name: "Model",
      config: {
        name: "ranker",
        layers: [
          input("article_section", 1, "int32"),
          input("article_region", 1, "int32"),
          input("numeric", NUMERIC_FEATURE_COUNT, "float32"),
          layer("Embedding", "section_embedding", { input_dim: SECTIONS, output_dim: EMBEDDING }, [
            "article_section",
          ]),
          layer("Embedding", "region_embedding", { input_dim: REGIONS, output_dim: EMBEDDING }, [
            "article_region",
          ]),
          layer("Flatten", "section_flat", {}, ["section_embedding"]),
          layer("Flatten", "region_flat", {}, ["region_embedding"]),
          layer("Concatenate", "features", { axis: -1 }, ["section_flat", "region_flat", "numeric"]),
          layer("Dense", "hidden_0", { units: 16, activation: "relu", use_bias: true }, ["features"]),
          layer("Dense", "hidden_1", { units: 8, activation: "relu", use_bias: true }, ["hidden_0"]),
          layer("Dense", "score", { units: 1, activation: "sigmoid", use_bias: true }, ["hidden_1"]),
        ],
        input_layers: ref("article_section")[0]?.concat(
          ref("article_region")[0] ?? [],
          ref("numeric")[0] ?? [],
        ),
        output_layers: ref("score")[0],
      },
    },
    weightsManifest: [
      {
        paths: ["weights.bin"],
        weights: weights.map(({ name, shape }) => ({ name, shape, dtype: "float32" })),
      },
    ],
  };
  const bytes = new Uint8Array(Float32Array.from(weights.flatMap((w) => w.values)).buffer);
  return ForwardPassModel.load(modelJson, bytes, options);
}

/** One reader's candidates drawn from 30 articles (some twice): article columns fixed per article. */
function batch(seed: number, rows: number) {
  const random = mulberry32(seed);
  const articles = Array.from({ length: 30 }, () => ({
    section: Math.floor(random() * SECTIONS),
    region: Math.floor(random() * REGIONS),
    // Column 12 ("known") is 1 for every article: constant across any batch.
    numeric: Array.from({ length: NUMERIC_FEATURE_COUNT }, (_, k) => (k === 12 ? 1 : random() * 4 - 2)),
  }));
  const reader = Array.from({ length: 5 }, () => random() * 2 - 1);
  const keys = new Int32Array(rows);
  const section = new Int32Array(rows);
  const region = new Int32Array(rows);
  const numeric = new Float32Array(rows * NUMERIC_FEATURE_COUNT);
  for (let r = 0; r < rows; r++) {
    const key = Math.floor(random() * articles.length);
    const a = articles[key] as (typeof articles)[number];
    // Keys per (seed, article): one key never stands for two sets of values.
    keys[r] = seed * 1000 + key;
    section[r] = a.section;
    region[r] = a.region;
    for (let k = 0; k < NUMERIC_FEATURE_COUNT; k++)
      numeric[r * NUMERIC_FEATURE_COUNT + k] =
        k < 5
          ? (reader[k] as number)
          : (ARTICLE_COLUMNS.numeric as readonly number[]).includes(k)
            ? (a.numeric[k] as number)
            : random() * 2 - 1;
  }
  return { keys, feeds: { article_section: section, article_region: region, numeric } };
}

describe("the forward pass's keyed rows", () => {
  it("score every row within 1e-6 of the unkeyed pass, with partial sums reused across calls", () => {
    const model = ranker(1);
    const partials = new KeyedPartials();
    let compared = 0;
    for (const [seed, rows] of [
      [2, 40],
      [3, 7],
      [2, 40],
    ] as const) {
      const { keys, feeds } = batch(seed, rows);
      const [plain] = model.predict(feeds, rows);
      const [keyed] = model.predict(feeds, rows, { keys, columns: ARTICLE_COLUMNS, partials });
      expect(keyed).toHaveLength(rows);
      (plain as Float32Array).forEach((score, r) => {
        expect(Math.abs(((keyed as Float32Array)[r] as number) - score)).toBeLessThan(1e-6);
        compared++;
      });
    }
    expect(compared).toBe(87);
    // One partial per distinct article key of the first layer, none of the other layers.
    expect([...partials.byLayer.keys()]).toEqual(["hidden_0"]);
    expect(partials.byLayer.get("hidden_0")?.size).toBeGreaterThan(10);
  });

  it("gives the same bits with the SIMD kernel as with the JavaScript one, keyed and not", () => {
    const simd = ranker(6, { kernel: "simd" });
    const js = ranker(6, { kernel: "js" });
    const partials = { simd: new KeyedPartials(), js: new KeyedPartials() };
    let compared = 0;
    for (const [seed, rows] of [
      [7, 200],
      [8, 3],
      [7, 200],
    ] as const) {
      const { keys, feeds } = batch(seed, rows);
      const runs = [
        [simd.predict(feeds, rows)[0], js.predict(feeds, rows)[0]],
        [
          simd.predict(feeds, rows, { keys, columns: ARTICLE_COLUMNS, partials: partials.simd })[0],
          js.predict(feeds, rows, { keys, columns: ARTICLE_COLUMNS, partials: partials.js })[0],
        ],
      ];
      for (const [fast, plain] of runs) {
        expect(fast).toHaveLength(rows);
        for (let r = 0; r < rows; r++) {
          expect(Object.is(fast?.[r], plain?.[r])).toBe(true);
          compared++;
        }
      }
    }
    expect(compared).toBe(806);
  });

  it("refuses keys that do not match the rows, and ids outside the vocabulary", () => {
    const model = ranker(4);
    const { keys, feeds } = batch(5, 10);
    expect(() =>
      model.predict(feeds, 10, {
        keys: keys.subarray(1),
        columns: ARTICLE_COLUMNS,
        partials: new KeyedPartials(),
      }),
    ).toThrow(/9 keys for 10 rows/);
    feeds.article_section[0] = SECTIONS;
    expect(() =>
      model.predict(feeds, 10, { keys, columns: ARTICLE_COLUMNS, partials: new KeyedPartials() }),
    ).toThrow(/outside the vocabulary/);
  });
});

describe("the network scorer's keyed forward pass on the recommendation path", () => {
  it("gives training's evaluation and the api the same lists as the unkeyed pass, scores within 1e-6", () => {
    const H = 3_600_000;
    const random = mulberry32(21);
    const page = (n: number) => `30000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const articles = new Map<string, ArticleFeatureSource>();
    for (let n = 0; n < 400; n++)
      articles.set(page(n), {
        page: page(n),
        section: `s${n % 5}`,
        region: `r${n % 3}`,
        issued: 1_000 * H - Math.floor(random() * 100 * H),
        vector: sparseVectorFromWeights(
          new Map(Array.from({ length: 12 }, () => [Math.floor(random() * 150), random()])),
        ),
      });
    const world = buildRecommendationWorld({
      asOf: 1_000 * H,
      catalogue: mapCatalogue(articles),
      popularity: new Map([...articles.keys()].map((p) => [p, Math.floor(random() * 50)])),
      popularityScales: new Map([...articles.keys()].map((p) => [p, [random(), random(), random()]])),
      covisitation: new Map(
        [...articles.keys()].map((p) => [
          p,
          new Map([0, 1, 2].map(() => [page(Math.floor(random() * 400)), random()])),
        ]),
      ),
      candidates: {
        popular: 40,
        covisited: 20,
        contentSimilar: 20,
        scoped: 20,
        freshHours: 72,
        popularityHalfLifeHours: 6,
      },
    });
    const model = ranker(22);
    const normalisation = {
      features: [...NUMERIC_FEATURES],
      mean: NUMERIC_FEATURES.map(() => random() - 0.5),
      std: NUMERIC_FEATURES.map(() => 0.5 + random()),
    };
    const keyed = new NetworkScorer(
      model,
      { section: ["s0", "s1", "s2"], region: ["r0", "r1"] },
      normalisation,
    );
    // The straightforward scorer: the same inputs through the network without keys.
    const plain: Scorer = {
      score: (profile, pages, w) => {
        const x = buildModelInputs(profile, pages, keyed.context(w));
        return model.predict(
          { article_section: x.article_section, article_region: x.article_region, numeric: x.numeric },
          x.rows,
        )[0] as Float32Array;
      },
    };
    let compared = 0;
    for (let reader = 0; reader < 30; reader++) {
      const log = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => ({
        page: page(Math.floor(random() * 400)),
        timestamp: 900 * H + i * H,
        clicks: 1,
        timeOnPageMs: 20_000,
        scrollPercentage: 50,
        pageVisits: 1,
      }));
      const profile = readerProfile(log, reader % 2 === 0 ? "Logged" : "Non-Logged", world.features);
      // Twice with the keyed scorer: the second run reuses every article's partial sums.
      const first = recommend(world, profile, keyed, { k: 10 });
      const again = recommend(world, profile, keyed, { k: 10 });
      const expected = recommend(world, profile, plain, { k: 10 });
      expect(first.items.map((i) => i.page)).toEqual(expected.items.map((i) => i.page));
      expect(again.items).toEqual(first.items);
      first.items.forEach((item, i) => {
        expect(Math.abs(item.score - (expected.items[i]?.score as number))).toBeLessThan(1e-6);
        compared++;
      });
    }
    expect(compared).toBe(300);
  });
});
