/**
 * The floor under the engine's CPU per interaction: the AWS SDK's own CPU for the engine's write path
 * (one BatchGetItem per 100 readers, then one conditional PutItem per reader: DynamoFeatureStore's
 * `mergeUsers`) with items built as the engine builds them and nothing else in the process. Run as a
 * child by ingest-bench.ts (so the CPU is this process's only); prints one JSON line:
 * `{"items": n, "cpuSeconds": s}` over the writes alone (start-up and item building excluded).
 *
 *   node --conditions=@gplay/source --import tsx bench/src/sdk-floor.ts --dir <data> --items 2000
 * with the engine's env (GPLAY_AWS_ENDPOINT, AWS_REGION, GPLAY_PREFIX, GPLAY_DYNAMO_CONCURRENCY).
 */
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { awsClientOptionsFromEnv, awsEnvSchema, createAwsClients, tableNames } from "@gplay/common";
import { ROOT } from "./engine-run.js";

interface Interaction {
  page: string;
  timestamp: number;
}
interface DomainModule {
  cleanRawFile(
    source: AsyncIterable<Uint8Array>,
    key: string,
    options: { schemaCheck: boolean },
  ): Promise<{
    batches: AsyncIterable<
      {
        kind: string;
        user?: { userId: string; userType: string };
        interactions?: Interaction[];
      }[]
    >;
  }>;
  buildUserItem(
    update: { userId: string; userType: string; interactions: Interaction[] },
    updatedAt: string,
  ): Record<string, unknown>;
}
interface StoreModule {
  DynamoFeatureStore: new (
    clients: { documents: unknown; dynamodb: unknown },
    tables: unknown,
    options: { concurrency: number },
  ) => {
    mergeUsers(merges: ReadonlyMap<string, (existing: unknown) => unknown>): Promise<{ written: number }>;
  };
}

const load = <T>(relative: string): Promise<T> =>
  import(pathToFileURL(path.join(ROOT, relative)).href) as Promise<T>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { dir: { type: "string" }, items: { type: "string", default: "2000" } },
  });
  const dir = values.dir as string;
  const limit = Number(values.items);
  const domain = await load<DomainModule>("featstore-engine/src/domain/index.ts");
  const { DynamoFeatureStore } = await load<StoreModule>(
    "featstore-engine/src/adapters/dynamo-feature-store.ts",
  );
  const drafts: Record<string, unknown>[] = [];
  const updatedAt = new Date().toISOString();
  const files = (await readdir(path.join(dir, "treino"))).filter((f) => f.endsWith(".csv")).sort();
  for (const [index, file] of files.entries()) {
    const key = `treino/${file}`;
    const cleaned = await domain.cleanRawFile(createReadStream(path.join(dir, key)), key, {
      schemaCheck: false,
    });
    for await (const batch of cleaned.batches)
      for (const o of batch) {
        if (drafts.length >= limit || o.user === undefined || o.interactions === undefined) continue;
        // Distinct keys: one reader appears in many files.
        const userId = `${o.user.userId}#floor${index}`;
        drafts.push(
          domain.buildUserItem(
            { userId, userType: o.user.userType, interactions: o.interactions },
            updatedAt,
          ),
        );
      }
    if (drafts.length >= limit) break;
  }
  const env = process.env;
  const clients = createAwsClients(awsClientOptionsFromEnv(awsEnvSchema.parse(env)));
  const store = new DynamoFeatureStore(clients, tableNames(env.GPLAY_PREFIX ?? ""), {
    concurrency: Number(env.GPLAY_DYNAMO_CONCURRENCY ?? 16),
  });
  const merges = new Map<string, (existing: unknown) => unknown>();
  for (const draft of drafts) merges.set(String(draft.userId), () => draft);
  const before = process.cpuUsage();
  const report = await store.mergeUsers(merges);
  const used = process.cpuUsage(before);
  clients.destroy();
  console.log(JSON.stringify({ items: report.written, cpuSeconds: (used.user + used.system) / 1e6 }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
