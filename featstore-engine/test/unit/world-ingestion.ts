/**
 * A generated world through the engine's real ingestion: every file read, validated, cleaned and
 * staged by `prepareIngestion` (what `ingestFile` does before writing), in memory. Nothing is
 * written: the stores are fakes that throw on any write.
 */
import { Writable } from "node:stream";
import {
  type ArticleRecord,
  createLogger,
  createMetrics,
  type InteractionRecord,
  type SparseVector,
  unpackContentVector,
  type ValidationRecord,
} from "@gplay/common";
import { domainBuilders } from "../../src/app/builders.js";
import {
  type IngestDeps,
  prepareIngestion,
  type SourceReader,
  type Staged,
} from "../../src/app/ingest-file.js";
import type { FeatureStore, ObjectStore } from "../../src/app/ports.js";
import { generateWorld, type WorldAggregates, type WorldOptions } from "../../src/generator/worlds.js";
import { memorySink } from "./support.js";

const refuse = (what: string) => (): never => {
  throw new Error(`unexpected ${what}: staging a file must not write`);
};

const objects: ObjectStore = {
  head: refuse("objects.head"),
  read: refuse("objects.read"),
  put: refuse("objects.put"),
  list: refuse("objects.list"),
  delete: refuse("objects.delete"),
};

const features: FeatureStore = {
  getIngestion: async () => undefined,
  putIngestion: refuse("putIngestion"),
  upsertArticles: refuse("upsertArticles"),
  mergeUsers: refuse("mergeUsers"),
  putColdstart: refuse("putColdstart"),
};

const deps: IngestDeps = {
  objects,
  features,
  buckets: { raw: "raw", processed: "processed", models: "models" },
  builders: domainBuilders,
  logger: createLogger({
    service: "featstore-engine-test",
    version: "test",
    level: "warn",
    destination: new Writable({ write: (_c, _e, done) => done() }),
  }),
  metrics: createMetrics({ service: "featstore-engine", environment: "test" }, { write: () => undefined }),
};

/** Validates and stages one file with the engine's ingestion. */
export async function stageFile(path: string, text: string): Promise<Staged> {
  const body = new TextEncoder().encode(text);
  const reader: SourceReader = {
    head: async () => ({ etag: '"generated"', size: body.length }),
    read: async () => ({
      body: (async function* () {
        yield body;
      })(),
      etag: '"generated"',
      size: body.length,
    }),
  };
  const prepared = await prepareIngestion(deps, { bucket: "raw", key: `raw/${path}` }, reader);
  if (prepared.status !== "prepared") throw new Error(`${path}: ${prepared.status}`);
  prepared.task.end();
  return prepared.staged;
}

export interface IngestedWorld {
  expected: WorldAggregates;
  files: Map<string, string>;
  staged: Map<string, Staged>;
  interactions: InteractionRecord[];
  validation: ValidationRecord[];
  articles: Map<string, ArticleRecord & { vector: SparseVector }>;
}

/** Generates a world in memory and stages every file of it. */
export async function ingestWorld(options: WorldOptions): Promise<IngestedWorld> {
  const { sink, files } = memorySink();
  const expected = generateWorld(options, sink);
  const staged = new Map<string, Staged>();
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    staged.set(path, await stageFile(path, text));
  const all = [...staged.values()];
  const articles = new Map<string, ArticleRecord & { vector: SparseVector }>();
  for (const s of all)
    for (const a of s.articles)
      articles.set(a.record.page, { ...a.record, vector: unpackContentVector(a.item.vector) });
  return {
    expected,
    files,
    staged,
    interactions: all.flatMap((s) => s.interactions),
    validation: all.flatMap((s) => s.validation),
    articles,
  };
}
