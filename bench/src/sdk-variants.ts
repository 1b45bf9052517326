/**
 * The SDK's CPU per conditional PutItem, one change at a time: the document client or the low-level
 * client (items marshalled by the caller), over NodeHttpHandler or common's PooledHttpHandler, with
 * or without `cacheMiddleware`. Each variant runs in a child process of its own against a stand-in
 * that answers every request at once (`{}`, kept-alive, in another child), so the CPU measured is the
 * client's request path alone, with no emulator in the way; variants are interleaved and repeated,
 * and the medians printed.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/sdk-variants.ts [--puts 6000] [--repeat 3]
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { PooledHttpHandler } from "@gplay/common";
import { ROOT, runMeasured } from "./engine-run.js";
import { median } from "./stats.js";

const VARIANTS = {
  "documents, NodeHttpHandler (before)": { low: false, pooled: false, cached: false },
  "documents, pooled": { low: false, pooled: true, cached: false },
  "low-level, NodeHttpHandler": { low: true, pooled: false, cached: false },
  "low-level, pooled": { low: true, pooled: true, cached: false },
  "low-level, pooled, cacheMiddleware (the engine now)": { low: true, pooled: true, cached: true },
} as const;
type Variant = keyof typeof VARIANTS;

/** The stand-in: PutItem answered `{}` on kept-alive connections. */
function serve(): void {
  const server = createServer({ keepAlive: true, keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": 2 });
      res.end("{}");
    });
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

/** One variant: `puts` conditional PutItem of reader-shaped items, 16 in flight, after a warm-up. */
async function client(port: number, variant: Variant, puts: number): Promise<void> {
  const require = createRequire(path.join(ROOT, "common", "package.json"));
  const { DynamoDBClient, PutItemCommand } = require("@aws-sdk/client-dynamodb");
  const { DynamoDBDocumentClient, PutCommand } = require("@aws-sdk/lib-dynamodb");
  const { NodeHttpHandler } = require("@smithy/node-http-handler");
  const { marshall } = createRequire(require.resolve("@aws-sdk/lib-dynamodb"))("@aws-sdk/util-dynamodb");
  const { low, pooled, cached } = VARIANTS[variant];
  const dynamodb = new DynamoDBClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 4,
    cacheMiddleware: cached,
    requestHandler: pooled
      ? new PooledHttpHandler({ requestTimeoutMs: 30_000 })
      : new NodeHttpHandler({
          requestTimeout: 30_000,
          connectionTimeout: 5_000,
          throwOnRequestTimeout: true,
        }),
  });
  const marshalling = { removeUndefinedValues: true, convertClassInstanceToMap: false };
  const documents = low ? undefined : DynamoDBDocumentClient.from(dynamodb, { marshallOptions: marshalling });
  const condition = {
    ConditionExpression: "attribute_not_exists(#k)",
    ExpressionAttributeNames: { "#k": "userId" },
  };
  const item = (i: number) => {
    const log = new Uint8Array(40 * (1 + (i % 20)));
    for (let j = 0; j < log.length; j++) log[j] = (i * 31 + j * 7) & 255;
    return {
      userId: i.toString(16).padStart(64, "0"),
      userType: "Logged",
      version: 1,
      updatedAt: "2026-12-06T00:00:00.000Z",
      interactionCount: 1 + (i % 20),
      firstTimestamp: 1_656_633_600_000 + i,
      lastTimestamp: 1_656_633_600_000 + 2 * i,
      log,
      evictedCount: 0,
    };
  };
  const run = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < to; i = next++) {
          if (documents !== undefined)
            await documents.send(new PutCommand({ TableName: "users", Item: item(i), ...condition }));
          else
            await dynamodb.send(
              new PutItemCommand({ TableName: "users", Item: marshall(item(i), marshalling), ...condition }),
            );
        }
      }),
    );
  };
  await run(0, 500);
  const before = process.cpuUsage();
  await run(500, 500 + puts);
  const used = process.cpuUsage(before);
  dynamodb.destroy();
  console.log(JSON.stringify({ cpuMsPerPut: (used.user + used.system) / 1000 / puts }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      puts: { type: "string", default: "6000" },
      repeat: { type: "string", default: "3" },
      role: { type: "string" },
      port: { type: "string" },
      variant: { type: "string" },
    },
  });
  if (values.role === "server") return serve();
  if (values.role === "client")
    return client(Number(values.port), values.variant as Variant, Number(values.puts));
  const self = ["--conditions=@gplay/source", "--import", "tsx", "bench/src/sdk-variants.ts"];
  const server = spawn(process.execPath, [...self, "--role", "server"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) =>
    server.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  const results = new Map<Variant, number[]>();
  try {
    for (let r = 0; r < Number(values.repeat); r++)
      for (const variant of Object.keys(VARIANTS) as Variant[]) {
        const run = await runMeasured(
          [
            ...self,
            "--role",
            "client",
            "--port",
            String(port),
            "--variant",
            variant,
            "--puts",
            values.puts as string,
          ],
          {},
        );
        if (run.code !== 0) throw new Error(`${variant} failed: ${run.stderr.slice(-2000)}`);
        const line = run.stdout.trim().split("\n").at(-1) ?? "{}";
        const { cpuMsPerPut } = JSON.parse(line) as { cpuMsPerPut: number };
        results.set(variant, [...(results.get(variant) ?? []), cpuMsPerPut]);
      }
  } finally {
    server.kill();
  }
  const before = median(results.get("documents, NodeHttpHandler (before)") ?? []);
  for (const [variant, runs] of results)
    console.log(
      `${variant.padEnd(52)} ${median(runs).toFixed(3)} CPU ms per conditional PutItem (${(median(runs) / before).toFixed(2)}× of before; runs ${runs.map((x) => x.toFixed(3)).join(", ")})`,
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
