/**
 * The real api process against the local stack (moto + the real MLflow): a bundle registered and
 * promoted with `@champion` is loaded, ranks like tfjs offline, is swapped for a newly promoted
 * version under load, survives the registry going away, and drains on SIGTERM — with zero failed
 * requests throughout.
 */
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  AppError,
  type ArticleFeatureSource,
  type AwsClients,
  BUNDLE_FILES,
  buildModelInputs,
  bundleManifestSchema,
  coldstartListId,
  DEFAULT_FEATURE_COLUMNS,
  decodeInteractionLog,
  emptyReaderProfile,
  FEATURE_SCHEMA_VERSION,
  type FeatureContext,
  hashTerm,
  mapCatalogue,
  packContentVector,
  readBundleDirectory,
  readerProfile,
  recommend,
  scorerOf,
  sparseVectorFromWeights,
  tableStructures,
  unpackContentVector,
  type Vocabularies,
  vocabularyIndex,
} from "@gplay/common";
import { MlflowClient } from "@gplay/mlflow";
import {
  destroyTestEnvironment,
  type LocalStackEndpoints,
  type ProvisionedEnvironment,
  provisionTestEnvironment,
  stackEnvironment,
  uniquePrefix,
} from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type * as TfModule from "@tensorflow/tfjs";
import { sameRanking } from "../../../training/src/app/served-parity.js";
import { hourWorlds } from "../../../training/src/domain/served-window.js";
import { initTensorflow } from "../../../training/src/tf/backend.js";
import { fileSystemLoadHandler } from "../../../training/src/tf/file-io.js";
import { DynamoFeatureStore } from "../../src/adapters/dynamo-feature-store.js";
import type { ArticleMeta } from "../../src/domain/articles.js";
import { readSetOf } from "../../src/domain/read-set.js";
import { type AppProcess, loadLoop, SwitchableProxy, startApp, waitFor } from "../support/app-process.js";
import { AS_OF, article, coldstartRow, pageId, reader, userId } from "../support/fixtures.js";
import { registerTestBundle, writeTestBundle } from "../support/model-bundle.js";
import { seedCatalog } from "../support/seed-stack.js";

jest.setTimeout(90_000);

const KEY = "live-model-key-0123456789";
const HOUR = 3_600_000;
const SECTIONS = ["sp", "rj", "mg"];
const VOCAB: Vocabularies = { section: ["sp", "rj"], region: ["sao-paulo", "rio", "bh"] };
const ARTICLES = 60;
const headers = { "content-type": "application/json", "x-api-key": KEY };

/** Fresh articles with real content vectors, three sections (one unknown to the model). */
function catalog(): ArticleMeta[] {
  return Array.from({ length: ARTICLES }, (_, i) => {
    const n = i + 1;
    const words = new Map<number, number>();
    for (let w = 0; w < 12; w++) words.set(hashTerm(`topic-${(n * 7 + w * 3) % 40}`), 1 + ((n + w) % 5));
    return article(n, {
      section: SECTIONS[n % 3] as string,
      region: ["sao-paulo", "rio", "bh", "recife"][n % 4] as string,
      issued: AS_OF - ((n * 37) % 40) * HOUR,
      vector: packContentVector(sparseVectorFromWeights(words)),
    });
  });
}

let endpoints: LocalStackEndpoints;
let clients: AwsClients;
let env: ProvisionedEnvironment;
let mlflow: MlflowClient;
let proxy: SwitchableProxy;
let tf: typeof TfModule;
let workDir: string;
let app: AppProcess;
const modelName = uniquePrefix("api-ranker");
const experiment = uniquePrefix("api-live-model");
const articles = catalog();
/** The version the api serves after the switch (bundle 3's). */
let switchedVersion: string | undefined;
const bundleDirs: string[] = [];
/** An article of a later snapshot, issued 20 h after the bundles' snapshot. */
const FRESH = article(500, { section: "sp", issued: AS_OF + 20 * HOUR, modified: AS_OF + 20 * HOUR });

