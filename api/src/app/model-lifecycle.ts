import {
  AppError,
  type BundleManifest,
  bundleManifestSchema,
  FEATURE_SCHEMA_VERSION,
  type Logger,
  toAppError,
} from "@gplay/common";
import type { SwitchableModelProvider } from "./model.js";
import type { ModelRegistry, Ranker, RegistryVersion } from "./ports.js";

export interface ModelLifecycleDeps {
  registry: ModelRegistry;
  provider: SwitchableModelProvider;
  /** Reads a downloaded bundle directory into a ranker holding everything in memory. */
  openBundle: (dir: string, manifest: BundleManifest, version: string) => Promise<Ranker>;
  logger?: Logger;
}

export type RefreshOutcome =
  | { outcome: "loaded"; version: string; previous: string | null }
  | { outcome: "unchanged"; version: string }
  | { outcome: "none"; reason: string }
  | { outcome: "refused"; version: string; reason: string }
  | { outcome: "failed"; reason: string };

/**
 * Keeps the served model in step with the registry. Each refresh asks which version is promoted
 * (`@champion`, else stage Production); a new one is downloaded (bundle.json first, validated, with
 * the feature schema this service builds), loaded fully in memory and only then swapped in — one
 * reference assignment in the provider, so requests already holding the old ranker finish on it
 * and every later one uses the new one. Any failure keeps the current model (logged; retried at the
 * next poll). Before any model loads, the provider's reason tells `/readyz` why there is none.
 */
export class ModelLifecycle {
  #current: Ranker | undefined;
  /** Versions whose bundle cannot be served, with why (not downloaded again). */
  readonly #refused = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RefreshOutcome> | undefined;
  #lastOutcome: RefreshOutcome | undefined;

  constructor(private readonly deps: ModelLifecycleDeps) {}

  get servedVersion(): string | null {
    return this.#current?.modelVersion ?? null;
  }

  get lastOutcome(): RefreshOutcome | undefined {
    return this.#lastOutcome;
  }

  /** One poll; concurrent calls share it. Never throws. */
  refresh(): Promise<RefreshOutcome> {
    this.#running ??= this.#refresh()
      .then((outcome) => {
        this.#lastOutcome = outcome;
        return outcome;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Polls every `intervalMs` (the first poll is the caller's `refresh()`). */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => {
      void this.refresh();
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #refresh(): Promise<RefreshOutcome> {
    const { registry, logger } = this.deps;
    let version: RegistryVersion | undefined;
    try {
      version = await registry.champion();
    } catch (error) {
      return this.#failed(error, "the model registry is unreachable");
    }
    if (version === undefined) {
      const reason = "no model version has the @champion alias (or stage Production) in the registry";
      if (this.#current === undefined) this.deps.provider.unset(reason);
      else
        logger?.warn(
          { event: "model-champion-missing", served: this.#current.modelVersion },
          `${reason}; keeping the served model`,
        );
      return { outcome: "none", reason };
    }
    if (version.version === this.#current?.modelVersion)
      return { outcome: "unchanged", version: version.version };
    const refused = this.#refused.get(version.version);
    if (refused !== undefined) return this.#refuse(version, refused, false);

    let manifest: BundleManifest;
    try {
      manifest = parseManifest(await registry.fetchManifest(version), version.version);
    } catch (error) {
      if (error instanceof AppError && error.code === "UNSUPPORTED_INPUT")
        return this.#refuse(version, error.message, true);
      return this.#failed(error, `bundle.json of model version ${version.version} could not be fetched`);
    }
    const startedAt = Date.now();
    let ranker: Ranker;
    try {
      ranker = await registry.withBundle(version, (dir) =>
        this.deps.openBundle(dir, manifest, version.version),
      );
    } catch (error) {
      if (error instanceof AppError && error.code === "UNSUPPORTED_INPUT")
        return this.#refuse(version, error.message, true);
      return this.#failed(error, `model version ${version.version} could not be loaded`);
    }
    const previous = this.#current?.modelVersion ?? null;
    this.#current = ranker;
    this.deps.provider.set(ranker); // the swap: one reference assignment
    logger?.info(
      {
        event: "model-loaded",
        modelVersion: version.version,
        via: version.via,
        previous,
        snapshotId: manifest.snapshot.snapshotId,
        loadMs: Date.now() - startedAt,
      },
      `serving model version ${version.version}`,
    );
    return { outcome: "loaded", version: version.version, previous };
  }

  #failed(error: unknown, what: string): RefreshOutcome {
    const appError = toAppError(error, what);
    const reason = `${what} (${appError.code})`;
    if (this.#current === undefined) this.deps.provider.unset(`${reason}; retrying`);
    this.deps.logger?.warn(
      { event: "model-refresh-failed", err: appError, served: this.#current?.modelVersion ?? null },
      this.#current === undefined ? `${reason}; serving cold start` : `${reason}; keeping the served model`,
    );
    return { outcome: "failed", reason };
  }

  #refuse(version: RegistryVersion, reason: string, log: boolean): RefreshOutcome {
    this.#refused.set(version.version, reason);
    if (this.#current === undefined) this.deps.provider.unset(reason);
    if (log)
      this.deps.logger?.error(
        {
          event: "model-refused",
          modelVersion: version.version,
          served: this.#current?.modelVersion ?? null,
        },
        reason,
      );
    return { outcome: "refused", version: version.version, reason };
  }
}

/**
 * Validates `bundle.json`; a bundle built with other feature definitions is refused with a message
 * saying which versions differ (AppError UNSUPPORTED_INPUT), before any other file is downloaded.
 */
export function parseManifest(raw: unknown, version: string): BundleManifest {
  const featureVersion = (raw as { featureSchemaVersion?: unknown } | null)?.featureSchemaVersion;
  if (featureVersion !== FEATURE_SCHEMA_VERSION)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `Model version ${version} was built with feature schema ${String(featureVersion)}, this API builds features of schema ${FEATURE_SCHEMA_VERSION}: deploy an API that matches, or promote a compatible version`,
      { details: { version, featureSchemaVersion: featureVersion } },
    );
  const parsed = bundleManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new AppError(
      "UNSUPPORTED_INPUT",
      `bundle.json of model version ${version} is invalid: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ")}`,
      { details: { version } },
    );
  return parsed.data;
}
