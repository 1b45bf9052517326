import { z } from "zod";

/**
 * The model bundle: what a training run writes (as MLflow run artifacts, registered as a model
 * version) and what the API loads to rank. One directory, described by `bundle.json`:
 *
 *   bundle.json                    bundleManifestSchema (this file's schema; read it first)
 *   tfjs/model.json, tfjs/weights.bin   the ranker as a TF.js layers model (tfjs `file://` layout)
 *   models/model.h5                the same ranker as a Keras HDF5 file (opens in Keras 3)
 *   vocabularies.json              vocabulariesSchema: section and region vocabularies
 *   normalisation.json             normalisationSchema: mean/std of every numeric feature
 *   candidates/popularity.json     popularityTableSchema: recency-decayed popularity as of `asOf`
 *   candidates/covisitation.json   covisitationTableSchema: co-visited neighbours per article
 *
 * Out-of-vocabulary handling: id 0 of every vocabulary means "unknown or empty"; the vocabulary
 * lists the known values, value `vocab[i]` has id `i + 1`. A section or region the model never saw
 * (a new edition, a new article) gets id 0 and still ranks through its numeric features.
 *
 * Tensors: `MODEL_INPUTS` lists the model's inputs in the order `model.predict` takes them; the
 * feature builder (`common/src/features`) produces exactly these arrays for a reader and a list of
 * candidate articles, in training and in serving.
 */

export const BUNDLE_SCHEMA_VERSION = 1 as const;
/** Version of the feature definitions (names, order, formulas). A bundle with another one is refused. */
export const FEATURE_SCHEMA_VERSION = 2 as const;

/** File layout of a bundle, relative to its root (and to the run's artifact root in MLflow). */
export const BUNDLE_FILES = {
  manifest: "bundle.json",
  tfjsDir: "tfjs",
  tfjsModel: "tfjs/model.json",
  kerasH5: "models/model.h5",
  vocabularies: "vocabularies.json",
  normalisation: "normalisation.json",
  popularity: "candidates/popularity.json",
  covisitation: "candidates/covisitation.json",
} as const;

/**
 * The layer classes a bundle's model may use: the same name and compatible config in tfjs-layers and
 * Keras 3 (so the `.h5` opens in Keras) and run by the service's forward pass (`features/forward-pass.ts`).
 */
export const MODEL_LAYERS: ReadonlySet<string> = new Set([
  "InputLayer",
  "Embedding",
  "Dense",
  "Concatenate",
  "Flatten",
  "Dot",
  "Dropout",
  "BatchNormalization",
  "LayerNormalization",
  "Activation",
  "Reshape",
  "Add",
  "Subtract",
  "Multiply",
  "Average",
  "Maximum",
  "Minimum",
  "GlobalAveragePooling1D",
  "GlobalMaxPooling1D",
  "RepeatVector",
  "Permute",
]);

/** Id of an unknown (or empty) section or region. */
export const OOV_ID = 0;

/**
 * Every numeric feature the feature builder knows, in its order. Formulas live in
 * `common/src/features/feature-builder.ts`; names are the stable contract. A bundle's `numeric` input
 * holds an ordered subset of them, its `normalisation.features` (its columns): bundles written before
 * `article_log_appeal` have `DEFAULT_FEATURE_COLUMNS`.
 */
