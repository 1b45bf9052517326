/**
 * An open-loop load at a fixed rate, for latency at a given fraction of the saturating rate.
 *
 * Why not autocannon's `overallRate`: it limits each connection to `rate / connections` requests per
 * one-second window and otherwise sends back to back, so "80 % of saturation" is the saturating load
 * (every connection in flight) for the first ~0.8 s of each second and silence for the rest: the p99 it
 * prints is the queue of a saturated server, whatever the average rate. Here requests are sent at
 * scheduled times (exponential gaps: a Poisson process, as independent readers arrive), each on a free
 * kept-alive connection (a new one when all are busy, so a slow answer never delays the next send), and
 * a request's latency counts from its scheduled time, so a late sender cannot hide a queue. The sender's
 * own lateness (sent − scheduled) is reported beside it: on a shared machine the load generator competes
 * with the server, and a high lag says the figure measures the generator, not the server.
 */
import { Agent, request } from "node:http";
import { mulberry32 } from "@gplay/common";

export interface PacedLoadOptions {
  url: string;
  /** Requests per second (mean). */
  rate: number;
  durationS: number;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: () => string;
  seed?: number;
}

export interface PacedLoadResult {
  /** Mean rate actually completed (responses / duration). */
  reqPerSec: number;
  requests: number;
  p50: number;
  p99: number;
  max: number;
  /** How late the sender was against the schedule: p99 and max, ms. */
  lagP99: number;
  lagMax: number;
  non2xx: number;
  errors: number;
  /** Most connections open at once. */
  connections: number;
}

/** The value at quantile `q` (0–1) of `sorted` (ascending), nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Scheduled send times (ms from the start) of a Poisson process of `rate`/s over `durationS`. */
export function poissonSchedule(rate: number, durationS: number, seed = 1): number[] {
  const random = mulberry32(seed);
  const times: number[] = [];
  const end = durationS * 1000;
  for (let t = 0; ; ) {
    t += (-Math.log(1 - random()) / rate) * 1000;
    if (t >= end) return times;
    times.push(t);
  }
}

/**
 * The latency quantiles of an ideal server under the same load: one request at a time, each taking
 * exactly `serviceMs`, arrivals Poisson at `utilisation / serviceMs` (an M/D/1 queue, simulated over
 * `requests` arrivals). The floor a measured p99 at that load cannot beat: at 80 % utilisation its p99
 * is already ~11 service times (an exponential service time doubles it), so "p99 ≤ 20 ms at 80 % of
 * saturation" needs a service time under ~1.8 ms with no variance at all (no GC pause, no slow request).
 */
export function idealQueueLatency(
  serviceMs: number,
  utilisation: number,
  requests = 200_000,
  seed = 1,
): { p50: number; p99: number } {
  const rate = utilisation / serviceMs; // per ms
  const arrivals = poissonSchedule(rate * 1000, requests / (rate * 1000), seed);
  const latencies: number[] = [];
  let free = 0;
  for (const at of arrivals) {
    free = Math.max(at, free) + serviceMs;
    latencies.push(free - at);
  }
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Runs the load and waits for every answer (or a 10 s timeout per request). */
export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const schedule = poissonSchedule(options.rate, options.durationS, options.seed);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const target = new URL(options.path, options.url);
  const latencies: number[] = [];
  const lags: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let inFlight = 0;
  let connections = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const send = (due: number) => {
    const body = options.body?.();
    lags.push(performance.now() - started - due);
    inFlight++;
    connections = Math.max(connections, inFlight);
    pending.push(
      new Promise<void>((resolve) => {
        const finish = (ok: boolean, status?: number) => {
          inFlight--;
          if (!ok) errors++;
          else if (status === undefined || status < 200 || status >= 300) non2xx++;
          else latencies.push(performance.now() - started - due);
          resolve();
        };
        const req = request(
          target,
          {
            method: options.method,
            agent,
            timeout: 10_000,
            headers: {
              ...options.headers,
              ...(body === undefined ? {} : { "content-length": Buffer.byteLength(body) }),
            },
          },
          (res) => {
            res.resume();
            res.on("end", () => finish(true, res.statusCode));
            res.on("error", () => finish(false));
          },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => finish(false));
        req.end(body);
      }),
    );
  };
  let next = 0;
  await new Promise<void>((resolve) => {
    // Wake every millisecond (or as soon as the event loop allows) and send whatever is due.
    const tick = () => {
      const now = performance.now() - started;
      while (next < schedule.length && (schedule[next] as number) <= now) send(schedule[next++] as number);
      if (next >= schedule.length) resolve();
      else setTimeout(tick, Math.max(0, Math.min(1, (schedule[next] as number) - now)));
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    reqPerSec: latencies.length / options.durationS,
    requests: latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    lagP99: quantile(lags, 0.99),
    lagMax: lags.at(-1) ?? Number.NaN,
    non2xx,
    errors,
    connections,
  };
}
