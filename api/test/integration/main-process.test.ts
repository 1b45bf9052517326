import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { Agent, request } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { API_IMPRESSIONS_PREFIX, type AwsClients, logPages, RAW_HEADERS } from "@gplay/common";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
} from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import { article, pageId, popularRow, userId } from "../support/fixtures.js";

const apiDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const KEY = "main-process-key-0123456789";

/** Starts src/main.ts as the container would (through tsx), with exactly `env` (plus PATH). */
function startMain(env: Record<string, string>): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ["--conditions=@gplay/source", "--import", "tsx", "src/main.ts"], {
    cwd: apiDir,
    env: { PATH: process.env.PATH ?? "", ...env },
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
  return { child, stdout: () => out, stderr: () => err };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One keep-alive POST /coldstart through `agent`; resolves with the status or the connection error. */
function coldstartOver(agent: Agent, url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/coldstart`,
      { agent, method: "POST", headers: { "content-type": "application/json", "x-api-key": KEY } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(String(res.statusCode)));
        res.on("error", (error) => resolve(`error: ${error.message}`));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(`error: ${error.code ?? error.message}`));
    req.end(JSON.stringify({ k: 2 }));
  });
}

describe("the api process (src/main.ts)", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  let env: ProvisionedEnvironment;

  beforeAll(async () => {
    ({ endpoints, clients, env } = await provisionTestEnvironment("api-main"));
    for (let n = 1; n <= 5; n++)
      await clients.documents.send(
        new PutCommand({
          TableName: env.tables.items,
          Item: { ...article(n), caption: "", contentHash: "h", updatedAt: "2022-08-15T00:00:00.000Z" },
        }),
      );
    await clients.documents.send(
      new PutCommand({
        TableName: env.tables.coldstart,
        Item: popularRow("global", [1, 2, 3, 4, 5].map(pageId)),
      }),
    );
  });

  afterAll(async () => {
    await destroyTestEnvironment({ endpoints, clients, env });
  });

  /** The api's environment on this test's resources (no model registry: cold start). */
  const serviceEnv = () => ({
    PORT: "0",
    GPLAY_PREFIX: env.prefix,
    AWS_REGION: endpoints.region,
    GPLAY_AWS_ENDPOINT: endpoints.awsEndpoint,
    GPLAY_API_KEYS: JSON.stringify([{ name: "it", key: KEY }]),
    GPLAY_READY_REQUIRES_MODEL: "false",
  });

  it("serves, then on SIGTERM drains, files the buffered clicks under raw/ and exits 0", async () => {
    const main = startMain({
      ...serviceEnv(),
      GPLAY_EVENTS_FLUSH_MS: "600000",
    });
    try {
      const url = await waitFor("the listening line", () => /"url":"([^"]+)"/.exec(main.stdout())?.[1]);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      const headers = { "content-type": "application/json", "x-api-key": KEY };
      const coldstart = (await (
        await fetch(`${url}/coldstart`, { method: "POST", headers, body: JSON.stringify({ k: 2 }) })
      ).json()) as { items: { page: string }[] };
      expect(coldstart.items.map((i) => i.page)).toEqual([pageId(1), pageId(2)]);
      const click = { type: "click", userId: userId(9), page: pageId(1), timestamp: 1_660_000_000_000 };
      const events = await fetch(`${url}/events`, {
        method: "POST",
        headers,
        body: JSON.stringify({ events: [click] }),
      });
      expect(events.status).toBe(200);

      main.child.kill("SIGTERM");
      const [code] = await once(main.child, "exit");
      expect(code).toBe(0);
      expect(main.stdout()).toContain('"event":"drain-finished"');

      const listed = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: env.buckets.raw, Prefix: "raw/api-events/dt=" }),
      );
      expect(listed.Contents).toHaveLength(1);
      // The drain flushed the impression log too: the click, credited to nothing (no list was served).
      const logged = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: env.buckets.raw, Prefix: API_IMPRESSIONS_PREFIX }),
      );
      expect(logged.Contents).toHaveLength(1);
      const log = await clients.s3.send(
        new GetObjectCommand({ Bucket: env.buckets.raw, Key: logged.Contents?.[0]?.Key as string }),
      );
      expect(await log.Body?.transformToString()).toContain(`click,,${userId(9)},`);
      const object = await clients.s3.send(
        new GetObjectCommand({ Bucket: env.buckets.raw, Key: listed.Contents?.[0]?.Key as string }),
      );
      const lines = ((await object.Body?.transformToString()) ?? "").trimEnd().split("\n");
      expect(lines).toEqual([RAW_HEADERS.treino.join(","), expect.stringContaining(pageId(1))]);
      const stored = await new DynamoFeatureStore(clients.documents, env.tables).getUser(userId(9));
      expect(logPages(stored?.log as Uint8Array).has(pageId(1))).toBe(true);
    } finally {
      if (main.child.exitCode === null) main.child.kill("SIGKILL");
    }
  });

  it("with the default drain delay, SIGTERM under a keep-alive load resets no request", async () => {
    const main = startMain({
      ...serviceEnv(),
      GPLAY_API_KEYS: JSON.stringify([{ name: "it", key: KEY, ratePerSecond: 10_000, burst: 10_000 }]),
    });
    const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const url = await waitFor("the listening line", () => /"url":"([^"]+)"/.exec(main.stdout())?.[1]);
      // The load balancer keeps routing to the task for a while after ECS sent SIGTERM (it
      // deregisters the target; the ALB's nodes take a few seconds to stop sending it requests).
      let routing = true;
      const outcomes: string[] = [];
      const clients = agents.map(async (agent) => {
        while (routing) outcomes.push(await coldstartOver(agent, url));
      });
      await waitFor("load", () => (outcomes.length >= 20 ? true : undefined));
      const exited = once(main.child, "exit");
      main.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 2_000));
      routing = false;
      await Promise.all(clients);
      const [code] = await exited;
      expect(code).toBe(0);
      expect(outcomes.filter((o) => o !== "200")).toEqual([]);
      expect(outcomes.length).toBeGreaterThan(20);
    } finally {
      for (const agent of agents) agent.destroy();
      if (main.child.exitCode === null) main.child.kill("SIGKILL");
    }
  });

  it("exits 1 naming every bad variable when the configuration is invalid", async () => {
    const main = startMain({ GPLAY_PREFIX: "Not_Valid", PORT: "-1" });
    const [code] = await once(main.child, "exit");
    expect(code).toBe(1);
    expect(main.stderr()).toMatch(/GPLAY_PREFIX/);
    expect(main.stderr()).toMatch(/GPLAY_API_KEYS/);
    expect(main.stderr()).toMatch(/PORT/);
  });
});