export const NUMERIC_FEATURES = [
  // reader
  "reader_log_interactions", // log1p(interactions in the log)
  "reader_log_engagement", // log1p(sum of engagement weights)
  "reader_is_logged", // 1 for Logged
  "reader_has_history", // 1 when the log is not empty
  "reader_log_hours_since_last", // log1p(hours between the last read and asOf)
  // article
  "article_log_age_hours", // log1p(hours between issued and asOf), 0 when issued after asOf
  "article_freshness", // 2^(-age/24h)
  "article_log_popularity", // log1p(recency-decayed reads as of asOf, the tuned half-life)
  "article_log_pop_1h", // log1p(reads decayed with a 1 h half-life): what is read this hour
  "article_log_pop_6h", // log1p(reads decayed with a 6 h half-life)
  "article_log_pop_24h", // log1p(reads decayed with a 24 h half-life)
  "article_velocity", // log1p(pop_1h) − log1p(pop_24h / 24): reads this hour against the day's hourly rate
  "article_known", // 1 when the article's metadata is known
  // reader–article
  "ra_section_affinity", // share of the reader's engagement in the article's section
  "ra_region_affinity", // share of the reader's engagement in the article's region
  "ra_content_max_sim", // max cosine(article vector, each recent read's vector)
  "ra_content_mean_sim", // mean cosine over the recent reads
  "ra_log_covisit", // log1p(sum of co-visitation scores between recent reads and the article)
  "ra_same_section_last", // 1 when the article's section is that of the last read
  // article (after the reader–article block: bundles before it have the 19 columns above)
  "article_log_appeal", // log((reads₂₄ + 1) / (mean share × exposure + 1)): its reads against the portal's since its issue
  // article, as shares of the portal's reads (the same measure summed over every article): what the
  // counts above say, unchanged when the portal's traffic (the day's swing, a sampled stream) scales
  "article_log_share", // log1p(SHARE_SCALE × decayed reads (tuned half-life) ÷ the portal's)
  "article_log_share_1h", // log1p(SHARE_SCALE × 1 h decayed reads ÷ the portal's)
  "article_log_share_6h", // log1p(SHARE_SCALE × 6 h decayed reads ÷ the portal's)
  "article_log_share_24h", // log1p(SHARE_SCALE × 24 h decayed reads ÷ the portal's)
  "article_share_velocity", // log1p(share_1h) − log1p(share_24h): its share this hour against its share of the day
] as const;
export type NumericFeature = (typeof NUMERIC_FEATURES)[number];
export const NUMERIC_FEATURE_COUNT = NUMERIC_FEATURES.length;

/** The columns of every bundle written before the appeal (one without `normalisation.features` has these). */
export const DEFAULT_FEATURE_COLUMNS: readonly NumericFeature[] = NUMERIC_FEATURES.slice(
  0,
  NUMERIC_FEATURES.indexOf("article_log_appeal"),
);

/** The article's reads as shares of the portal's (`article_*share*`), in `NUMERIC_FEATURES` order. */
export const SHARE_FEATURES: readonly NumericFeature[] = NUMERIC_FEATURES.filter((f) => f.includes("share"));

/**
 * Shares of the portal's reads are per `SHARE_SCALE` reads: a share feature equals its count feature
 * when the portal read that many (its scale) and keeps log1p's shape below and above it.
 */
export const SHARE_SCALE = 10_000;

/** A bundle's numeric columns: known features, each once, in `NUMERIC_FEATURES` order (none: a baseline's). */
export const featureColumnsSchema = z
  .array(z.enum(NUMERIC_FEATURES))
  .refine(
    (f) =>
      f.every(
        (name, i) =>
          i === 0 || NUMERIC_FEATURES.indexOf(f[i - 1] as NumericFeature) < NUMERIC_FEATURES.indexOf(name),
      ),
    {
      message: "feature columns must be distinct and in NUMERIC_FEATURES order",
    },
  );

/** The model's input tensors, in the order `model.predict` expects them. Every one has `batch` rows. */
export const MODEL_INPUTS = [
  { name: "article_section", dtype: "int32", shape: [null, 1], description: "section id (0 = OOV)" },
  { name: "article_region", dtype: "int32", shape: [null, 1], description: "region id (0 = OOV)" },
  {
    name: "numeric",
    dtype: "float32",
    shape: [null, DEFAULT_FEATURE_COLUMNS.length],
    description:
      "the bundle's feature columns (normalisation.json's features; this width by default), standardised",
  },
] as const;
export type ModelInputName = (typeof MODEL_INPUTS)[number]["name"];
/** Output: `[batch, 1]` float32, a relevance score in (0, 1); higher ranks first. */
export const MODEL_OUTPUT = { name: "score", dtype: "float32", shape: [null, 1] } as const;

