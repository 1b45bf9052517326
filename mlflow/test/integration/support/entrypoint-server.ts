/**
 * Starts MLflow the way the container and the local stack do: `mlflow/server/entrypoint.sh`, with
 * the stack's virtualenv first on PATH. Used by the production-shape test (PostgreSQL + basic auth).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { get } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { closedPort } from "./faulty-proxy.js";

export const mlflowDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const repoRoot = join(mlflowDir, "..");
export const entrypoint = join(mlflowDir, "server", "entrypoint.sh");

export interface EntrypointServer {
  url: string;
  port: number;
  /** The entrypoint's pid, which is also its process group's id. */
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts the entrypoint with `env` (nothing MLFLOW_* leaks in from our own environment). */
export async function startEntrypointServer(
  venvDir: string,
  env: Record<string, string>,
  logFile: string,
  startTimeoutMs = 240_000,
): Promise<EntrypointServer> {
  const port = await closedPort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("MLFLOW_") && !k.startsWith("AWS_")),
  );
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn("bash", [entrypoint], {
    env: {
      ...inherited,
      PATH: `${join(venvDir, "bin")}:${process.env.PATH ?? ""}`,
      VIRTUAL_ENV: venvDir,
      MLFLOW_HOST: "127.0.0.1",
      MLFLOW_PORT: String(port),
      ...env,
    },
    // Its own process group: stop() ends the server and every worker it forked, nothing else.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null | undefined;
  child.on("exit", (code) => {
    exited = code;
  });

  const url = `http://127.0.0.1:${port}`;
  /**
   * Ends the whole process group: MLflow's job runner and huey consumers ignore SIGTERM for a while
   * and would keep our log pipe (and jest) open, so stragglers get SIGKILL after a grace period.
   */
  const stop = async () => {
    const pid = child.pid;
    if (pid !== undefined) {
      signalGroup(pid, "SIGTERM");
      if (!(await groupGone(pid, 15_000))) {
        signalGroup(pid, "SIGKILL");
        await groupGone(pid, 5_000);
      }
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
    log.end();
  };

  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const text = await readFile(logFile, "utf8").catch(() => "");
      throw new Error(
        `the entrypoint exited with code ${exited} before MLflow was healthy:\n${text.slice(-4000)}`,
      );
    }
    if ((await healthStatus(`${url}/health`)) === 200)
      return { url, port, pid: child.pid as number, logFile, stop };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  const text = await readFile(logFile, "utf8").catch(() => "");
  throw new Error(
    `MLflow from the entrypoint was not healthy within ${startTimeoutMs} ms:\n${text.slice(-4000)}`,
  );
}

/** GET without keep-alive (no socket outlives the poll); 0 when nothing answers. */
function healthStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Waits until no process of the group is left; false on timeout. */
async function groupGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
