import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { AppError, lakeBucketNames, MLFLOW_ARTIFACTS_PREFIX } from "@gplay/common";
import { mlflowHealthy, motoHealthy, waitUntil } from "./http.js";
import { withFileLock } from "./lock.js";
import { type StackPaths, stackPaths } from "./paths.js";
import { commandLine, isAlive, spawnDetached, stopProcessGroup } from "./processes.js";
import { ensureVenv, venvBin } from "./venv.js";

/** Where the running stack answers. Tests and the demo build their clients from this. */
export interface LocalStackEndpoints {
  /** The AWS emulator (moto server): S3, DynamoDB, EventBridge, SQS, CloudWatch. */
  awsEndpoint: string;
  /** The MLflow tracking server (artifacts proxied into the emulator's models bucket). */
  mlflowUrl: string;
  region: string;
  stateDir: string;
  venvDir: string;
}

/** The stack's own resource prefix: MLflow's artifact bucket and the demo's environment. */
export const LOCAL_STACK_PREFIX = "gplay-local";
export const LOCAL_REGION = "us-east-1";
/** The emulator accepts any key; these are the conventional ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" } as const;

export interface ServiceState {
  /** Pid of the server, also its process group id (it was started as a group leader). */
  pid: number;
  port: number;
  url: string;
  logFile: string;
  /** A word its command line must contain, so a recycled pid is never mistaken for it. */
  match: string;
}

/** The one state file, `.local/stack/stack.json`. */
export interface StackState {
  version: 1;
  endpoints: LocalStackEndpoints;
  services: { moto: ServiceState; mlflow: ServiceState };
  artifactsDestination: string;
  startedAt: string;
  /** "cli", "jest" or "api": jest teardowns only stop a stack a jest setup started. */
  startedBy: string;
  startSeconds: number;
  venvInstallSeconds: number;
}

export interface EnsureStackOptions {
  log?: (msg: string) => void;
  /** Recorded in stack.json; see StackState.startedBy. */
  startedBy?: string;
  paths?: StackPaths;
}

const STATE_FILE = "stack.json";
const ENV_FILE = "stack.env";
const LOCK_FILE = "lock";
const LEASES_DIR = "leases";
/** The venv install takes ~95 s here; leave room for slow mirrors. */
const LOCK_TIMEOUT_MS = 10 * 60_000;
const MOTO_START_TIMEOUT_MS = 60_000;
const MLFLOW_START_TIMEOUT_MS = 120_000;
const REUSE_GRACE_MS = 30_000;
const MLFLOW_TEMPLATE_DB = "gplay-mlflow-empty.db";

