/**
 * A model's scorer: common's feature builder over the world and the model's vocabularies and
 * normalisation, then the network through common's forward pass. Training evaluates with it and the
 * api serves with it, so a bundle ranks the same pages with the same scores in both.
 */
import type { LoadedBundle } from "../bundle/read-bundle.js";
import type { Normalisation, Vocabularies } from "../contracts/model-bundle.js";
import {
  articleColumns,
  articleKeysOf,
  buildModelInputs,
  type FeatureContext,
  type ModelInputArrays,
  type ReaderProfile,
  type VocabularyIndex,
  vocabularyIndex,
} from "../features/feature-builder.js";
import { type ForwardPassModel, KeyedPartials } from "../features/forward-pass.js";
import { baselineScorer } from "./baseline-scorers.js";
import type { Scorer } from "./recommend.js";
import type { RecommendationWorld } from "./world.js";

export class NetworkScorer implements Scorer {
  readonly #vocab: VocabularyIndex;
  /** The feature context per world (a world is rebuilt when the served data changes). */
  readonly #contexts = new WeakMap<RecommendationWorld, FeatureContext>();
  /** Per feature context, the first layer's sums over each article's own columns (computed once). */
  readonly #partials = new WeakMap<FeatureContext, KeyedPartials>();

  constructor(
    private readonly network: ForwardPassModel,
    vocabularies: Vocabularies,
    private readonly normalisation: Normalisation,
  ) {
    this.#vocab = vocabularyIndex(vocabularies);
  }

  /** The full feature context of `world` for this model. */
  context(world: RecommendationWorld): FeatureContext {
    let context = this.#contexts.get(world);
    if (context === undefined) {
      context = { ...world.features, vocab: this.#vocab, normalisation: this.normalisation };
      this.#contexts.set(world, context);
    }
    return context;
  }

  score(profile: ReaderProfile, pages: readonly string[], world: RecommendationWorld): Float32Array {
    if (pages.length === 0) return new Float32Array(0);
    const context = this.context(world);
    return this.forward(buildModelInputs(profile, pages, context), context);
  }

  /**
   * The network's scores of inputs built with `context`: one batched forward pass, the first layer's
   * sums over each article's own columns reused within the context (`KeyedRows`).
   */
  forward(x: ModelInputArrays, context: FeatureContext): Float32Array {
    let partials = this.#partials.get(context);
    if (partials === undefined) {
      partials = new KeyedPartials();
      this.#partials.set(context, partials);
    }
    const keys = articleKeysOf(x);
    const [scores] = this.network.predict(
      { article_section: x.article_section, article_region: x.article_region, numeric: x.numeric },
      x.rows,
      keys === undefined ? undefined : { keys, columns: articleColumns(context), partials },
    );
    return scores as Float32Array;
  }
}

/**
 * The scorer a bundle names: its network (a model) or its baseline with the tuned parameters. Throws
 * when a model bundle came without its network.
 */
export function scorerOf(bundle: Pick<LoadedBundle, "manifest" | "model">): Scorer {
  const { strategy } = bundle.manifest;
  if (strategy.kind === "baseline") return baselineScorer(strategy.name, strategy.params);
  if (bundle.model === undefined) throw new Error("a model bundle without its network cannot rank");
  return new NetworkScorer(bundle.model.network, bundle.model.vocabularies, bundle.model.normalisation);
}
