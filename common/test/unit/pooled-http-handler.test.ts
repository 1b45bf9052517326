import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "@jest/globals";
import { PooledHttpHandler } from "../../src/aws/pooled-http-handler.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}
type Answer = (res: ServerResponse, seen: Seen) => void;

const servers: Server[] = [];
const handlers: PooledHttpHandler[] = [];
afterEach(async () => {
  for (const h of handlers.splice(0)) h.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A loopback server answering the n-th request with `answers[n]` (the last one repeats). */
async function serve(answers: Answer[], server: Server = createServer()) {
  const seen: Seen[] = [];
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      (answers[seen.length - 1] ?? (answers.at(-1) as Answer))(res, s);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

const json =
  (status: number, body: object): Answer =>
  (res) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "r1" });
    res.end(JSON.stringify(body));
  };

function dynamo(port: number, protocol = "http") {
  const handler = new PooledHttpHandler({ requestTimeoutMs: 2_000 });
  handlers.push(handler);
  return new DynamoDBClient({
    region: "us-east-1",
    endpoint: `${protocol}://127.0.0.1:${port}`,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 4,
    requestHandler: handler,
    cacheMiddleware: true,
  });
}

const put = () =>
  new PutItemCommand({
    TableName: "users",
    Item: { userId: { S: "u1" }, log: { B: new Uint8Array([1, 2, 250]) } },
    ConditionExpression: "attribute_not_exists(#k)",
    ExpressionAttributeNames: { "#k": "userId" },
  });

describe("PooledHttpHandler under the DynamoDB client", () => {
  it("sends the signed JSON request and hands the answer to the SDK", async () => {
    const { port, seen } = await serve([
      json(200, { ConsumedCapacity: { TableName: "users", CapacityUnits: 1 } }),
    ]);
    const out = await dynamo(port).send(put());
    expect(out.ConsumedCapacity?.CapacityUnits).toBe(1);
    expect(seen).toHaveLength(1);
    const [request] = seen as [Seen];
    expect(request.method).toBe("POST");
    expect(request.headers["x-amz-target"]).toBe("DynamoDB_20120810.PutItem");
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\//);
    expect(JSON.parse(request.body)).toMatchObject({ TableName: "users", Item: { log: { B: "AQL6" } } });
  });

  it("is retried by the SDK after a server error and a reset connection, then succeeds", async () => {
    const { port, seen } = await serve([
      json(500, { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: "boom" }),
      (res) => res.socket?.destroy(),
      json(200, {}),
    ]);
    await expect(dynamo(port).send(put())).resolves.toBeDefined();
    expect(seen).toHaveLength(3);
  }, 20_000);

  it("surfaces DynamoDB's error type (a failed condition) without retrying it", async () => {
    const { port, seen } = await serve([
      json(400, {
        __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        message: "The conditional request failed",
      }),
    ]);
    await expect(dynamo(port).send(put())).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    expect(seen).toHaveLength(1);
  });

  it("verifies the server's certificate over HTTPS (no silent plaintext, no unchecked TLS)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pooled-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
      const tls = createTlsServer({
        key: readFileSync(path.join(dir, "key.pem")),
        cert: readFileSync(path.join(dir, "cert.pem")),
      });
      const { port, seen } = await serve([json(200, {})], tls);
      const client = dynamo(port, "https");
      Object.assign(client.config, { maxAttempts: async () => 1 });
      await expect(client.send(put())).rejects.toThrow(/self-signed certificate/);
      expect(seen).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

/** A bare POST of `{}` to the loopback server. */
const postTo = (port: number) => ({
  protocol: "http:",
  hostname: "127.0.0.1",
  port,
  method: "POST",
  path: "/",
  headers: {},
  body: "{}",
});

describe("PooledHttpHandler on its own", () => {
  it("sends the path with the query escaped as the signer canonicalises it, without hop-by-hop headers", async () => {
    const { port, seen } = await serve([(res) => res.writeHead(204).end()]);
    const handler = new PooledHttpHandler();
    handlers.push(handler);
    const { response } = await handler.handle({
      protocol: "http:",
      hostname: "127.0.0.1",
      port,
      method: "GET",
      path: "/p",
      query: { b: "x y*", a: ["1", "2"], flag: null },
      headers: { "x-custom": "v", connection: "close" },
    });
    expect(response.statusCode).toBe(204);
    expect(seen[0]?.url).toBe("/p?a=1&a=2&b=x%20y%2A&flag");
    expect(seen[0]?.headers["x-custom"]).toBe("v");
    expect(seen[0]?.headers.connection).not.toBe("close");
  });

  it("fails an attempt that outlives the request timeout with a TimeoutError (which the SDK retries)", async () => {
    const { port } = await serve([() => undefined]);
    const handler = new PooledHttpHandler({ requestTimeoutMs: 200 });
    handlers.push(handler);
    await expect(handler.handle(postTo(port))).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("reports a connection closed mid-request as ECONNRESET (which the SDK retries)", async () => {
    const { port } = await serve([(res) => res.socket?.destroy()]);
    const handler = new PooledHttpHandler();
    handlers.push(handler);
    await expect(handler.handle(postTo(port))).rejects.toMatchObject({ code: "ECONNRESET" });
  });
});
