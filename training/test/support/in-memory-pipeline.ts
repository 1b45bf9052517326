/**
 * The featstore-engine's real use cases (`ingestFile`, `buildSnapshot`) run in-process over
 * in-memory object and feature stores, on generated data: a snapshot for unit tests and
 * benchmarks without the local stack. Integration tests use the local stack instead.
 */
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import {
  type ArticleItem,
  createLogger,
  createMetrics,
  decodeProcessedParquet,
  type IngestionItem,
  type LakeBuckets,
  type Logger,
  type ProcessedDataset,
  type ProcessedRecords,
  type SnapshotManifest,
  snapshotManifestSchema,
  type UserItem,
} from "@gplay/common";
import { buildSnapshot } from "../../../featstore-engine/src/app/build-snapshot.js";
import { domainBuilders } from "../../../featstore-engine/src/app/builders.js";
import { ingestFile } from "../../../featstore-engine/src/app/ingest-file.js";
import type {
  FeatureStore,
  ObjectStore,
  UserMerge,
  WriteReport,
} from "../../../featstore-engine/src/app/ports.js";
import {
  type GeneratorOptions,
  generateDataset,
  type OutputSink,
} from "../../../featstore-engine/src/generator/generate.js";
import type { ArticleVectorSource, SnapshotReader } from "../../src/app/ports.js";

export const quietLogger: Logger = createLogger({
  service: "training-test",
  version: "test",
  level: "warn",
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

const report = (written: number): WriteReport => ({ written, skipped: 0, conflicts: 0, retries: 0 });

export class MemoryObjects implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  private k = (b: string, key: string) => `${b}\u0000${key}`;
  private etag = (body: Uint8Array) => `"${createHash("md5").update(body).digest("hex")}"`;
  async head(bucket: string, key: string) {
    const body = this.objects.get(this.k(bucket, key));
    if (body === undefined) throw Object.assign(new Error(`no ${key}`), { code: "NOT_FOUND" });
    return { etag: this.etag(body), size: body.length };
  }
  async read(bucket: string, key: string) {
    const body = this.objects.get(this.k(bucket, key));
    if (body === undefined) throw Object.assign(new Error(`no ${key}`), { code: "NOT_FOUND" });
    return {
      body: (async function* () {
        yield body;
      })(),
      etag: this.etag(body),
      size: body.length,
    };
  }
  async put(bucket: string, key: string, body: Uint8Array | string) {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    this.objects.set(this.k(bucket, key), bytes);
    return { etag: this.etag(bytes) };
  }
  async *list(bucket: string, prefix: string) {
    for (const [k, body] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [b, key] = k.split("\u0000") as [string, string];
      if (b === bucket && key.startsWith(prefix)) yield { key, size: body.length, etag: this.etag(body) };
    }
  }
  async delete(bucket: string, key: string) {
    this.objects.delete(this.k(bucket, key));
  }
}

export class MemoryFeatures implements FeatureStore {
  readonly ingestions = new Map<string, IngestionItem>();
  readonly articles = new Map<string, ArticleItem>();
  readonly users = new Map<string, UserItem>();
  async getIngestion(id: string) {
    return this.ingestions.get(id);
  }
  async putIngestion(item: IngestionItem) {
    this.ingestions.set(item.sourceId, item);
  }
  async upsertArticles(items: readonly ArticleItem[]) {
    for (const a of items) {
      const known = this.articles.get(a.page);
      if (known === undefined || a.modified >= known.modified) this.articles.set(a.page, a);
    }
    return report(items.length);
  }
  async mergeUsers(merges: ReadonlyMap<string, UserMerge>) {
    for (const [userId, merge] of merges) {
      const existing = this.users.get(userId);
      this.users.set(userId, { ...merge(existing), version: (existing?.version ?? 0) + 1 });
    }
    return report(merges.size);
  }
  async putColdstart(items: readonly unknown[]) {
    return report(items.length);
  }
}

export interface InMemorySnapshot {
  manifest: SnapshotManifest;
  manifestKey: string;
  snapshots: SnapshotReader;
  vectors: ArticleVectorSource;
  features: MemoryFeatures;
}

const BUCKETS: LakeBuckets = { raw: "mem-raw", processed: "mem-processed", models: "mem-models" };

export function memorySnapshotReader(objects: MemoryObjects): SnapshotReader {
  const bytesOf = async (bucket: string, key: string) => {
    const chunks: Uint8Array[] = [];
    for await (const c of (await objects.read(bucket, key)).body) chunks.push(c);
    return Buffer.concat(chunks);
  };
  return {
    async latestManifestKey(bucket) {
      return (
        JSON.parse((await bytesOf(bucket, "processed/snapshots/latest.json")).toString()) as {
          manifestKey: string;
        }
      ).manifestKey;
    },
    async readManifest(bucket, key) {
      return snapshotManifestSchema.parse(JSON.parse((await bytesOf(bucket, key)).toString()));
    },
    async readPartition<D extends ProcessedDataset>(
      bucket: string,
      dataset: D,
      key: string,
    ): Promise<ProcessedRecords[D][]> {
      return decodeProcessedParquet(dataset, await bytesOf(bucket, key));
    },
  };
}

export function memoryVectors(features: MemoryFeatures): ArticleVectorSource {
  return {
    async vectors(pages) {
      const out = new Map<string, Uint8Array>();
      for (const p of pages) {
        const a = features.articles.get(p);
        if (a !== undefined) out.set(p, a.vector);
      }
      return out;
    },
  };
}

/** Generates data, ingests every file with the engine's use case and builds the snapshot. */
/**
 * Generates a data set (the default generator, or `generate`, e.g. a world of the family), ingests
 * every file and builds the snapshot, all in memory.
 */
export async function inMemorySnapshot(
  options: GeneratorOptions,
  generate: (sink: OutputSink) => unknown = (sink) => generateDataset(options, sink),
): Promise<InMemorySnapshot> {
  const files = new Map<string, string>();
  const sink: OutputSink = {
    open(path) {
      const parts: string[] = [];
      return { write: (t) => void parts.push(t), close: () => void files.set(path, parts.join("")) };
    },
  };
  generate(sink);
  const objects = new MemoryObjects();
  const features = new MemoryFeatures();
  const metrics = createMetrics(
    { service: "featstore-engine", environment: "test" },
    { write: () => undefined },
  );
  const deps = {
    objects,
    features,
    buckets: BUCKETS,
    builders: domainBuilders,
    logger: quietLogger,
    metrics,
  };
  for (const [path, body] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await objects.put(BUCKETS.raw, `raw/${path}`, body);
    await ingestFile(deps, { bucket: BUCKETS.raw, key: `raw/${path}` });
  }
  const result = await buildSnapshot({
    objects,
    features,
    events: { publishSnapshotReady: async () => undefined },
    buckets: BUCKETS,
    logger: quietLogger,
  });
  if (result.status !== "built") throw new Error(`snapshot not built: ${result.status}`);
  return {
    manifest: result.manifest,
    manifestKey: result.manifestKey,
    snapshots: memorySnapshotReader(objects),
    vectors: memoryVectors(features),
    features,
  };
}
