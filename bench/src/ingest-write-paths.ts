/**
 * Items/s of the emulator's three write paths for user items, at a given concurrency: BatchWriteItem
 * (25 per request, unconditional), TransactWriteItems (100 conditional puts per request) and
 * conditional PutItem (one item per request). Chooses the engine's conditional write path.
 *
 *   node --conditions=@gplay/source --import tsx bench/src/ingest-write-paths.ts [--items 5000] [--concurrency 8]
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(import.meta.dirname, "../..");
const load = <T>(relative: string): Promise<T> =>
  import(pathToFileURL(path.join(ROOT, relative)).href) as Promise<T>;

interface Endpoints {
  awsEndpoint: string;
  region: string;
}
interface Scripts {
  ensureLocalStack(): Promise<{ endpoints: Endpoints }>;
  provisionEnvironment(endpoints: Endpoints, prefix: string): Promise<{ tables: { users: string } }>;
  destroyEnvironment(endpoints: Endpoints, prefix: string): Promise<void>;
  localAwsClients(endpoints: Endpoints): {
    documents: { send(c: unknown): Promise<unknown> };
    destroy(): void;
  };
  uniquePrefix(label: string): string;
}
interface Lib {
  BatchWriteCommand: new (input: unknown) => unknown;
  TransactWriteCommand: new (input: unknown) => unknown;
  PutCommand: new (input: unknown) => unknown;
}
interface Domain {
  buildUserItem(
    update: { userId: string; userType: string; interactions: unknown[] },
    updatedAt: string,
  ): Record<string, unknown>;
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      items: { type: "string", default: "5000" },
      concurrency: { type: "string", default: "8" },
      // Off by default: moto deep-copies the whole table on every transaction (slow for everyone).
      transactions: { type: "boolean", default: false },
    },
  });
  const n = Number(values.items);
  const c = Number(values.concurrency);
  const scripts = await load<Scripts>("scripts/src/index.ts");
  const lib = await load<Lib>("featstore-engine/node_modules/@aws-sdk/lib-dynamodb/dist-cjs/index.js");
  const domain = await load<Domain>("featstore-engine/src/domain/index.ts");
  const { endpoints } = await scripts.ensureLocalStack();
  const prefix = scripts.uniquePrefix("bench-paths");
  const env = await scripts.provisionEnvironment(endpoints, prefix);
  const clients = scripts.localAwsClients(endpoints);
  const table = env.tables.users;
  const interactions = Array.from({ length: 3 }, (_, i) => ({
    page: "7269221c-15a2-44e0-aa52-df43630b5356",
    timestamp: 1656634432357 + i,
    clicks: 1,
    timeOnPageMs: 40000,
    scrollPercentage: 40,
    pageVisits: 1,
  }));
  const make = (label: string) =>
    Array.from({ length: n }, (_, i) => ({
      ...domain.buildUserItem(
        { userId: `${label}-${i}`, userType: "Non-Logged", interactions },
        new Date().toISOString(),
      ),
      version: 1,
    }));
  const time = async (label: string, run: () => Promise<void>) => {
    const started = performance.now();
    await run();
    const s = (performance.now() - started) / 1000;
    console.log(`${label}: ${n} items in ${s.toFixed(1)} s = ${Math.round(n / s)} items/s (c=${c})`);
  };
  try {
    await time("BatchWriteItem ×25", () =>
      pool(chunks(make("b"), 25), c, (batch) =>
        clients.documents.send(
          new lib.BatchWriteCommand({
            RequestItems: { [table]: batch.map((Item) => ({ PutRequest: { Item } })) },
          }),
        ),
      ),
    );
    await time("PutItem conditional", () =>
      pool(make("p"), c, (Item) =>
        clients.documents.send(
          new lib.PutCommand({
            TableName: table,
            Item,
            ConditionExpression: "attribute_not_exists(#k)",
            ExpressionAttributeNames: { "#k": "userId" },
          }),
        ),
      ),
    );
    await time("PutItem unconditional", () =>
      pool(make("u"), c, (Item) => clients.documents.send(new lib.PutCommand({ TableName: table, Item }))),
    );
    await time("PutItem legacy Expected", () =>
      pool(make("e"), c, (Item) =>
        clients.documents.send(
          new lib.PutCommand({ TableName: table, Item, Expected: { userId: { Exists: false } } }),
        ),
      ),
    );
    if (values.transactions)
      await time("TransactWriteItems ×100", () =>
        pool(chunks(make("t"), 100), c, (batch) =>
          clients.documents.send(
            new lib.TransactWriteCommand({
              TransactItems: batch.map((Item) => ({
                Put: {
                  TableName: table,
                  Item,
                  ConditionExpression: "attribute_not_exists(#k)",
                  ExpressionAttributeNames: { "#k": "userId" },
                },
              })),
            }),
          ),
        ),
      );
  } finally {
    clients.destroy();
    await scripts.destroyEnvironment(endpoints, prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