/** How many of the reader's most recent reads feed the reader–article features. */
export const RECENT_READS = 10;

const pageSchema = z.string().min(1);

export const vocabulariesSchema = z.object({
  /** Known sections; `section[i]` has id `i + 1`, anything else id 0. */
  section: z.array(z.string()),
  region: z.array(z.string()),
});
export type Vocabularies = z.infer<typeof vocabulariesSchema>;

export const normalisationSchema = z
  .object({
    /** The bundle's numeric columns, in input order. */
    features: featureColumnsSchema,
    mean: z.array(z.number()),
    /** Standard deviations; a constant feature has std 1 (never 0). */
    std: z.array(z.number().positive()),
  })
  .refine((n) => n.mean.length === n.features.length && n.std.length === n.features.length, {
    message: "normalisation needs one mean and one std per feature",
  });
export type Normalisation = z.infer<typeof normalisationSchema>;

/** Half-lives of the popularity features at several time scales (`article_log_pop_*`). */
export const POPULARITY_SCALES_HOURS = [1, 6, 24] as const;

/** Width of a bucket of the portal's read counts (`popularityTableSchema.portal`), in ms. */
export const PORTAL_BUCKET_MS = 5 * 60_000;

export const popularityTableSchema = z
  .object({
    asOf: z.number().int().nonnegative(),
    halfLifeHours: z.number().positive(),
    /** Every article read before asOf, best first: [page, decayed reads]. */
    entries: z.array(z.tuple([pageSchema, z.number().nonnegative()])),
    /** The same articles' reads decayed with each of `POPULARITY_SCALES_HOURS`: page → one value per scale. */
    scales: z
      .record(pageSchema, z.array(z.number().nonnegative()).length(POPULARITY_SCALES_HOURS.length))
      .default({}),
    /**
     * When a recent-click buffer serves (`entries` are its counts, each page's decayed reads a tie-break
     * below one read): what advancing it with later reads needs. Absent: `entries` are decayed reads.
     */
    buffer: z
      .object({
        /** How many of the latest reads make the buffer. */
        reads: z.number().int().positive(),
        /** The buffer's pages, oldest read first (at most `reads`). */
        pages: z.array(pageSchema),
        /** Every read article's reads decayed with `halfLifeHours` (the tie-break): [page, value]. */
        decayed: z.array(z.tuple([pageSchema, z.number().nonnegative()])),
      })
      .optional(),
    /**
     * When a recent window serves (`entries` are the counts of the reads of its last `minutes` before
     * `asOf`, each page's decayed reads a tie-break below one read): what advancing it needs. Bundles
     * before it carry `buffer` (a count of reads) or neither; never both.
     */
    window: z
      .object({
        minutes: z.number().positive(),
        /** The window's reads, oldest first: [page, timestamp (ms)]. */
        reads: z.array(z.tuple([pageSchema, z.number().int().nonnegative()])),
        /** Every read article's reads decayed with `halfLifeHours` (the tie-break): [page, value]. */
        decayed: z.array(z.tuple([pageSchema, z.number().nonnegative()])),
      })
      .optional(),
    /**
     * The portal's reads per `PORTAL_BUCKET_MS` bucket before `asOf`: [bucket start (ms, a multiple of
     * the width), reads], oldest first; what an article's exposure (`article_log_appeal`) is counted
     * from. Absent in bundles written before it (their networks do not read that feature).
     */
    portal: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  })
  .refine((t) => t.buffer === undefined || t.window === undefined, {
    message: "a popularity table serves a buffer of reads or a window of minutes, not both",
  });
export type PopularityTable = z.infer<typeof popularityTableSchema>;

export const covisitationTableSchema = z.object({
  /** Neighbours kept per article. */
  topK: z.number().int().positive(),
  /** page → [[neighbour, score], …], best first. */
  neighbours: z.record(pageSchema, z.array(z.tuple([pageSchema, z.number().nonnegative()]))),
});
export type CovisitationTable = z.infer<typeof covisitationTableSchema>;

