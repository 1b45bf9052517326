/** Runs the real api (src/main.ts through tsx) as a child process, and small HTTP helpers around it. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const apiDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface AppProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** SIGKILL if still running. */
  kill(): void;
}

/** Starts src/main.ts with exactly `env` (plus PATH) and waits for its "listening" line. */
export async function startApp(env: Record<string, string>, timeoutMs = 60_000): Promise<AppProcess> {
  const child = spawn(process.execPath, ["--conditions=@gplay/source", "--import", "tsx", "src/main.ts"], {
    cwd: apiDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const app: AppProcess = {
    child,
    url: "",
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  try {
    app.url = await waitFor(
      "the api's listening line",
      () => {
        if (child.exitCode !== null) throw new Error(`the api exited with ${child.exitCode}: ${err}`);
        return /"url":"([^"]+)"/.exec(out)?.[1];
      },
      timeoutMs,
    );
  } catch (error) {
    app.kill();
    throw error;
  }
  return app;
}

/** Polls `probe` (sync or async) every 100 ms until it returns something other than undefined. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An HTTP forwarder in front of a server (the real MLflow) that can be taken down and brought back
 * on the same port: "the registry is unreachable" without touching the shared server. It rewrites
 * Host to the target's (MLflow 3 refuses requests for a host it does not serve).
 */
export class SwitchableProxy {
  #server: Server | undefined;
  port = 0;

  constructor(private readonly target: URL) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const forward = httpRequest(
        {
          hostname: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.target.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and cuts every open connection. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface LoadResult {
  ok: number;
  failed: { status: number | string; body: string }[];
  /** Model version reported by each successful response, per worker, in order. */
  versions: string[][];
}

/**
 * Sends requests from `workers` concurrent loops until `stop()` resolves; counts any non-200 (or
 * network error) as failed.
 */
export async function loadLoop(
  workers: number,
  request: (worker: number, i: number) => Promise<Response>,
  stop: Promise<void>,
): Promise<LoadResult> {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const result: LoadResult = { ok: 0, failed: [], versions: Array.from({ length: workers }, () => []) };
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; !stopped; i++) {
        try {
          const res = await request(w, i);
          const body = await res.text();
          if (res.status === 200) {
            result.ok++;
            result.versions[w]?.push(res.headers.get("x-model-version") ?? "?");
          } else result.failed.push({ status: res.status, body: body.slice(0, 200) });
        } catch (error) {
          result.failed.push({ status: "network", body: String((error as Error).cause ?? error) });
        }
      }
    }),
  );
  return result;
}
