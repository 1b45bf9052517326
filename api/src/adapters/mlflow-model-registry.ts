import { mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { AppError, BUNDLE_FILES, CHAMPION_ALIAS, isAppError } from "@gplay/common";
import { type MlflowClient, proxyPathOf, type ResolvedModel, relativeArtifactPath } from "@gplay/mlflow";
import type { ModelRegistry, RegistryVersion } from "../app/ports.js";

export interface MlflowModelRegistryOptions {
  /** Registered model name (`GPLAY_MODEL_NAME`). */
  modelName: string;
  /** Alias of the served version. */
  alias?: string;
  /** Stage read when the alias is not set (MLflow's deprecated stage workflow); null: none (the challenger). */
  fallbackStage?: "Production" | null;
  /** Parent of the temporary download directories. */
  workDir: string;
}

/** Where a resolved version's bundle sits among its run's artifacts. */
interface Located extends RegistryVersion {
  runId: string | undefined;
  /** Folder of the bundle inside the run's artifacts ("" = the artifact root). */
  artifactDir: string;
  uri: string;
}

/**
 * The model registry on MLflow: resolves `models:/<name>@champion` (falling back to
 * `models:/<name>/Production`) with `@gplay/mlflow` and downloads the version's bundle through the
 * server's artifact proxy — `bundle.json` alone first, the rest only once it is accepted.
 */
export class MlflowModelRegistry implements ModelRegistry {
  readonly #located = new Map<string, Located>();

  constructor(
    private readonly client: MlflowClient,
    private readonly options: MlflowModelRegistryOptions,
  ) {}

  async champion(): Promise<RegistryVersion | undefined> {
    const { modelName } = this.options;
    const alias = this.options.alias ?? CHAMPION_ALIAS;
    const stage = this.options.fallbackStage === undefined ? "Production" : this.options.fallbackStage;
    let resolved: ResolvedModel | undefined;
    let via: RegistryVersion["via"] = "alias";
    try {
      resolved = await this.client.resolveModelUri(`models:/${modelName}@${alias}`);
    } catch (error) {
      if (!isAppError(error, "NOT_FOUND")) throw translate(error, "resolving the @champion model");
    }
    if (resolved === undefined && stage === null) return undefined;
    if (resolved === undefined) {
      via = "stage";
      try {
        resolved = await this.client.resolveModelUri(`models:/${modelName}/${stage}`);
      } catch (error) {
        if (isAppError(error, "NOT_FOUND")) return undefined;
        throw translate(error, `resolving the ${stage} model`);
      }
    }
    const runId = resolved.modelVersion.run_id || undefined;
    let artifactDir = "";
    if (runId !== undefined) {
      try {
        const runRoot = proxyPathOf(await this.client.runArtifactUri(runId));
        artifactDir = relativeArtifactPath(runRoot, resolved.proxyPath);
      } catch (error) {
        throw translate(error, `locating the artifacts of run ${runId}`);
      }
    }
    const located: Located = {
      name: resolved.name,
      version: resolved.version,
      via,
      runId,
      artifactDir,
      uri: resolved.uri,
    };
    this.#located.set(resolved.version, located);
    return { name: located.name, version: located.version, via };
  }

  async fetchManifest(version: RegistryVersion): Promise<unknown> {
    const located = this.#locate(version);
    const dir = await mkdtemp(path.join(this.options.workDir, `manifest-${version.version}-`));
    try {
      const file = path.join(dir, BUNDLE_FILES.manifest);
      if (located.runId !== undefined) {
        await this.client.downloadArtifact(
          located.runId,
          located.artifactDir === ""
            ? BUNDLE_FILES.manifest
            : `${located.artifactDir}/${BUNDLE_FILES.manifest}`,
          file,
        );
      } else {
        await this.client.downloadModel(`models:/${version.name}/${version.version}`, dir);
      }
      try {
        return JSON.parse(await readFile(file, "utf8"));
      } catch (error) {
        throw new AppError(
          "UNSUPPORTED_INPUT",
          `Model version ${version.version} has no readable ${BUNDLE_FILES.manifest}: is it a GPlay bundle?`,
          { cause: error },
        );
      }
    } catch (error) {
      throw translate(error, `downloading bundle.json of version ${version.version}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async withBundle<T>(version: RegistryVersion, open: (dir: string) => Promise<T>): Promise<T> {
    const located = this.#locate(version);
    const dir = await mkdtemp(path.join(this.options.workDir, `bundle-${version.version}-`));
    try {
      try {
        if (located.runId !== undefined)
          await this.client.downloadArtifacts(located.runId, located.artifactDir, dir);
        else await this.client.downloadModel(`models:/${version.name}/${version.version}`, dir);
      } catch (error) {
        throw translate(error, `downloading the bundle of version ${version.version}`);
      }
      return await open(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  #locate(version: RegistryVersion): Located {
    const located = this.#located.get(version.version);
    if (located === undefined)
      throw new AppError("INTERNAL", `Version ${version.version} was not resolved by champion() first`);
    return located;
  }
}

/** Keeps AppErrors (the client already translated HTTP failures); anything else becomes one. */
function translate(error: unknown, doing: string): AppError {
  if (error instanceof AppError) return error;
  return new AppError("UPSTREAM_FAILED", `MLflow registry failed while ${doing}`, { cause: error });
}
