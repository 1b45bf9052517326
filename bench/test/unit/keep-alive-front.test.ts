import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { startKeepAliveFront } from "../../src/keep-alive-front.js";
import { S3Meter } from "../../src/s3-meter.js";

/** An upstream that closes every connection, as moto's server does, and echoes what it got. */
async function closingUpstream(): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      res.writeHead(req.url === "/missing" ? 404 : 200, {
        "content-type": "application/json",
        "x-amz-target-seen": String(req.headers["x-amz-target"]),
        connection: "close",
      });
      res.end(JSON.stringify({ method: req.method, path: req.url, body }));
    });
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, connections: () => connections };
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** POSTs through `agent`; returns the status, headers, body and the local port of the socket used. */
function post(url: string, path: string, body: string, agent: Agent) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string; localPort: number }>(
    (resolve, reject) => {
      const req = request(
        `${url}${path}`,
        { method: "POST", agent, headers: { "x-amz-target": "DynamoDB_20120810.PutItem" } },
        (res) => {
          // Read now: a kept-alive socket goes back to the agent once the response ends.
          const localPort = res.socket.localPort ?? -1;
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, localPort }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    },
  );
}

/** An upstream that answers GET with `size` bytes and everything else with an empty body. */
async function objectUpstream(size: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { connection: "close" });
      res.end(req.method === "GET" ? Buffer.alloc(size, 97) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function send(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let n = 0;
      res.on("data", (chunk: Buffer) => {
        n += chunk.byteLength;
      });
      res.on("end", () => resolve(n));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the keep-alive front of the emulator", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }, 10_000);

  it("keeps the client's connection alive while forwarding each request to an upstream that closes it", async () => {
    const upstream = await closingUpstream();
    cleanups.push(() => stop(upstream.server));
    const front = await startKeepAliveFront(upstream.url);
    cleanups.push(() => front.close());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(async () => agent.destroy());

    const first = await post(front.url, "/a?x=1", '{"n":1}', agent);
    const second = await post(front.url, "/b", '{"n":2}', agent);

    expect(JSON.parse(first.body)).toEqual({ method: "POST", path: "/a?x=1", body: '{"n":1}' });
    expect(JSON.parse(second.body)).toEqual({ method: "POST", path: "/b", body: '{"n":2}' });
    expect(first.headers["x-amz-target-seen"]).toBe("DynamoDB_20120810.PutItem");
    expect(first.headers.connection).not.toBe("close");
    // One client connection for both requests; the upstream saw one connection per request.
    expect(second.localPort).toBe(first.localPort);
    expect(upstream.connections()).toBe(2);
  }, 10_000);

  it("passes the upstream's status through and answers 502 when the upstream is gone", async () => {
    const upstream = await closingUpstream();
    const front = await startKeepAliveFront(upstream.url);
    cleanups.push(() => front.close());
    const agent = new Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());

    expect((await post(front.url, "/missing", "{}", agent)).status).toBe(404);
    await stop(upstream.server);
    const failed = await post(front.url, "/a", "{}", agent);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatch(/^keep-alive front: /);
  }, 10_000);

  it("records the bytes of the S3 bodies that pass through it, and leaves DynamoDB's to the other meter", async () => {
    const upstream = await objectUpstream(2_048);
    cleanups.push(() => stop(upstream.server));
    const s3 = new S3Meter();
    const front = await startKeepAliveFront(upstream.url, undefined, { s3 });
    cleanups.push(() => front.close());

    expect(await send(`${front.url}/bucket/raw/a.csv?versionId=v1`, "GET")).toBe(2_048);
    await send(`${front.url}/bucket/raw/a.csv`, "PUT", Buffer.alloc(700, 98));
    await send(`${front.url}/`, "POST", Buffer.from("{}"), { "x-amz-target": "DynamoDB_20120810.PutItem" });

    expect(s3.take()).toEqual({
      requests: { GetObject: 1, PutObject: 1 },
      bytesRead: 2_048,
      bytesWritten: 700,
    });
  }, 10_000);
});
