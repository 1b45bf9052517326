/**
 * A typed client of the MLflow tracking server's REST API, for training jobs and the API:
 * experiments, runs, artifacts (through the server's proxy), the model registry and `models:/` URIs.
 * https://mlflow.org/docs/latest/api_reference/rest-api.html
 */
import { createReadStream } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { AppError, type Logger } from "@gplay/common";
import { HttpTransport } from "./adapters/http-transport.js";
import { DEFAULT_TIMEOUT_MS, type MlflowClientConfig, retryPolicyOf } from "./config.js";
import {
  ArtifactUriError,
  joinArtifactPath,
  normalizeArtifactPath,
  proxyPathOf,
  proxyUrlPath,
  relativeArtifactPath,
} from "./domain/artifact-uri.js";
import {
  BatchTooLargeError,
  type KeyValue,
  type MetricEntry,
  metricToWire,
  splitLogBatch,
} from "./domain/batch.js";
import {
  formatModelUri,
  type ModelReference,
  type ModelStage,
  ModelUriError,
  parseModelUri,
} from "./domain/model-uri.js";
import {
  createExperimentResponse,
  type Dataset,
  downloadUriResponse,
  type Experiment,
  emptyResponse,
  type FileInfo,
  getExperimentResponse,
  listArtifactsResponse,
  loggedModelResponse,
  type Metric,
  type ModelVersion,
  metricHistoryResponse,
  modelVersionResponse,
  modelVersionsResponse,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  registeredModelResponse,
  runResponse,
  updateRunResponse,
} from "./schemas.js";

const API = "/api/2.0/mlflow";

export interface Tags {
  [key: string]: string;
}

