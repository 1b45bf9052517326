import { sleep } from "./processes.js";

/** One HTTP request with a hard deadline; resolves to the response or undefined on any failure. */
export async function tryFetch(
  url: string,
  init: RequestInit = {},
  timeoutMs = 2_000,
): Promise<Response | undefined> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return undefined;
  }
}

/**
 * Polls until `check` returns true or the deadline passes. `alive` lets the caller stop early when
 * the server process died (no point waiting for a crashed server).
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<"ready" | "timeout" | "died"> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return "ready";
    if (options.alive !== undefined && !options.alive()) return "died";
    if (Date.now() > deadline) return "timeout";
    await sleep(options.intervalMs ?? 150);
  }
}

/** moto answers any request once it listens. */
export async function motoHealthy(awsEndpoint: string): Promise<boolean> {
  return (await tryFetch(`${awsEndpoint}/moto-api/`)) !== undefined;
}

/** MLflow: /health, then a real tracking call (the database is migrated and answering). */
export async function mlflowHealthy(mlflowUrl: string): Promise<boolean> {
  const health = await tryFetch(`${mlflowUrl}/health`);
  if (health?.status !== 200) return false;
  const search = await tryFetch(
    `${mlflowUrl}/api/2.0/mlflow/experiments/search`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ max_results: 1 }),
    },
    5_000,
  );
  return search?.status === 200;
}
