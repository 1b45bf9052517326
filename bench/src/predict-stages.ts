/**
 * /predict's own CPU split by stage, in process (no HTTP, no feature store): the bench's world and
 * ranker (predict-fixture.ts) built in memory from the sources under `--root`, then every request of a
 * round through one stage after the other, each stage timed with `process.cpuUsage` over the whole
 * round. Stages: parse/validate (JSON + zod), reader decode (log → interactions → profile, read set),
 * candidates, features, forward pass, order + serialise (response items, JSON). Prints one JSON line
 * with the medians over the rounds; `bench:api` runs it on this tree and on a baseline tree side by
 * side.
 *
 *   node --conditions=@gplay/source --import tsx src/predict-stages.ts [--root DIR]
 *     [--readers 2000] [--articles 2000] [--rounds 7]
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_CANDIDATES } from "@gplay/common";
import { articleItem, benchData, bundleSpec, readerItems } from "./predict-fixture.js";
import { median } from "./stats.js";

/** The stages of one /predict, in the order the path runs them. */
export const PREDICT_STAGES = [
  "parse/validate",
  "reader decode",
  "candidates",
  "features",
  "forward pass",
  "order + serialise",
] as const;
export type PredictStage = (typeof PREDICT_STAGES)[number];

/** What one run prints: CPU µs per request for each stage (medians over rounds) and their sum. */
export interface StageFigures {
  root: string;
  requests: number;
  rounds: number;
  stagesUs: Record<PredictStage, number>;
  totalUs: number;
  /** A digest of every response's pages and scores, to check two trees answer alike. */
  answers: string;
}

