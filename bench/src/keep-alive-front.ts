/**
 * A keep-alive front for the local emulator. moto's server (Werkzeug's development server) answers
 * every request with `Connection: close`, so a client opens one TCP connection per request: with the
 * engine's one conditional PutItem per reader, a third of the engine's CPU went to connecting
 * (`internalConnect`, socket set-up and teardown), a cost DynamoDB and S3 do not impose (they keep
 * connections alive, and the SDK's agent reuses them). This front accepts kept-alive connections and
 * forwards each request to the emulator, so a child process pointed at it spends what it would spend
 * against AWS; the front's own CPU is the bench process's, not the measured child's.
 */
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { DynamoMeter } from "./dynamo-meter.js";
import { DATA_PLANE, type DynamoStandIn } from "./dynamo-standin.js";
import type { S3Meter } from "./s3-meter.js";

export interface KeepAliveFront {
  /** `http://127.0.0.1:<port>`: use as the child's endpoint. */
  url: string;
  close(): Promise<void>;
}

/** One DynamoDB request to the emulator, signed headers of another request reused (it checks none). */
function askUpstream(
  upstream: URL,
  headers: IncomingHttpHeaders,
  operation: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ask = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: "POST",
        path: "/",
        headers: {
          ...headers,
          "x-amz-target": `DynamoDB_20120810.${operation}`,
          "content-length": Buffer.byteLength(body),
        },
        agent: false,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () =>
          resolve({ status: answer.statusCode ?? 502, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    ask.on("error", reject);
    ask.end(body);
  });
}

/**
 * Starts the front on a free port, forwarding to `target` (an `http://host:port` URL); with `meter`,
 * every DynamoDB request and its answer are recorded (dynamo-meter.ts); with `s3`, every other request
 * (S3's) and the bytes of its body and its answer's (s3-meter.ts). With `standIn`, DynamoDB's
 * data-plane requests are answered by it (dynamo-standin.ts) and only the rest reaches the emulator.
 */
export async function startKeepAliveFront(
  target: string,
  meter?: DynamoMeter,
  { s3, standIn }: { s3?: S3Meter; standIn?: DynamoStandIn } = {},
): Promise<KeepAliveFront> {
  const upstream = new URL(target);
  const server = createServer({ keepAlive: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const amzTarget = req.headers["x-amz-target"];
    const dynamo = typeof amzTarget === "string" && amzTarget.startsWith("DynamoDB_");
    const operation = dynamo ? (amzTarget.split(".").at(-1) ?? "") : "";
    if (standIn !== undefined && dynamo && DATA_PLANE.has(operation)) {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        const describe = async (table: string) => {
          const answer = await askUpstream(
            upstream,
            req.headers,
            "DescribeTable",
            JSON.stringify({ TableName: table }),
          );
          if (answer.status !== 200) return undefined;
          const { Table } = JSON.parse(answer.body) as { Table: { KeySchema: { AttributeName: string }[] } };
          return Table.KeySchema.map((k) => k.AttributeName);
        };
        void standIn.handle(operation, body, describe).then((answer) => {
          meter?.record(amzTarget as string, body, answer.body);
          res.writeHead(answer.status, {
            "content-type": "application/x-amz-json-1.0",
            "content-length": Buffer.byteLength(answer.body),
          });
          res.end(answer.body);
        });
      });
      return;
    }
    const metered = meter !== undefined && dynamo;
    const sent: Buffer[] = [];
    if (metered || (standIn !== undefined && operation === "DeleteTable"))
      req.on("data", (chunk: Buffer) => sent.push(chunk));
    if (standIn !== undefined && operation === "DeleteTable")
      req.on("end", () => {
        const { TableName } = JSON.parse(Buffer.concat(sent).toString()) as { TableName?: string };
        if (TableName !== undefined) standIn.dropTable(TableName);
      });
    // S3's requests: only byte counts (bodies are objects: not kept).
    const s3Metered = s3 !== undefined && typeof amzTarget !== "string";
    let sentBytes = 0;
    if (s3Metered)
      req.on("data", (chunk: Buffer) => {
        sentBytes += chunk.byteLength;
      });
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        // The emulator's `Connection: close` is between the front and the emulator only.
        const headers = { ...answer.headers };
        delete headers.connection;
        res.writeHead(answer.statusCode ?? 502, headers);
        if (metered) {
          const received: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => received.push(chunk));
          answer.on("end", () =>
            meter?.record(
              amzTarget as string,
              Buffer.concat(sent).toString(),
              Buffer.concat(received).toString(),
            ),
          );
        }
        if (s3Metered) {
          let receivedBytes = 0;
          answer.on("data", (chunk: Buffer) => {
            receivedBytes += chunk.byteLength;
          });
          answer.on("end", () =>
            s3.record(
              req.method ?? "GET",
              req.url ?? "/",
              req.headers,
              sentBytes,
              receivedBytes,
              answer.statusCode ?? 0,
            ),
          );
        }
        answer.pipe(res);
      },
    );
    forward.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`keep-alive front: ${error.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
