import {
  AppError,
  type ArticleFeatureSource,
  type BundleManifest,
  buildModelInputs,
  type CovisitationTable,
  candidateLookups,
  type FeatureContext,
  type ForwardPassModel,
  MODEL_INPUTS,
  type ModelInputArrays,
  type Normalisation,
  NUMERIC_FEATURES,
  type PopularityTable,
  RECENT_READS,
  readerProfile,
  unpackContentVector,
  type Vocabularies,
  vocabularyIndex,
} from "@gplay/common";
import type { ArticleMeta } from "../domain/articles.js";
import type { Ranker, ReaderFeatures } from "./ports.js";

/** A model bundle read into memory: everything the ranker needs, no files. */
export interface LoadedBundle {
  manifest: BundleManifest;
  network: ForwardPassModel;
  vocabularies: Vocabularies;
  normalisation: Normalisation;
  popularity: PopularityTable;
  covisitation: CovisitationTable;
}

/** Looks an article up in the serving data (the latest snapshot's metadata). */
export type ArticleLookup = (page: string) => ArticleMeta | undefined;

/**
 * The model's inputs for one reader and candidate list, built with common's shared feature builder
 * (the very function training uses) over the bundle's vocabularies, normalisation and candidate
 * structures. Exported so tests can score the same inputs offline with tfjs.
 */
export class BundleFeatures {
  readonly #lookups: ReturnType<typeof candidateLookups>;
  readonly #vocab: ReturnType<typeof vocabularyIndex>;
  /** Unpacked content vectors per article object (a data refresh brings new objects; old ones are collected). */
  readonly #sources = new WeakMap<ArticleMeta, ArticleFeatureSource>();

  constructor(
    private readonly bundle: LoadedBundle,
    private readonly articles: ArticleLookup,
  ) {
    this.#lookups = candidateLookups(bundle.popularity, bundle.covisitation);
    this.#vocab = vocabularyIndex(bundle.vocabularies);
  }

  /** Feature context of one request: "now" is the reader's reference time (the snapshot's `asOf`). */
  context(referenceMs: number): FeatureContext {
    return {
      asOf: referenceMs,
      article: (page) => this.#source(page),
      popularity: this.#lookups.popularity,
      covisitation: this.#lookups.covisitation,
      vocab: this.#vocab,
      normalisation: this.bundle.normalisation,
    };
  }

  inputs(reader: ReaderFeatures, pages: readonly string[]): ModelInputArrays {
    const context = this.context(reader.referenceMs);
    const profile = readerProfile(reader.interactions, reader.user.userType, context);
    return buildModelInputs(profile, pages, context);
  }

  #source(page: string): ArticleFeatureSource | undefined {
    const meta = this.articles(page);
    if (meta === undefined) return undefined;
    let source = this.#sources.get(meta);
    if (source === undefined) {
      let vector: ArticleFeatureSource["vector"];
      try {
        vector =
          meta.vector === undefined || meta.vector.length === 0
            ? undefined
            : unpackContentVector(meta.vector);
      } catch {
        vector = undefined; // a malformed vector counts as none (similarity 0), as in training
      }
      source = { page: meta.page, section: meta.section, region: meta.region, issued: meta.issued, vector };
      this.#sources.set(meta, source);
    }
    return source;
  }
}

/**
 * Checks that a bundle's network and manifest fit this service's feature builder: the inputs are
 * `MODEL_INPUTS` (names, widths), one `[batch, 1]` output, the same numeric features and recent-read
 * window. Throws AppError UNSUPPORTED_INPUT saying what differs.
 */
export function assertServable(bundle: LoadedBundle, version: string): void {
  const problems: string[] = [];
  const { network, manifest } = bundle;
  for (const expected of MODEL_INPUTS) {
    const input = network.inputs.find((i) => i.name === expected.name);
    const width = expected.shape[1] as number;
    if (input === undefined) problems.push(`the network has no input ${expected.name}`);
    else if (input.shape.length !== 1 || input.shape[0] !== width)
      problems.push(`input ${expected.name} has shape [${input.shape.join(", ")}], expected [${width}]`);
  }
  if (network.inputs.length !== MODEL_INPUTS.length)
    problems.push(`the network has ${network.inputs.length} inputs, expected ${MODEL_INPUTS.length}`);
  if (network.outputShapes.length !== 1 || network.outputShapes[0]?.join() !== "1")
    problems.push(`the network's output is not one [batch, 1] score`);
  if (manifest.numericFeatures.join() !== NUMERIC_FEATURES.join())
    problems.push("bundle.json numericFeatures differ from this service's NUMERIC_FEATURES");
  if (manifest.recentReads !== RECENT_READS)
    problems.push(
      `bundle.json recentReads is ${manifest.recentReads}, the feature builder uses ${RECENT_READS}`,
    );
  if (problems.length > 0)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `Model version ${version} cannot be served: ${problems.join("; ")}`,
      {
        details: { version, problems },
      },
    );
}

/**
 * The ranker of one model version: shared feature builder → the bundle's network run by common's
 * forward-pass interpreter, all candidates of a request in one batch. Holds the whole bundle in
 * memory, so swapping it in is one reference assignment.
 */
export class BundleRanker implements Ranker {
  readonly features: BundleFeatures;

  constructor(
    readonly modelVersion: string,
    private readonly bundle: LoadedBundle,
    articles: ArticleLookup,
  ) {
    assertServable(bundle, modelVersion);
    this.features = new BundleFeatures(bundle, articles);
  }

  async rank(reader: ReaderFeatures, candidates: readonly ArticleMeta[]): Promise<number[]> {
    return this.scoreSync(
      reader,
      candidates.map((c) => c.page),
    );
  }

  /** Scores pages synchronously (the forward pass is CPU-only). */
  scoreSync(reader: ReaderFeatures, pages: readonly string[]): number[] {
    if (pages.length === 0) return [];
    const x = this.features.inputs(reader, pages);
    const [scores] = this.bundle.network.predict(
      { article_section: x.article_section, article_region: x.article_region, numeric: x.numeric },
      x.rows,
    );
    return Array.from(scores as Float32Array);
  }
}