/** The variables a process needs to talk to the local stack (also written to stack.env). */
export function stackEnvironment(endpoints: LocalStackEndpoints): Record<string, string> {
  return {
    GPLAY_AWS_ENDPOINT: endpoints.awsEndpoint,
    MLFLOW_TRACKING_URI: endpoints.mlflowUrl,
    AWS_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
}

async function readState(paths: StackPaths): Promise<StackState | undefined> {
  try {
    return JSON.parse(await readFile(join(paths.stateDir, STATE_FILE), "utf8")) as StackState;
  } catch {
    return undefined;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function serviceRunning(service: ServiceState): boolean {
  return isAlive(service.pid) && (commandLine(service.pid) ?? "").includes(service.match);
}

export interface StackHealth {
  moto: { running: boolean; healthy: boolean };
  mlflow: { running: boolean; healthy: boolean };
}

export async function stackHealth(state: StackState): Promise<StackHealth> {
  const motoRunning = serviceRunning(state.services.moto);
  const mlflowRunning = serviceRunning(state.services.mlflow);
  const [motoOk, mlflowOk] = await Promise.all([
    motoRunning ? motoHealthy(state.endpoints.awsEndpoint) : false,
    mlflowRunning ? mlflowHealthy(state.endpoints.mlflowUrl) : false,
  ]);
  return {
    moto: { running: motoRunning, healthy: motoOk },
    mlflow: { running: mlflowRunning, healthy: mlflowOk },
  };
}

const isHealthy = (h: StackHealth) => h.moto.healthy && h.mlflow.healthy;

/** A free TCP port on 127.0.0.1 (the OS picks; we close and hand it to the server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

async function logTail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-lines).join("\n");
}

/** A minimal, predictable environment for the servers (no stray AWS_PROFILE or endpoint of the user). */
function serverBaseEnv(venvDir: string): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = {};
  for (const key of ["HOME", "LANG", "LC_ALL", "TMPDIR", "TZ"]) {
    if (process.env[key] !== undefined) inherited[key] = process.env[key];
  }
  return {
    ...inherited,
    PATH: `${join(venvDir, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    VIRTUAL_ENV: venvDir,
    PYTHONUNBUFFERED: "1",
  };
}

async function stopServices(state: StackState): Promise<void> {
  await Promise.all(
    [state.services.mlflow, state.services.moto].map(async (service) => {
      // Only signal a group whose leader is still ours (never a recycled pid); a group whose
      // leader already exited is still stopped (its workers may remain).
      if (isAlive(service.pid) && !serviceRunning(service)) return;
      await stopProcessGroup(service.pid);
    }),
  );
}

async function startServices(
  paths: StackPaths,
  log: (msg: string) => void,
  startedBy: string,
): Promise<StackState> {
  const started = Date.now();
  await mkdir(paths.stateDir, { recursive: true });
  const venv = await ensureVenv({
    venvDir: paths.venvDir,
    requirementsFile: paths.requirementsFile,
    logFile: join(paths.stateDir, "pip.log"),
    log,
  });

  const [motoPort, mlflowPort] = await Promise.all([freePort(), freePort()]);
  const awsEndpoint = `http://127.0.0.1:${motoPort}`;
  const mlflowUrl = `http://127.0.0.1:${mlflowPort}`;
  const artifactsBucket = lakeBucketNames(LOCAL_STACK_PREFIX).models;
  const artifactsDestination = `s3://${artifactsBucket}/${MLFLOW_ARTIFACTS_PREFIX}`;
  const motoLog = join(paths.stateDir, "moto.log");
  const mlflowLog = join(paths.stateDir, "mlflow.log");
  // moto keeps its state in memory: a fresh emulator gets a fresh tracking database too, so MLflow
  // never points at artifacts that no longer exist.
  const db = join(paths.stateDir, "mlflow.db");
  await rm(db, { force: true });
  // Creating MLflow's schema takes ~5 s: start from an empty, migrated copy kept beside the venv
  // (tied to the MLflow version installed there).
  const template = join(paths.venvDir, MLFLOW_TEMPLATE_DB);
  const fromTemplate = await copyFile(template, db).then(
    () => true,
    () => false,
  );
  await Promise.all([writeFile(motoLog, ""), writeFile(mlflowLog, "")]);

  const base = serverBaseEnv(paths.venvDir);
  // moto_server.py: moto's server, minus the record of every object body ever written (it says why).
  const motoPid = spawnDetached(
    venvBin(paths.venvDir, "python"),
    [paths.motoServer, "-H", "127.0.0.1", "-p", String(motoPort)],
    {
      env: base,
      logFile: motoLog,
      cwd: paths.stateDir,
    },
  );
  const mlflowPid = spawnDetached("bash", [paths.mlflowEntrypoint], {
    env: {
      ...base,
      MLFLOW_BACKEND_STORE_URI: `sqlite:///${join(paths.stateDir, "mlflow.db")}`,
      MLFLOW_ARTIFACTS_DESTINATION: artifactsDestination,
      MLFLOW_S3_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      MLFLOW_HOST: "127.0.0.1",
      MLFLOW_PORT: String(mlflowPort),
      MLFLOW_WORKERS: "1",
      MLFLOW_SERVER_ALLOWED_HOSTS: `127.0.0.1:${mlflowPort},localhost:${mlflowPort},127.0.0.1,localhost`,
      MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${mlflowPort},http://localhost:${mlflowPort}`,
    },
    logFile: mlflowLog,
    cwd: paths.stateDir,
  });

  const state: StackState = {
    version: 1,
    endpoints: {
      awsEndpoint,
      mlflowUrl,
      region: LOCAL_REGION,
      stateDir: paths.stateDir,
      venvDir: paths.venvDir,
    },
    services: {
      moto: { pid: motoPid, port: motoPort, url: awsEndpoint, logFile: motoLog, match: "moto_server" },
      mlflow: { pid: mlflowPid, port: mlflowPort, url: mlflowUrl, logFile: mlflowLog, match: "mlflow" },
    },
    artifactsDestination,
    startedAt: new Date().toISOString(),
    startedBy,
    startSeconds: 0,
    venvInstallSeconds: venv.seconds,
  };

  const fail = async (service: ServiceState, outcome: string): Promise<never> => {
    const tail = await logTail(service.logFile);
    await stopServices(state);
    throw new AppError(
      "UPSTREAM_UNAVAILABLE",
      `The local ${service.match} server ${outcome === "died" ? "exited" : "did not become healthy"} ` +
        `(see ${service.logFile}):\n${tail}`,
      { details: { service: service.match, outcome } },
    );
  };

  const motoOutcome = await waitUntil(() => motoHealthy(awsEndpoint), {
    timeoutMs: MOTO_START_TIMEOUT_MS,
    alive: () => isAlive(motoPid),
  });
  if (motoOutcome !== "ready") return fail(state.services.moto, motoOutcome);
  const s3 = new S3Client({
    endpoint: awsEndpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: artifactsBucket }));
  } finally {
    s3.destroy();
  }
  log(`moto ready at ${awsEndpoint}`);

  const mlflowOutcome = await waitUntil(() => mlflowHealthy(mlflowUrl), {
    timeoutMs: MLFLOW_START_TIMEOUT_MS,
    intervalMs: 250,
    alive: () => isAlive(mlflowPid),
  });
  if (mlflowOutcome !== "ready") return fail(state.services.mlflow, mlflowOutcome);
  log(`MLflow ready at ${mlflowUrl}`);
  if (!fromTemplate) await copyFile(db, template).catch(() => undefined);

  state.startSeconds = (Date.now() - started) / 1000;
  await writeAtomically(join(paths.stateDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  const envText = Object.entries(stackEnvironment(state.endpoints))
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
  await writeAtomically(join(paths.stateDir, ENV_FILE), `${envText}\n`);
  return state;
}

/**
 * Reuses the running local stack when both servers answer, otherwise (re)starts it: the venv on
 * first use, then moto and MLflow on free ports of 127.0.0.1, waiting for health. Safe to call
 * from several processes at once (a lock file serialises them).
 */
export async function ensureLocalStack(
  opts: EnsureStackOptions = {},
): Promise<{ endpoints: LocalStackEndpoints; startedHere: boolean }> {
  const paths = opts.paths ?? stackPaths();
  const log = opts.log ?? (() => {});
  await mkdir(paths.stateDir, { recursive: true });
  return withFileLock(
    join(paths.stateDir, LOCK_FILE),
    LOCK_TIMEOUT_MS,
    async () => {
      const existing = await readState(paths);
      if (existing !== undefined) {
        let health = await stackHealth(existing);
        if (!isHealthy(health) && health.moto.running && health.mlflow.running) {
          // Both processes are there: on a loaded machine a health call can simply be slow. Give
          // them time before restarting a stack other runs may be using.
          const check = async () => {
            health = await stackHealth(existing);
            return isHealthy(health);
          };
          await waitUntil(check, { timeoutMs: REUSE_GRACE_MS, intervalMs: 1_000 });
        }
        if (isHealthy(health)) {
          if (opts.startedBy === "cli" && existing.startedBy !== "cli") {
            // Someone asked for the stack by hand: from now on only `down` stops it, not the
            // teardown of the test run that happened to start it.
            await writeAtomically(
              join(paths.stateDir, STATE_FILE),
              `${JSON.stringify({ ...existing, startedBy: "cli" }, null, 2)}\n`,
            );
          }
          log(
            `Reusing the running local stack (${existing.endpoints.awsEndpoint}, ${existing.endpoints.mlflowUrl}).`,
          );
          return { endpoints: existing.endpoints, startedHere: false };
        }
        log("The recorded local stack is not healthy: restarting it.");
        await stopServices(existing);
        await removeStateFiles(paths);
      }
      const state = await startServices(paths, log, opts.startedBy ?? "api");
      log(`Local stack up in ${state.startSeconds.toFixed(1)} s.`);
      return { endpoints: state.endpoints, startedHere: true };
    },
    (owner) => log(`Waiting for another process (pid ${owner}) that is starting or stopping the stack…`),
  );
}

/** The full state of the running stack, or undefined when none is recorded. */
export async function readStackState(paths = stackPaths()): Promise<StackState | undefined> {
  return readState(paths);
}

/** Endpoints of the running stack; throws a clear AppError when it is not running. */
export async function readLocalStack(paths = stackPaths()): Promise<LocalStackEndpoints> {
  const state = await readState(paths);
  if (state === undefined) {
    throw new AppError(
      "UPSTREAM_UNAVAILABLE",
      `The local stack is not running (no ${join(paths.stateDir, STATE_FILE)}): start it with \`pnpm stack up\`.`,
    );
  }
  const down = Object.values(state.services).filter((s) => !serviceRunning(s));
  if (down.length > 0) {
    throw new AppError(
      "UPSTREAM_UNAVAILABLE",
      `The local stack is recorded but ${down.map((s) => s.match).join(" and ")} is not running: ` +
        "restart it with `pnpm stack down && pnpm stack up`.",
      { details: { services: down.map((s) => s.match) } },
    );
  }
  return state.endpoints;
}

async function removeStateFiles(paths: StackPaths): Promise<void> {
  await Promise.all([
    rm(join(paths.stateDir, STATE_FILE), { force: true }),
    rm(join(paths.stateDir, ENV_FILE), { force: true }),
    rm(join(paths.stateDir, LEASES_DIR), { recursive: true, force: true }),
  ]);
}

/** Stops moto and MLflow (whole process groups, SIGKILL after a grace period) and forgets them. */
export async function stopLocalStack(paths = stackPaths()): Promise<void> {
  await mkdir(paths.stateDir, { recursive: true });
  await withFileLock(join(paths.stateDir, LOCK_FILE), LOCK_TIMEOUT_MS, async () => {
    const state = await readState(paths);
    if (state !== undefined) await stopServices(state);
    await removeStateFiles(paths);
  });
}

/**
 * Leases: each jest run that uses the stack holds one (a file named after its pid) from global
 * setup to teardown, so one run's teardown never stops a stack another run still uses.
 */
export async function acquireLease(holder: number, paths = stackPaths()): Promise<void> {
  const dir = join(paths.stateDir, LEASES_DIR);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, String(holder)), new Date().toISOString());
}

/** Pids of the live processes (jest runs) holding a lease on the stack. */
export async function liveLeases(paths = stackPaths()): Promise<number[]> {
  const names = await readdir(join(paths.stateDir, LEASES_DIR)).catch(() => [] as string[]);
  return names
    .map((name) => Number.parseInt(name, 10))
    .filter((pid) => Number.isInteger(pid) && pid > 0 && isAlive(pid));
}

/**
 * Drops a lease; stops the stack when a jest setup started it and no live holder remains.
 * Returns whether it stopped the stack.
 */
export async function releaseLease(holder: number, paths = stackPaths()): Promise<boolean> {
  await rm(join(paths.stateDir, LEASES_DIR, String(holder)), { force: true });
  const others = await liveLeases(paths);
  const state = await readState(paths);
  if (state === undefined || state.startedBy !== "jest" || others.length > 0) return false;
  await stopLocalStack(paths);
  return true;
}