/** Offline figures of one method on one population of one split. */
export const evaluationFiguresSchema = z.object({
  ndcg10: z.number(),
  hr10: z.number(),
  recall10: z.number(),
  mrr: z.number(),
  coverage: z.number(),
  novelty: z.number(),
  readers: z.number().int().nonnegative(),
});
export type EvaluationFigures = z.infer<typeof evaluationFiguresSchema>;

/** The baselines a bundle may serve instead of a network (their scorers: `recommend/baseline-scorers.ts`). */
export const BASELINE_NAMES = [
  /** Recency-decayed popularity, half-life tuned. */
  "popularity",
  /** The articles most clicked among the portal's reads of the last M minutes (or, in older bundles, its last N reads; tuned). */
  "recent-buffer",
  /** Popularity weighted by the reader's share of reads in the article's section and region (weight tuned). */
  "section-region-popularity",
  /** Co-visitation with the reader's recent reads, then popularity. */
  "covisitation",
  /** The api's /coldstart order: co-visited, then the recent reads' sections, then their regions, then popularity. */
  "coldstart",
] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** What ranks a bundle's candidates: its network (a model), or a baseline with its tuned parameters. */
export const bundleStrategySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("model") }),
  z.object({
    kind: z.literal("baseline"),
    name: z.enum(BASELINE_NAMES),
    params: z.record(z.string(), z.number()),
  }),
]);
export type BundleStrategy = z.infer<typeof bundleStrategySchema>;

/** `bundle.json`. */
export const bundleManifestSchema = z
  .object({
    schemaVersion: z.literal(BUNDLE_SCHEMA_VERSION),
    featureSchemaVersion: z.literal(FEATURE_SCHEMA_VERSION),
    createdAt: z.iso.datetime(),
    /** The snapshot the bundle was trained on (lineage). */
    snapshot: z.object({ snapshotId: z.string().min(1), manifestKey: z.string().min(1), digest: z.string() }),
    /** "Now" of the candidate structures and of article ages when serving starts. */
    asOf: z.number().int().nonnegative(),
    inputs: z.array(
      z.object({
        name: z.string(),
        dtype: z.enum(["int32", "float32"]),
        shape: z.array(z.number().int().positive().nullable()),
      }),
    ),
    /** The network's numeric columns (as its normalisation's features). */
    numericFeatures: featureColumnsSchema,
    recentReads: z.number().int().positive(),
    /** Candidate generation the ranker was trained and evaluated with. */
    candidates: z.object({
      popular: z.number().int().nonnegative(),
      covisited: z.number().int().nonnegative(),
      contentSimilar: z.number().int().nonnegative(),
      /** Fresh articles popular in the reader's own sections and regions; absent (bundles before it) = 0. */
      scoped: z.number().int().nonnegative().default(0),
      /** Only articles issued within this many hours of asOf enter the popular pool (fresh). */
      freshHours: z.number().positive(),
      popularityHalfLifeHours: z.number().positive(),
    }),
    /** A model's bundle has the network files; a baseline's only the candidate structures. */
    strategy: bundleStrategySchema.default({ kind: "model" }),
    files: z.object({
      tfjsModel: z.string().optional(),
      kerasH5: z.string().optional(),
      vocabularies: z.string().optional(),
      normalisation: z.string().optional(),
      popularity: z.string(),
      covisitation: z.string(),
    }),
    /** Training parameters (seed, epochs, …), for the record. */
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  })
  .refine(
    (m) =>
      m.strategy.kind === "baseline" ||
      (m.files.tfjsModel !== undefined &&
        m.files.kerasH5 !== undefined &&
        m.files.vocabularies !== undefined &&
        m.files.normalisation !== undefined),
    {
      message: "a model bundle names its tfjsModel, kerasH5, vocabularies and normalisation files",
      path: ["files"],
    },
  );
export type BundleManifest = z.infer<typeof bundleManifestSchema>;