type Json = Record<string, unknown>;
/** common's exports; loaded from the tree under `--root`, which has the same names. */
type Common = typeof import("@gplay/common");
type UserItem = import("@gplay/common").UserItem;
/** The api's domain helpers the path uses (the bench does not depend on @gplay/api). */
interface ApiDomain {
  applyInteractions(existing: undefined, id: string, type: string, reads: Json[], now: Date): UserItem;
  readSetOf(user: UserItem, extra: readonly string[]): { has(page: string): boolean };
  toRecommendedItem(article: Json, score: number, reason: string, relatedTo?: string): Json;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      root: {
        type: "string",
        default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", ".."),
      },
      readers: { type: "string", default: "2000" },
      articles: { type: "string", default: "2000" },
      rounds: { type: "string", default: "7" },
    },
  });
  const root = path.resolve(args.root as string);
  const load = <T>(relative: string): Promise<T> => import(pathToFileURL(path.join(root, relative)).href);
  const common = await load<Common>("common/src/index.ts");
  const { applyInteractions } = await load<ApiDomain>("api/src/domain/reader.ts");
  const { readSetOf } = await load<ApiDomain>("api/src/domain/read-set.ts");
  const { toRecommendedItem } = await load<ApiDomain>("api/src/domain/articles.ts");
  const readers = Number(args.readers);
  const data = benchData(Number(args.articles), readers);

  // The served bundle, written by the same helper bench:api registers, read back as the api reads it.
  const { initTensorflow } = await load<{
    initTensorflow(o: { prefer: string; log: unknown }): Promise<{ tf: unknown }>;
  }>("training/src/tf/backend.ts");
  const { writeTestBundle } = await load<{
    writeTestBundle(tf: unknown, dir: string, spec: Json): Promise<unknown>;
  }>("api/test/support/model-bundle.ts");
  const { tf } = await initTensorflow({
    prefer: "wasm",
    log: { info: () => undefined, warn: () => undefined },
  });
  const dir = await mkdtemp(path.join(tmpdir(), "gplay-predict-stages-"));
  let bundle: import("@gplay/common").LoadedBundle;
  try {
    await writeTestBundle(tf, dir, bundleSpec(data.articles, data.covisit, DEFAULT_CANDIDATES));
    const manifest = common.bundleManifestSchema.parse(
      JSON.parse(await readFile(path.join(dir, common.BUNDLE_FILES.manifest), "utf8")),
    );
    bundle = await common.readBundleDirectory(dir, manifest);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // The api's catalogue: articles as the items table holds them, vectors unpacked once.
  const sources = new Map<string, import("@gplay/common").ArticleFeatureSource>();
  const meta = new Map<string, Json>();
  data.articles.forEach((a, i) => {
    const item = articleItem(a, i);
    meta.set(a.page, item);
    sources.set(a.page, {
      page: a.page,
      section: a.section,
      region: a.region,
      issued: a.issued,
      vector: common.unpackContentVector(item.vector as Uint8Array),
    });
  });
  const world = common.bundleWorlds(bundle)(common.mapCatalogue(sources));
  const scorer = common.scorerOf(bundle) as import("@gplay/common").NetworkScorer;
  const network = bundle.model?.network as import("@gplay/common").ForwardPassModel;
  const users = readerItems(data, applyInteractions);

  const bodies = users.map((u) => JSON.stringify({ userId: u.userId, k: 10 }));
  const byId = new Map(users.map((u) => [u.userId, u]));

  // The scorer's forward pass where the tree has one (it reuses per-article sums), else the network's.
  const forward = (
    x: import("@gplay/common").ModelInputArrays,
    context: import("@gplay/common").FeatureContext,
  ): Float32Array =>
    typeof scorer.forward === "function"
      ? scorer.forward(x, context)
      : (network.predict(
          { article_section: x.article_section, article_region: x.article_region, numeric: x.numeric },
          x.rows,
        )[0] as Float32Array);

  const rounds = Number(args.rounds);
  const samples: Record<PredictStage, number[]> = Object.fromEntries(
    PREDICT_STAGES.map((s) => [s, []]),
  ) as never;
  let answers = "";
  // One warm-up round (JIT, the world's lazy parts), then the timed rounds.
  for (let round = 0; round <= rounds; round++) {
    const timed = <T>(stage: PredictStage, run: () => T): T => {
      const before = process.cpuUsage();
      const out = run();
      const used = process.cpuUsage(before);
      if (round > 0) samples[stage].push((used.user + used.system) / bodies.length);
      return out;
    };
    const requests = timed("parse/validate", () =>
      bodies.map((b) => common.predictRequestSchema.parse(JSON.parse(b))),
    );
    const readersOf = timed("reader decode", () =>
      requests.map((r) => {
        const user = byId.get(r.userId) as UserItem;
        const readSet = readSetOf(user, r.exclude ?? []);
        const interactions = common.decodeInteractionLog(user.log);
        return { readSet, profile: common.readerProfile(interactions, user.userType, world.features) };
      }),
    );
    const pools = timed("candidates", () =>
      readersOf.map((r) => common.candidatePool(world, r.profile, r.readSet)),
    );
    const context = scorer.context(world);
    const inputs = timed("features", () =>
      pools.map((pool, i) =>
        common.buildModelInputs(
          (readersOf[i] as (typeof readersOf)[number]).profile,
          pool.map((p) => p.page),
          context,
        ),
      ),
    );
    const scores = timed("forward pass", () => inputs.map((x) => forward(x, context)));
    const bodiesOut = timed("order + serialise", () =>
      pools.map((pool, i) => {
        const items = common
          .orderByScore(pool, scores[i] as Float32Array, 10)
          .map((e) => toRecommendedItem(meta.get(e.page) as Json, e.score, e.tier, e.relatedTo));
        return JSON.stringify({
          userId: requests[i]?.userId,
          modelVersion: "1",
          strategy: "model",
          fallback: null,
          snapshotId: "bench-snapshot",
          items,
        });
      }),
    );
    if (round === rounds) answers = digest(bodiesOut);
  }
  const stagesUs = Object.fromEntries(PREDICT_STAGES.map((s) => [s, median(samples[s])])) as Record<
    PredictStage,
    number
  >;
  const figures: StageFigures = {
    root,
    requests: bodies.length,
    rounds,
    stagesUs,
    totalUs: PREDICT_STAGES.reduce((n, s) => n + stagesUs[s], 0),
    answers,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** A short digest of the responses (pages and scores to 1e-6), equal for trees that answer alike. */
function digest(bodies: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const body of bodies) {
    const items = (JSON.parse(body) as { items: { page: string; score: number }[] }).items;
    for (const item of items)
      for (const c of `${item.page}:${item.score.toFixed(6)};`)
        h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  }
  return h.toString(16);
}

// Run when started as a script (bench:api imports the stage names and figures' shape).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