function toKeyValues(tags: Tags | undefined): KeyValue[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

export interface CreateRunInput {
  experimentId: string;
  runName?: string;
  /** Milliseconds since the epoch; now by default. */
  startTime?: number;
  tags?: Tags;
}

export interface LogBatchInput {
  metrics?: readonly MetricEntry[];
  params?: readonly KeyValue[] | Readonly<Record<string, string>>;
  tags?: readonly KeyValue[] | Readonly<Record<string, string>>;
}

export interface DatasetInputSpec {
  dataset: Dataset;
  /** E.g. `{ "mlflow.data.context": "train" }`. */
  tags?: Tags;
}

export interface CreateModelVersionInput {
  name: string;
  /** Where the model's files are: the run's artifact path (see `runArtifactUri`). */
  source: string;
  /** The run that produced it, for lineage. */
  runId?: string;
  description?: string;
  tags?: Tags;
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

/** A `models:/` URI resolved to one version and the proxy location of its files. */
export interface ResolvedModel {
  uri: string;
  reference: ModelReference;
  name: string;
  version: string;
  modelVersion: ModelVersion;
  /** The artifact URI the registry reports for the version's files. */
  artifactUri: string;
  /** The same location as a path of the server's artifact proxy. */
  proxyPath: string;
}

export interface DownloadedModel extends ResolvedModel {
  localDir: string;
  /** Downloaded files, relative to `localDir`, with `/` separators. */
  files: string[];
}

function keyValuesOf(input: readonly KeyValue[] | Readonly<Record<string, string>> | undefined): KeyValue[] {
  if (input === undefined) return [];
  if (Array.isArray(input)) return [...(input as readonly KeyValue[])];
  return toKeyValues(input as Tags);
}

async function listFilesRecursively(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/** The MLflow REST client. Construct once (in `main.ts`) and share; it holds no per-call state. */
export class MlflowClient {
  private readonly transport: HttpTransport;
  /** Run id → proxy path of its artifact root (never changes for a run). */
  private readonly artifactRoots = new Map<string, string>();

  constructor(config: MlflowClientConfig, logger?: Logger) {
    this.transport = new HttpTransport({
      baseUrl: config.trackingUri,
      ...(config.auth === undefined ? {} : { auth: config.auth }),
      ...(config.caPem === undefined ? {} : { caPem: config.caPem }),
      timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: retryPolicyOf(config),
      ...(logger === undefined ? {} : { logger: logger.child({ component: "mlflow-client" }) }),
    });
  }

  // ---------------------------------------------------------------- experiments

  /** The experiment of that name; NOT_FOUND when there is none. */
  async getExperimentByName(name: string): Promise<Experiment> {
    const res = await this.transport.json({
      operation: "experiments/get-by-name",
      method: "GET",
      path: `${API}/experiments/get-by-name`,
      query: { experiment_name: name },
      schema: getExperimentResponse,
      idempotent: true,
    });
    return res.experiment;
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const res = await this.transport.json({
      operation: "experiments/get",
      method: "GET",
      path: `${API}/experiments/get`,
      query: { experiment_id: experimentId },
      schema: getExperimentResponse,
      idempotent: true,
    });
    return res.experiment;
  }

  /** Creates an experiment and returns its id; CONFLICT when the name is taken. */
  async createExperiment(
    name: string,
    options: { artifactLocation?: string; tags?: Tags } = {},
  ): Promise<string> {
    const res = await this.transport.json({
      operation: "experiments/create",
      method: "POST",
      path: `${API}/experiments/create`,
      body: { name, artifact_location: options.artifactLocation, tags: toKeyValues(options.tags) },
      schema: createExperimentResponse,
      idempotent: false,
    });
    return res.experiment_id;
  }

  /** The experiment's id, creating it when missing (a concurrent creator's experiment is reused). */
  async getOrCreateExperiment(name: string, options: { tags?: Tags } = {}): Promise<string> {
    try {
      return (await this.getExperimentByName(name)).experiment_id;
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "NOT_FOUND") throw error;
    }
    try {
      return await this.createExperiment(name, options);
    } catch (error) {
      if (error instanceof AppError && error.code === "CONFLICT") {
        return (await this.getExperimentByName(name)).experiment_id;
      }
      throw error;
    }
  }

  /** Moves an experiment (and its runs) to the deleted lifecycle stage. */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.transport.json({
      operation: "experiments/delete",
      method: "POST",
      path: `${API}/experiments/delete`,
      body: { experiment_id: experimentId },
      schema: emptyResponse,
      idempotent: false,
    });
  }

  // ---------------------------------------------------------------- runs

  /** Starts a run (status RUNNING). Never retried after the request was sent: it is not idempotent. */
  async createRun(input: CreateRunInput): Promise<Run> {
    const res = await this.transport.json({
      operation: "runs/create",
      method: "POST",
      path: `${API}/runs/create`,
      body: {
        experiment_id: input.experimentId,
        run_name: input.runName,
        start_time: input.startTime ?? Date.now(),
        tags: toKeyValues(input.tags),
      },
      schema: runResponse,
      idempotent: false,
    });
    this.rememberArtifactRoot(res.run.info);
    return res.run;
  }

  async getRun(runId: string): Promise<Run> {
    const res = await this.transport.json({
      operation: "runs/get",
      method: "GET",
      path: `${API}/runs/get`,
      query: { run_id: runId },
      schema: runResponse,
      idempotent: true,
    });
    this.rememberArtifactRoot(res.run.info);
    return res.run;
  }

  /** Sets a run's status (and end time, by default now for terminal statuses) or its name. */
  async updateRun(
    runId: string,
    update: { status?: RunStatus; endTime?: number; runName?: string },
  ): Promise<RunInfo> {
    const terminal = update.status === "FINISHED" || update.status === "FAILED" || update.status === "KILLED";
    const res = await this.transport.json({
      operation: "runs/update",
      method: "POST",
      path: `${API}/runs/update`,
      body: {
        run_id: runId,
        status: update.status,
        end_time: update.endTime ?? (terminal ? Date.now() : undefined),
        run_name: update.runName,
      },
      schema: updateRunResponse,
      idempotent: true,
    });
    return res.run_info;
  }

  /**
   * Logs metrics, params and tags, split into as many log-batch requests as MLflow's limits need
   * (1000 metrics, 100 params, 100 tags, 1000 entities, 1 MB each). Returns the number of requests.
   * Each request is retried on transient failures: logging the same values again changes nothing.
   */
  async logBatch(runId: string, input: LogBatchInput): Promise<number> {
    let chunks: ReturnType<typeof splitLogBatch>;
    try {
      chunks = splitLogBatch(runId, {
        metrics: input.metrics ?? [],
        params: keyValuesOf(input.params),
        tags: keyValuesOf(input.tags),
      });
    } catch (error) {
      if (error instanceof BatchTooLargeError) {
        throw new AppError("PAYLOAD_TOO_LARGE", error.message, { cause: error, details: { runId } });
      }
      throw error;
    }
    for (const chunk of chunks) {
      await this.transport.json({
        operation: "runs/log-batch",
        method: "POST",
        path: `${API}/runs/log-batch`,
        body: {
          run_id: runId,
          metrics: chunk.metrics.map(metricToWire),
          params: chunk.params,
          tags: chunk.tags,
        },
        schema: emptyResponse,
        idempotent: true,
      });
    }
    return chunks.length;
  }

  /** Every logged value of one metric, in step order. */
  async getMetricHistory(runId: string, metricKey: string): Promise<Metric[]> {
    const all: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.transport.json({
        operation: "metrics/get-history",
        method: "GET",
        path: `${API}/metrics/get-history`,
        query: { run_id: runId, metric_key: metricKey, max_results: 25_000, page_token: pageToken },
        schema: metricHistoryResponse,
        idempotent: true,
      });
      all.push(...res.metrics);
      pageToken = res.next_page_token || undefined;
    } while (pageToken !== undefined);
    return all.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  /** Records the datasets a run read (lineage), shown in the run's "Datasets used". */
  async logInputs(runId: string, datasets: readonly DatasetInputSpec[]): Promise<void> {
    await this.transport.json({
      operation: "runs/log-inputs",
      method: "POST",
      path: `${API}/runs/log-inputs`,
      body: {
        run_id: runId,
        datasets: datasets.map((d) => ({ dataset: d.dataset, tags: toKeyValues(d.tags) })),
      },
      schema: emptyResponse,
      // The server keeps one input per (dataset digest, name) and run: sending it again is a no-op.
      idempotent: true,
    });
  }

  // ---------------------------------------------------------------- artifacts

  /** The URI to register as a model version's `source` for files under `artifactPath` of a run. */
  async runArtifactUri(runId: string, artifactPath = ""): Promise<string> {
    const run = await this.getRun(runId);
    const path = normalizeArtifactPath(artifactPath);
    const root = run.info.artifact_uri.replace(/\/+$/, "");
    return path === "" ? root : `${root}/${path}`;
  }

  /**
   * Uploads one local file, streamed from disk, as `<artifactDir>/<file name>` of the run
   * (or at `artifactPath` exactly when `asPath` is set). Returns the artifact path.
   */
  async uploadArtifact(
    runId: string,
    localFile: string,
    options: { artifactDir?: string; asPath?: string } = {},
  ): Promise<string> {
    const info = await stat(localFile);
    if (!info.isFile()) throw new AppError("UNSUPPORTED_INPUT", `"${localFile}" is not a file`);
    const name = localFile.split(sep).pop() ?? localFile;
    const artifactPath = normalizeArtifactPath(
      options.asPath ?? joinArtifactPath(options.artifactDir ?? "", name),
    );
    const root = await this.artifactRoot(runId);
    await this.transport.upload(
      "mlflow-artifacts/upload",
      proxyUrlPath(joinArtifactPath(root, artifactPath)),
      () => createReadStream(localFile, { highWaterMark: 1024 * 1024 }),
      info.size,
    );
    return artifactPath;
  }

  /** Uploads every file under `localDir` to `artifactDir` of the run, one streamed request each. */
  async uploadArtifacts(runId: string, localDir: string, artifactDir = ""): Promise<string[]> {
    const files = await listFilesRecursively(localDir);
    const uploaded: string[] = [];
    for (const file of files) {
      uploaded.push(
        await this.uploadArtifact(runId, join(localDir, ...file.split("/")), {
          asPath: joinArtifactPath(artifactDir, file),
        }),
      );
    }
    return uploaded;
  }

  /** The files and folders directly under `path` of the run's artifacts (paths relative to the run). */
  async listArtifacts(runId: string, path = ""): Promise<FileInfo[]> {
    const root = await this.artifactRoot(runId);
    const dir = normalizeArtifactPath(path);
    return (await this.listProxy(joinArtifactPath(root, dir))).map((f) => ({
      ...f,
      path: joinArtifactPath(dir, f.path),
    }));
  }

  /** Streams one artifact of a run to `destinationFile` (parent folders created). */
  async downloadArtifact(runId: string, path: string, destinationFile: string): Promise<string> {
    const root = await this.artifactRoot(runId);
    await mkdir(dirname(destinationFile), { recursive: true });
    await this.transport.downloadToFile(
      "mlflow-artifacts/download",
      proxyUrlPath(joinArtifactPath(root, path)),
      destinationFile,
    );
    return destinationFile;
  }

  /** Downloads every file under `path` of the run's artifacts into `destinationDir`. */
  async downloadArtifacts(runId: string, path: string, destinationDir: string): Promise<string[]> {
    const root = await this.artifactRoot(runId);
    return this.downloadProxyTree(joinArtifactPath(root, path), destinationDir);
  }

  // ---------------------------------------------------------------- registry

  /** Creates a registered model; CONFLICT when the name exists. */
  async createRegisteredModel(
    name: string,
    options: { description?: string; tags?: Tags } = {},
  ): Promise<RegisteredModel> {
    const res = await this.transport.json({
      operation: "registered-models/create",
      method: "POST",
      path: `${API}/registered-models/create`,
      body: { name, description: options.description, tags: toKeyValues(options.tags) },
      schema: registeredModelResponse,
      idempotent: false,
    });
    return res.registered_model;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const res = await this.transport.json({
      operation: "registered-models/get",
      method: "GET",
      path: `${API}/registered-models/get`,
      query: { name },
      schema: registeredModelResponse,
      idempotent: true,
    });
    return res.registered_model;
  }

  /** Deletes a registered model with all its versions and aliases. */
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.transport.json({
      operation: "registered-models/delete",
      method: "DELETE",
      path: `${API}/registered-models/delete`,
      body: { name },
      schema: emptyResponse,
      idempotent: false,
    });
  }

  /**
   * Creates a version of a registered model from files already uploaded (`source`, normally
   * `runArtifactUri(runId, "model")`, sent with `run_id`). Not retried once sent: a repeat would
   * create a second version.
   */
  async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion> {
    const res = await this.transport.json({
      operation: "model-versions/create",
      method: "POST",
      path: `${API}/model-versions/create`,
      body: {
        name: input.name,
        source: input.source,
        run_id: input.runId,
        description: input.description,
        tags: toKeyValues(input.tags),
      },
      schema: modelVersionResponse,
      idempotent: false,
    });
    return res.model_version;
  }

  async getModelVersion(name: string, version: string | number): Promise<ModelVersion> {
    const res = await this.transport.json({
      operation: "model-versions/get",
      method: "GET",
      path: `${API}/model-versions/get`,
      query: { name, version: String(version) },
      schema: modelVersionResponse,
      idempotent: true,
    });
    return res.model_version;
  }

  /**
   * Polls a version until it is READY; UPSTREAM_FAILED when registration failed, TIMEOUT when it
   * is still pending after `timeoutMs` (default 5 min).
   */
  async waitForModelVersionReady(
    name: string,
    version: string | number,
    options: WaitOptions = {},
  ): Promise<ModelVersion> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const pollMs = options.pollMs ?? 1_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mv = await this.getModelVersion(name, version);
      if (mv.status === "READY") return mv;
      if (mv.status === "FAILED_REGISTRATION") {
        throw new AppError(
          "UPSTREAM_FAILED",
          `Model ${name} version ${mv.version} failed registration: ${mv.status_message ?? "no reason given"}`,
          { details: { name, version: mv.version } },
        );
      }
      if (Date.now() + pollMs > deadline) {
        throw new AppError(
          "TIMEOUT",
          `Model ${name} version ${mv.version} is still ${mv.status} after ${timeoutMs} ms; check the server's logs`,
          { details: { name, version: mv.version, status: mv.status } },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /**
   * Registers files a run uploaded as a new version of `name` (creating the registered model when
   * missing) and waits until the version is READY.
   */
  async registerModel(
    name: string,
    runId: string,
    artifactPath: string,
    options: { description?: string; tags?: Tags; wait?: WaitOptions } = {},
  ): Promise<ModelVersion> {
    try {
      await this.createRegisteredModel(name);
    } catch (error) {
      if (!(error instanceof AppError && error.code === "CONFLICT")) throw error;
    }
    const mv = await this.createModelVersion({
      name,
      source: await this.runArtifactUri(runId, artifactPath),
      runId,
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.tags === undefined ? {} : { tags: options.tags }),
    });
    return this.waitForModelVersionReady(name, mv.version, options.wait);
  }

  /** Points `alias` (e.g. "champion") at a version; setting the same value again is a no-op. */
  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    await this.transport.json({
      operation: "registered-models/alias:set",
      method: "POST",
      path: `${API}/registered-models/alias`,
      body: { name, alias, version: String(version) },
      schema: emptyResponse,
      idempotent: true,
    });
  }

  /** The version an alias points to; NOT_FOUND when the alias (or model) does not exist. */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    try {
      const res = await this.transport.json({
        operation: "registered-models/alias:get",
        method: "GET",
        path: `${API}/registered-models/alias`,
        query: { name, alias },
        schema: modelVersionResponse,
        idempotent: true,
      });
      return res.model_version;
    } catch (error) {
      // MLflow 3.17 answers an alias that is not set with 400 INVALID_PARAMETER_VALUE ("Registered
      // model alias <a> not found"), not RESOURCE_DOES_NOT_EXIST: it is a missing resource to us.
      if (
        error instanceof AppError &&
        error.code === "VALIDATION_FAILED" &&
        /alias .* not found/i.test(String(error.details.serverMessage ?? ""))
      ) {
        throw new AppError("NOT_FOUND", `Model "${name}" has no alias "${alias}": ${error.message}`, {
          cause: error,
          details: { ...error.details, name, alias },
        });
      }
      throw error;
    }
  }

  /** Sets one tag on a model version (the registry shows it beside the version). */
  async setModelVersionTag(
    name: string,
    version: string | number,
    key: string,
    value: string,
  ): Promise<void> {
    await this.transport.json({
      operation: "model-versions:set-tag",
      method: "POST",
      path: `${API}/model-versions/set-tag`,
      body: { name, version: String(version), key, value },
      schema: emptyResponse,
      idempotent: true,
    });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.transport.json({
      operation: "registered-models/alias:delete",
      method: "DELETE",
      path: `${API}/registered-models/alias`,
      // MLflow reads DELETE parameters from a JSON body (only GET reads the query string).
      body: { name, alias },
      schema: emptyResponse,
      idempotent: true,
    });
  }

  /**
   * Moves a version to a stage (deprecated by MLflow in favour of aliases; kept so
   * `models:/<name>/Production` keeps resolving). With `archiveExistingVersions`, the versions
   * previously in that stage move to Archived.
   * @deprecated Use `setAlias`; aliases are this platform's source of truth.
   */
  async transitionModelVersionStage(
    name: string,
    version: string | number,
    stage: ModelStage,
    archiveExistingVersions = false,
  ): Promise<ModelVersion> {
    const res = await this.transport.json({
      operation: "model-versions/transition-stage",
      method: "POST",
      path: `${API}/model-versions/transition-stage`,
      body: { name, version: String(version), stage, archive_existing_versions: archiveExistingVersions },
      schema: modelVersionResponse,
      idempotent: true,
    });
    return res.model_version;
  }

  /** The newest version in each given stage (all stages when none are given). */
  async getLatestVersions(name: string, stages: readonly ModelStage[] = []): Promise<ModelVersion[]> {
    const res = await this.transport.json({
      operation: "registered-models/get-latest-versions",
      method: "POST",
      path: `${API}/registered-models/get-latest-versions`,
      body: { name, stages },
      schema: modelVersionsResponse,
      idempotent: true,
    });
    return res.model_versions;
  }

  /** The artifact URI of a version's files, as the registry reports it. */
  async getModelVersionDownloadUri(name: string, version: string | number): Promise<string> {
    const res = await this.transport.json({
      operation: "model-versions/get-download-uri",
      method: "GET",
      path: `${API}/model-versions/get-download-uri`,
      query: { name, version: String(version) },
      schema: downloadUriResponse,
      idempotent: true,
    });
    return res.artifact_uri;
  }

  /**
   * Resolves `models:/<name>@<alias>`, `models:/<name>/<stage>`, `models:/<name>/<version>` or
   * `models:/<name>/latest` to one version and the proxied location of its files.
   * NOT_FOUND when the model, alias, stage or version does not exist.
   */
  async resolveModelUri(uri: string): Promise<ResolvedModel> {
    let reference: ModelReference;
    try {
      reference = parseModelUri(uri);
    } catch (error) {
      if (error instanceof ModelUriError)
        throw new AppError("VALIDATION_FAILED", error.message, { cause: error });
      throw error;
    }
    const modelVersion = await this.versionFor(reference);
    const artifactUri = await this.concreteArtifactUri(
      await this.getModelVersionDownloadUri(modelVersion.name, modelVersion.version),
    );
    let proxyPath: string;
    try {
      proxyPath = proxyPathOf(artifactUri);
    } catch (error) {
      if (error instanceof ArtifactUriError) {
        throw new AppError("UNSUPPORTED_INPUT", error.message, {
          cause: error,
          details: { uri, artifactUri },
        });
      }
      throw error;
    }
    return {
      uri: formatModelUri(reference),
      reference,
      name: modelVersion.name,
      version: modelVersion.version,
      modelVersion,
      artifactUri,
      proxyPath,
    };
  }

  /** Resolves a `models:/` URI and downloads all the version's files into `destinationDir`. */
  async downloadModel(uri: string, destinationDir: string): Promise<DownloadedModel> {
    const resolved = await this.resolveModelUri(uri);
    const files = await this.downloadProxyTree(resolved.proxyPath, destinationDir);
    return { ...resolved, localDir: destinationDir, files };
  }

  // ---------------------------------------------------------------- internals

  private async versionFor(reference: ModelReference): Promise<ModelVersion> {
    switch (reference.kind) {
      case "alias":
        return this.getModelVersionByAlias(reference.name, reference.alias);
      case "version":
        return this.getModelVersion(reference.name, reference.version);
      case "stage":
      case "latest": {
        const stages = reference.kind === "stage" ? [reference.stage] : [];
        const versions = await this.getLatestVersions(reference.name, stages);
        const newest = versions.sort((a, b) => Number(b.version) - Number(a.version))[0];
        if (newest === undefined) {
          throw new AppError(
            "NOT_FOUND",
            `No version of model "${reference.name}" is ${reference.kind === "stage" ? `in stage ${reference.stage}` : "registered"}`,
            { details: { uri: formatModelUri(reference) } },
          );
        }
        return newest;
      }
    }
  }

  /** Follows `runs:/<id>/<path>` and `models:/m-<id>` (MLflow 3 logged models) to storage URIs. */
  private async concreteArtifactUri(uri: string): Promise<string> {
    const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(uri);
    if (runs !== null) return this.runArtifactUri(runs[1] ?? "", runs[2] ?? "");
    const logged = /^models:\/(m-[A-Za-z0-9]+)\/?$/.exec(uri);
    if (logged !== null) {
      const res = await this.transport.json({
        operation: "logged-models/get",
        method: "GET",
        path: `/api/2.0/mlflow/logged-models/${encodeURIComponent(logged[1] ?? "")}`,
        schema: loggedModelResponse,
        idempotent: true,
      });
      return res.model.info.artifact_uri;
    }
    return uri;
  }

  private rememberArtifactRoot(info: RunInfo): void {
    try {
      this.artifactRoots.set(info.run_id, proxyPathOf(info.artifact_uri));
    } catch {
      // Not proxied: artifactRoot() reports it when artifacts are actually used.
    }
  }

  private async artifactRoot(runId: string): Promise<string> {
    const known = this.artifactRoots.get(runId);
    if (known !== undefined) return known;
    const run = await this.getRun(runId);
    try {
      return proxyPathOf(run.info.artifact_uri);
    } catch (error) {
      throw new AppError("UNSUPPORTED_INPUT", (error as Error).message, {
        cause: error,
        details: { runId, artifactUri: run.info.artifact_uri },
      });
    }
  }

  private async listProxy(proxyPath: string): Promise<FileInfo[]> {
    const res = await this.transport.json({
      operation: "mlflow-artifacts/list",
      method: "GET",
      path: "/api/2.0/mlflow-artifacts/artifacts",
      query: { path: normalizeArtifactPath(proxyPath) },
      schema: listArtifactsResponse,
      idempotent: true,
    });
    return res.files;
  }

  /** Downloads a proxied file or folder tree; returns the files written, relative, `/`-separated. */
  private async downloadProxyTree(proxyRoot: string, destinationDir: string): Promise<string[]> {
    const written: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await this.listProxy(dir)) {
        const full = joinArtifactPath(dir, entry.path.split("/").pop() ?? entry.path);
        if (entry.is_dir) {
          await walk(full);
          continue;
        }
        const rel = relativeArtifactPath(proxyRoot, full);
        const target = join(destinationDir, ...rel.split("/"));
        await mkdir(dirname(target), { recursive: true });
        await this.transport.downloadToFile("mlflow-artifacts/download", proxyUrlPath(full), target);
        written.push(rel);
      }
    };
    await mkdir(destinationDir, { recursive: true });
    await walk(proxyRoot);
    if (written.length === 0) {
      // A single file rather than a folder: the listing of a file is empty.
      const name = proxyRoot.split("/").pop() ?? "artifact";
      try {
        await this.transport.downloadToFile(
          "mlflow-artifacts/download",
          proxyUrlPath(proxyRoot),
          join(destinationDir, name),
        );
        written.push(name);
      } catch (error) {
        if (error instanceof AppError && error.code === "NOT_FOUND") {
          throw new AppError("NOT_FOUND", `No artifacts under "${proxyRoot}"`, { cause: error });
        }
        throw error;
      }
    }
    return written.sort();
  }
}