async function makeBundle(seed: number, manifest?: Record<string, unknown>): Promise<string> {
  const dir = join(workDir, `bundle-${seed}`);
  await writeTestBundle(tf, dir, {
    vocabularies: VOCAB,
    asOf: AS_OF,
    popularity: articles.slice(0, 40).map((a, i) => [a.page, 100 - i * 2] as [string, number]),
    covisitation: Object.fromEntries(
      articles.slice(0, 20).map((a, i) => [a.page, [[pageId(((i + 5) % ARTICLES) + 1), 3 + (i % 4)]]]),
    ),
    seed,
    ...(manifest === undefined ? {} : { manifest }),
  });
  bundleDirs[seed] = dir;
  return dir;
}

const post = (path: string, body: unknown) =>
  fetch(`${app.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });

interface PredictBody {
  modelVersion: string | null;
  strategy: string;
  fallback: string | null;
  items: { page: string; score: number; reason: string }[];
}

beforeAll(async () => {
  ({ endpoints, clients, env } = await provisionTestEnvironment("api-live"));
  mlflow = new MlflowClient({ trackingUri: endpoints.mlflowUrl, timeoutMs: 60_000 });
  proxy = new SwitchableProxy(new URL(endpoints.mlflowUrl));
  await proxy.up();
  ({ tf } = await initTensorflow({
    prefer: "wasm",
    log: { info: () => undefined, warn: () => undefined } as never,
  }));
  workDir = await mkdtemp(join(tmpdir(), "gplay-api-live-"));

  await seedCatalog(clients, env.tables, articles);
  const store = new DynamoFeatureStore(clients.documents, env.tables);
  await store.putUser(reader(userId(1), [1, 2, 3, 4, 5].map(pageId)), undefined);
  // 3,000 interactions: ten catalog articles and 2,990 pages the catalog no longer holds.
  const heavy = [
    ...Array.from({ length: 2_990 }, (_, i) => pageId(100_000 + i)),
    ...[6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(pageId),
  ];
  await store.putUser(reader(userId(2), heavy), undefined);

  app = await startApp({
    ...stackEnvironment(endpoints),
    MLFLOW_TRACKING_URI: proxy.url,
    MLFLOW_HTTP_REQUEST_TIMEOUT: "5",
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0",
    GPLAY_PREFIX: env.prefix,
    GPLAY_API_KEYS: JSON.stringify([{ name: "it", key: KEY, ratePerSecond: 10_000, burst: 10_000 }]),
    GPLAY_MODEL_NAME: modelName,
    GPLAY_MODEL_REFRESH_MS: "1000",
    GPLAY_DATA_REFRESH_MS: "1000",
    GPLAY_LIVE_REBUILD_MS: "1000",
    GPLAY_DRAIN_DELAY_MS: "1000",
    GPLAY_READY_REQUIRES_MODEL: "true",
    LOG_LEVEL: "info",
  });
}, 120_000);

afterAll(async () => {
  app?.kill();
  await proxy?.down();
  await mlflow.deleteRegisteredModel(modelName).catch((e: unknown) => {
    if (!(e instanceof AppError && e.code === "NOT_FOUND")) throw e;
  });
  await mlflow
    .getExperimentByName(experiment)
    .then((e) => mlflow.deleteExperiment(e.experiment_id))
    .catch(() => undefined);
  if (env !== undefined) await destroyTestEnvironment({ endpoints, clients, env });
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** An article's content vector as the api reads it: a missing or malformed one counts as none. */
function contentOf(vector: Uint8Array | undefined): ArticleFeatureSource["vector"] {
  try {
    return vector === undefined || vector.length === 0 ? undefined : unpackContentVector(vector);
  } catch {
    return undefined;
  }
}

/** tfjs scores of `pages` for a stored reader, from the shared feature builder over the bundle's files. */
async function offlineScores(bundleDir: string, user: string, pages: readonly string[]): Promise<number[]> {
  const json = async (f: string) => JSON.parse(await readFile(join(bundleDir, f), "utf8"));
  const stored = await new DynamoFeatureStore(clients.documents, env.tables).getUser(user);
  if (stored === undefined) throw new Error(`no reader ${user}`);
  const tables = tableStructures(
    await json("candidates/popularity.json"),
    await json("candidates/covisitation.json"),
  );
  const byPage = new Map(articles.map((a) => [a.page, a]));
  const context: FeatureContext = {
    asOf: AS_OF, // the bundle's asOf, the api's reference time
    readsBefore: Number.POSITIVE_INFINITY, // every read of the reader's log counts
    article: (page): ArticleFeatureSource | undefined => {
      const a = byPage.get(page);
      return a === undefined ? undefined : { ...a, vector: unpackContentVector(a.vector) };
    },
    popularity: (page) => tables.popularity.get(page) ?? 0,
    popularityScales: (page) => tables.popularityScales.get(page),
    covisitation: (page) => tables.covisitation.get(page),
    vocab: vocabularyIndex(await json("vocabularies.json")),
    normalisation: await json("normalisation.json"),
  };
  const profile = readerProfile(decodeInteractionLog(stored.log), stored.userType, context);
  const x = buildModelInputs(profile, pages, context);
  const model = await tf.loadLayersModel(fileSystemLoadHandler(join(bundleDir, "tfjs")));
  const out = model.predict([
    tf.tensor2d(x.article_section, [x.rows, 1], "int32"),
    tf.tensor2d(x.article_region, [x.rows, 1], "int32"),
    tf.tensor2d(x.numeric, [x.rows, DEFAULT_FEATURE_COLUMNS.length], "float32"),
  ]) as TfModule.Tensor;
  const scores = Array.from(await out.data());
  model.dispose();
  return scores;
}

describe("the api with a live model from the MLflow registry", () => {
  it("serves cold start while /readyz says why when the registry has no model yet", async () => {
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { model: { ok: boolean; detail: string } } };
    expect(body.checks.model).toEqual({ ok: false, detail: expect.stringMatching(/no model.*@champion/) });
    const res = await post("/predict", { userId: userId(1), k: 5 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("none");
    expect(await res.json()).toMatchObject({
      strategy: "coldstart",
      fallback: "no-model",
      modelVersion: null,
    });
  });

  it("loads the @champion version once registered and names it in every response", async () => {
    const version = await registerTestBundle(mlflow, {
      experiment,
      modelName,
      dir: await makeBundle(1),
      alias: "champion",
    });
    expect(version).toBe("1");
    await waitFor("readiness with version 1", async () => {
      const r = await fetch(`${app.url}/readyz`);
      const b = (await r.json()) as { modelVersion: string | null };
      return r.status === 200 && b.modelVersion === "1" ? true : undefined;
    });
    const res = await post("/predict", { userId: userId(1), k: 10 });
    expect(res.headers.get("x-model-version")).toBe("1");
    const body = (await res.json()) as PredictBody;
    expect(body).toMatchObject({ modelVersion: "1", strategy: "model", fallback: null });
    expect(body.items).toHaveLength(10);
    const read = new Set([1, 2, 3, 4, 5].map(pageId));
    expect(body.items.filter((i) => read.has(i.page))).toEqual([]);
    expect(app.logs()).toContainEqual(
      expect.objectContaining({ event: "model-loaded", modelVersion: "1", via: "alias" }),
    );
  });

  it("ranks a 3,000-interaction reader with an exclude list exactly as tfjs scores the same inputs offline", async () => {
    const exclude = [16, 17, 18, 19, 20].map(pageId);
    const res = await post("/predict", { userId: userId(2), k: 20, exclude });
    const body = (await res.json()) as PredictBody;
    expect(body.modelVersion).toBe("1");
    expect(body.items).toHaveLength(20);
    const stored = await new DynamoFeatureStore(clients.documents, env.tables).getUser(userId(2));
    const readSet = readSetOf(stored, exclude);
    const returned = body.items.map((i) => i.page);
    expect(returned.filter((p) => readSet.has(p))).toEqual([]);

    // Every unread catalog article issued before the bundle's asOf is a candidate here (all are fresh,
    // fewer than the popular tier's budget).
    const candidates = articles.filter((a) => a.issued < AS_OF && !readSet.has(a.page)).map((a) => a.page);
    const scores = await offlineScores(bundleDirs[1] as string, userId(2), candidates);
    const offline = candidates
      .map((page, i) => ({ page, score: scores[i] as number }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 20);
    expect(returned).toEqual(offline.map((o) => o.page));
    const diffs = body.items.map((item, i) => Math.abs(item.score - (offline[i]?.score as number)));
    expect(Math.max(...diffs)).toBeLessThan(1e-5);
  });

  it("answers an unknown reader from cold start on /predict and /coldstart", async () => {
    const predict = await post("/predict", { userId: userId(999), k: 4 });
    expect(await predict.json()).toMatchObject({ strategy: "coldstart", fallback: "unknown-reader" });
    const coldstart = await post("/coldstart", { k: 4, recentlyClicked: [pageId(1)] });
    expect(coldstart.status).toBe(200);
    expect(coldstart.headers.get("x-model-version")).toBe("coldstart");
    const body = (await coldstart.json()) as { items: { page: string }[] };
    expect(body.items).toHaveLength(4);
    expect(body.items.map((i) => i.page)).not.toContain(pageId(1));
  });

  it("keeps serving the current model while the registry is unreachable, and recovers", async () => {
    await proxy.down();
    const failuresBefore = app.logs().filter((l) => l.event === "model-refresh-failed").length;
    await waitFor("a failed registry poll", () =>
      app.logs().filter((l) => l.event === "model-refresh-failed").length > failuresBefore ? true : undefined,
    );
    for (let i = 0; i < 5; i++) {
      const res = await post("/predict", { userId: userId(1), k: 3 });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-model-version")).toBe("1");
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await proxy.up();
  });

  it("refuses a promoted bundle built for another feature schema and keeps the served one", async () => {
    const version = await registerTestBundle(mlflow, {
      experiment,
      modelName,
      dir: await makeBundle(2, { featureSchemaVersion: FEATURE_SCHEMA_VERSION + 1 }),
      alias: "champion",
    });
    await waitFor("the refusal", () =>
      app.logs().some((l) => l.event === "model-refused" && l.modelVersion === version) ? true : undefined,
    );
    const res = await post("/predict", { userId: userId(1), k: 3 });
    expect(res.headers.get("x-model-version")).toBe("1");
  });

  it("switches to a newly promoted version during a concurrent request loop with zero failed requests", async () => {
    const version = await registerTestBundle(mlflow, { experiment, modelName, dir: await makeBundle(3) });
    switchedVersion = version;
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => {
      stop = r;
    });
    const load = loadLoop(
      4,
      (w, i) => post("/predict", { userId: userId(1 + ((w + i) % 2)), k: 10 }),
      stopped,
    );
    await new Promise((r) => setTimeout(r, 500));
    await mlflow.setAlias(modelName, "champion", version);
    await waitFor("responses from the new version", () =>
      app.logs().some((l) => l.event === "model-loaded" && l.modelVersion === version) ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    stop();
    const result = await load;
    expect(result.failed).toEqual([]);
    const all = result.versions.flat();
    expect(new Set(all)).toEqual(new Set(["1", version]));
    // Per worker, versions only move forward: 1 … 1, then the new one … to the end.
    for (const seq of result.versions) {
      const firstNew = seq.indexOf(version);
      expect(firstNew).toBeGreaterThan(0);
      expect(seq.slice(firstNew).every((v) => v === version)).toBe(true);
    }
  });

  it("serves a new snapshot's articles without a restart", async () => {
    const fresh = FRESH;
    await clients.documents.send(
      new PutCommand({
        TableName: env.tables.items,
        Item: { ...fresh, caption: "", contentHash: "h", updatedAt: "2022-08-16T00:00:00.000Z" },
      }),
    );
    await clients.documents.send(
      new PutCommand({
        TableName: env.tables.coldstart,
        Item: coldstartRow(
          coldstartListId.popular("global", 24),
          [fresh.page, pageId(1)],
          "snap-2",
          AS_OF + 24 * HOUR,
        ),
      }),
    );
    // A refresh that scanned the items just before the new article was written can see the new
    // lists without it; the next one (1 s later) has both.
    const body = await waitFor("the new snapshot's article", async () => {
      const b = (await (await post("/coldstart", { k: 2 })).json()) as {
        snapshotId: string;
        items: { page: string }[];
      };
      return b.snapshotId === "snap-2" && b.items.some((i) => i.page === fresh.page) ? b : undefined;
    });
    expect(body.items[0]?.page).toBe(fresh.page);
  });

  it("proposes an article issued after the bundle's snapshot once clicks on it arrive on /events, serving the lists training evaluates after those clicks", async () => {
    const fresh = pageId(500); // issued at AS_OF + 20 h, loaded by the previous test
    const items = async () =>
      ((await (await post("/predict", { userId: userId(999), k: 100 })).json()) as PredictBody).items;
    const pages = async () => (await items()).map((i) => i.page);
    expect(await pages()).not.toContain(fresh); // the bundle's world ends at its snapshot
    const clicks = Array.from({ length: 6 }, (_, i) => ({
      type: "click",
      userId: userId(700 + i),
      page: fresh,
      timestamp: AS_OF + 21 * HOUR + i * 60_000,
    }));
    const res = await post("/events", { events: clicks });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 6, clicks: 6 });
    // The world is rebuilt off the request path (every second here): wait for it.
    const served = await waitFor("the live world with the new article", async () => {
      const list = await items();
      return list.some((i) => i.page === fresh) ? list : undefined;
    });
    // A fresh article with reads: the popular tier proposes it.
    expect(served.find((i) => i.page === fresh)).toMatchObject({ reason: "popular-global" });

    // Training evaluates a visit after these clicks (training/src/domain/served-window.ts) from the
    // served bundle's tables advanced with the same clicks, the world rebuilt over the same articles:
    // the api serves exactly those lists, to a reader with history (the network) and to a new one.
    const dir = bundleDirs[3] as string;
    const manifest = bundleManifestSchema.parse(
      JSON.parse(await readFile(join(dir, BUNDLE_FILES.manifest), "utf8")),
    );
    const bundle = await readBundleDirectory(dir, manifest);
    const loaded = new Map(
      [...articles, FRESH].map((a) => [
        a.page,
        {
          page: a.page,
          section: a.section,
          region: a.region,
          issued: a.issued,
          vector: contentOf(a.vector),
        },
      ]),
    );
    const [visit] = hourWorlds(
      bundle,
      mapCatalogue(loaded),
      Number.POSITIVE_INFINITY,
      { first: [AS_OF + 23 * HOUR], reads: clicks },
      (page) => loaded.has(page),
    );
    const world = visit?.world as NonNullable<typeof visit>["world"];
    expect(world.asOf).toBe(AS_OF + 21 * HOUR + 5 * 60_000);
    const stored = await new DynamoFeatureStore(clients.documents, env.tables).getUser(userId(1));
    const known = readerProfile(
      decodeInteractionLog(stored?.log ?? new Uint8Array()),
      stored?.userType,
      world.features,
    );
    expect(known.interactions).toBeGreaterThan(0);
    const readers = [
      [userId(1), known],
      [userId(999), emptyReaderProfile()],
    ] as const;
    for (const [, profile] of readers)
      expect(recommend(world, profile, scorerOf(bundle), { k: 100 }).items.map((i) => i.page)).toContain(
        fresh,
      );
    // Every loaded article (k above the catalogue's size), so ties cannot fall either side of the cut.
    const sameAsTraining = async () => {
      for (const [user, profile] of readers) {
        const api = (await (await post("/predict", { userId: user, k: 100 })).json()) as PredictBody;
        expect(api.modelVersion).toBe(profile === known ? switchedVersion : null);
        const offline = recommend(world, profile, scorerOf(bundle), { k: 100 }).items;
        if (!sameRanking(offline, api.items)) return undefined;
      }
      return true;
    };
    // /events counts each reader's clicks once that reader is written, and the world is rebuilt every
    // second: a rebuild can fall between two readers' clicks, so wait for the one after the last.
    expect(await waitFor("the api's lists after all six clicks", sameAsTraining, 20_000)).toBe(true);
  });

  it("drains on SIGTERM under load with zero failed requests and exits 0", async () => {
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => {
      stop = r;
    });
    const load = loadLoop(
      4,
      (w, i) => post("/predict", { userId: userId(1 + ((w + i) % 2)), k: 10 }),
      stopped,
    );
    await new Promise((r) => setTimeout(r, 500));
    const exited = once(app.child, "exit");
    app.child.kill("SIGTERM");
    // The load balancer stops sending once readiness fails, well within the drain delay (1 s).
    await new Promise((r) => setTimeout(r, 300));
    stop();
    const result = await load;
    const [code] = await exited;
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(10);
    expect(code).toBe(0);
    expect(app.stdout()).toContain('"event":"drain-finished"');
  });
});
