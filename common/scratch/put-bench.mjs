// Scratch: CPU per conditional PutItem through the shared clients, variants by argv.
import { createRequire } from "node:module";
const require = createRequire(new URL("../package.json", import.meta.url));
const { DynamoDBClient, PutItemCommand } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, PutCommand } = require("@aws-sdk/lib-dynamodb");
const { NodeHttpHandler } = require("@smithy/node-http-handler");
const [port, variant = "doc", n = "4000"] = process.argv.slice(2);
const N = Number(n);
const items = [];
for (let i = 0; i < N; i++) {
  const log = new Uint8Array(40 * (1 + (i % 20)));
  for (let j = 0; j < log.length; j++) log[j] = (i * 31 + j * 7) & 255;
  items.push({ userId: `${i.toString(16).padStart(8, "0")}-1234-4234-8234-123456789abc`, userType: "Logged", version: 1,
    updatedAt: "2026-12-06T00:00:00.000Z", interactionCount: 1 + (i % 20), firstTimestamp: 1656633600000 + i, lastTimestamp: 1656633600000 + 2 * i, log, evictedCount: 0 });
}
let handler;
if (variant.startsWith("pool")) handler = new (await import(new URL("../src/aws/pooled-http-handler.ts", import.meta.url).href)).PooledHttpHandler({});
else handler = new NodeHttpHandler({ requestTimeout: 30000, connectionTimeout: 5000, throwOnRequestTimeout: true });
const client = new DynamoDBClient({ cacheMiddleware: variant.includes("cache"), region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, maxAttempts: 4, requestHandler: handler,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
const docs = variant.includes("cache") ? undefined : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
const { marshall } = createRequire(require.resolve("@aws-sdk/lib-dynamodb"))("@aws-sdk/util-dynamodb");
async function run(list) {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let item = list[next++]; item !== undefined; item = list[next++]) {
      const cond = { ConditionExpression: "attribute_not_exists(#k)", ExpressionAttributeNames: { "#k": "userId" } };
      if (variant.includes("low")) await client.send(new PutItemCommand({ TableName: "t", Item: marshall(item, { removeUndefinedValues: true }), ...cond }));
      else await docs.send(new PutCommand({ TableName: "t", Item: item, ...cond }));
    }
  }));
}
await run(items.slice(0, 500)); // warm-up
const rest = items.slice(500);
const before = process.cpuUsage();
const t0 = performance.now();
await run(rest);
const used = process.cpuUsage(before);
console.log(JSON.stringify({ variant, cpuMsPerPut: (used.user + used.system) / 1000 / rest.length, wallMs: performance.now() - t0 }));
client.destroy();
