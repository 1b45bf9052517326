/**
 * A tiny HTTP proxy in front of the real MLflow server that misbehaves on purpose: it answers the
 * first N requests with an error status (or hangs them), then forwards everything unchanged.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultyProxyOptions {
  /** How many requests to spoil before forwarding. */
  failFirst: number;
  /** Only requests whose "METHOD path" matches are spoiled (and counted towards failFirst). */
  match?: RegExp;
  /** Status answered to a spoiled request (503 by default). */
  status?: number;
  /** Headers sent with a spoiled answer (e.g. Retry-After). */
  headers?: Record<string, string>;
  /** Instead of answering, hold a spoiled request this long (to provoke client timeouts). */
  hangMs?: number;
}

export interface FaultyProxy {
  url: string;
  /** Requests received so far, spoiled or forwarded, as "METHOD path". */
  readonly requests: string[];
  /** The Authorization header of each request ("" when absent). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

export async function startFaultyProxy(target: string, options: FaultyProxyOptions): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const authorizations: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let spoiled = 0;
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    authorizations.push(req.headers.authorization ?? "");
    const line = `${req.method} ${req.url}`;
    if (spoiled < options.failFirst && (options.match === undefined || options.match.test(line))) {
      spoiled++;
      req.resume();
      if (options.hangMs !== undefined) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          res.destroy();
        }, options.hangMs);
        timers.add(timer);
        return;
      }
      res.writeHead(options.status ?? 503, { "Content-Type": "application/json", ...options.headers });
      res.end(JSON.stringify({ error_code: "TEMPORARILY_UNAVAILABLE", message: "injected failure" }));
      return;
    }
    const forward = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    authorizations,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
