import {
  AppError,
  type ArticleCatalogue,
  bundleLivePopularity,
  bundleWorlds,
  type LivePopularity,
  type LoadedBundle,
  MODEL_INPUTS,
  type PopularityTables,
  RECENT_READS,
  type Recommendation,
  type RecommendationWorld,
  readerProfile,
  recommend,
  type Scorer,
  scorerOf,
} from "@gplay/common";
import type { LiveWorld, Ranker, RankerInput, RankOptions } from "./ports.js";

/**
 * Checks that a bundle's network and manifest fit this service's feature builder: the inputs are
 * `MODEL_INPUTS` (names, widths; the numeric input as wide as the bundle's feature columns, which
 * its manifest and normalisation name alike and the schema checks are known features in order), one
 * `[batch, 1]` output and the same recent-read window. Throws AppError UNSUPPORTED_INPUT saying what differs.
 */
export function assertServable(bundle: LoadedBundle, version: string): void {
  const problems: string[] = [];
  const { manifest } = bundle;
  if (manifest.strategy.kind === "baseline") return; // no network: the baseline's scorer is common's
  if (bundle.model === undefined)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `Model version ${version} cannot be served: its network is missing`,
    );
  const { network } = bundle.model;
  for (const expected of MODEL_INPUTS) {
    const input = network.inputs.find((i) => i.name === expected.name);
    // The numeric input is as wide as the bundle's feature columns (bundles before the appeal: 19).
    const width =
      expected.name === "numeric" ? manifest.numericFeatures.length : (expected.shape[1] as number);
    if (input === undefined) problems.push(`the network has no input ${expected.name}`);
    else if (input.shape.length !== 1 || input.shape[0] !== width)
      problems.push(`input ${expected.name} has shape [${input.shape.join(", ")}], expected [${width}]`);
  }
  if (network.inputs.length !== MODEL_INPUTS.length)
    problems.push(`the network has ${network.inputs.length} inputs, expected ${MODEL_INPUTS.length}`);
  if (network.outputShapes.length !== 1 || network.outputShapes[0]?.join() !== "1")
    problems.push(`the network's output is not one [batch, 1] score`);
  if (manifest.numericFeatures.join() !== bundle.model.normalisation.features.join())
    problems.push("bundle.json numericFeatures differ from its normalisation's features");
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
 * One served version: common's recommendation path over the version's world (built by `worldOf` from
 * the articles this task has loaded) with its scorer — the same world and scorer training evaluated.
 * The world is rebuilt when the loaded articles change and, with `live` (the version's popularity
 * tables advanced with the reads `/events` accepted, see `LiveReadsFeed`), when the feed asks: then it
 * is the world of the latest read's time (articles issued since the snapshot included). Until a read
 * after the snapshot arrives, it is exactly the snapshot's world.
 */
export class WorldRanker implements Ranker {
  #world: { catalogue: ArticleCatalogue; world: RecommendationWorld } | undefined;
  readonly #popularity: LivePopularity | undefined;
  readonly live: LiveWorld | undefined;

  constructor(
    readonly modelVersion: string,
    private readonly worldOf: (
      catalogue: ArticleCatalogue,
      readsBefore?: number,
      live?: PopularityTables,
    ) => RecommendationWorld,
    private readonly scorer: Scorer,
    private readonly catalogue: () => ArticleCatalogue,
    popularity?: LivePopularity,
  ) {
    this.live =
      popularity === undefined
        ? undefined
        : {
            observe: (read) => popularity.record(read),
            pending: () => popularity.pending,
            rebuild: () => this.#build(popularity),
          };
    this.#popularity = popularity;
  }

  /** The world of the currently loaded articles (and of the reads counted at the last rebuild). */
  world(): RecommendationWorld {
    if (this.#world?.catalogue !== this.catalogue()) this.#build(this.#popularity);
    return (this.#world as { world: RecommendationWorld }).world;
  }

  /** Builds the world and swaps it in whole: a request sees the old world or the new one. */
  #build(popularity: LivePopularity | undefined): void {
    const catalogue = this.catalogue();
    const world = this.worldOf(catalogue, undefined, popularity?.moved ? popularity.tables() : undefined);
    this.#world = { catalogue, world };
  }

  async recommend(reader: RankerInput, options: RankOptions): Promise<Recommendation> {
    const world = this.world();
    const profile = readerProfile(reader.interactions, reader.userType, world.features);
    return recommend(world, profile, this.scorer, options);
  }
}

/**
 * The ranker of a bundle: its network through common's forward pass (or its baseline's scorer) over
 * the bundle's world (every read in a reader's log counts, clicks recorded since the snapshot included).
 * With `live`, its popularity tables follow the reads the feed gives it.
 */
export function bundleRanker(
  version: string,
  bundle: LoadedBundle,
  catalogue: () => ArticleCatalogue,
  options: { live?: boolean } = {},
): WorldRanker {
  assertServable(bundle, version);
  return new WorldRanker(
    version,
    bundleWorlds(bundle),
    scorerOf(bundle),
    catalogue,
    // The feed admits only loaded articles' reads, so the tables hold catalogue pages only.
    options.live === true ? bundleLivePopularity(bundle, () => true) : undefined,
  );
}
