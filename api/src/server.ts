import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@gplay/common";
import type { Express } from "express";

export interface ListenOptions {
  port: number;
  host?: string;
  /**
   * Idle keep-alive timeout. Longer than the load balancer's idle timeout (ALB: 60 s), so the ALB
   * always closes an idle connection first and never sends a request on a socket we are closing.
   */
  keepAliveTimeoutMs?: number;
}

/** Listens and resolves once the port is bound (port 0 picks a free one). */
export async function listen(app: Express, options: ListenOptions): Promise<{ server: Server; url: string }> {
  const server = app.listen(options.port, options.host ?? "0.0.0.0");
  await once(server, "listening");
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  // Must exceed keepAliveTimeout, or Node may drop a connection the balancer still considers open.
  server.headersTimeout = server.keepAliveTimeout + 1_000;
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export interface DrainSteps {
  server: Server;
  /** Fail readiness (and mark responses `Connection: close`). */
  startDraining(): void;
  /** Flush buffered events and stop timers once no request is in flight. */
  finish(): Promise<void>;
  logger: Logger;
  /** Time for the balancer to see the failed readiness and deregister the task before we stop listening. */
  delayMs: number;
  /** After this, connections still open are cut (ECS sends SIGKILL at its stopTimeout). */
  forceAfterMs: number;
}

/**
 * Graceful stop: readiness fails, then (after `delayMs`) the listener closes and idle connections
 * are closed, requests in flight finish (their responses close their connections), then buffered
 * events are flushed. Resolves when everything is done; never rejects.
 */
export async function drain(steps: DrainSteps): Promise<void> {
  const { server, logger } = steps;
  steps.startDraining();
  logger.info({ event: "drain-started", delayMs: steps.delayMs }, "draining");
  if (steps.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, steps.delayMs));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const force = setTimeout(() => {
    logger.warn(
      { event: "drain-forced" },
      "requests still in flight at the drain deadline; closing connections",
    );
    server.closeAllConnections();
  }, steps.forceAfterMs);
  force.unref();
  await closed;
  clearTimeout(force);
  try {
    await steps.finish();
    logger.info({ event: "drain-finished" }, "drained");
  } catch (error) {
    logger.error({ event: "drain-finish-failed", err: error }, "flushing on shutdown failed");
  }
}
