/**
 * What a served list could reach in the validacao days, per world of the quality bench
 * (src/validacao-reach.ts; docs/quality.md, "What a static list can reach"). With `--served`, it also
 * trains the model the quality bench trains on each world and scores, for the same readers at their
 * first validacao visit, the bundle's static list (the snapshot's world) and the served path with the
 * portal's reads before the visit fed as `/events` clicks (training's `hourWorlds`, as its validacao
 * evaluation: worlds rebuilt per hour):
 *
 *   node --conditions=@gplay/source --import tsx bench/src/validacao-reach-cli.ts [--worlds 6] [--seeds a,b] [--users 20000] [--days 7] [--served] [--epochs 8] [--backend wasm|cpu|node]
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  type ArticleCatalogue,
  type ArticleFeatureSource,
  BUNDLE_FILES,
  bundleManifestSchema,
  bundleWorlds,
  type LoadedBundle,
  mapCatalogue,
  type RecommendationWorld,
  readBundleDirectory,
  readerProfile,
  recommend,
  scorerOf,
  type TimedRead,
} from "@gplay/common";
import {
  type GeneratedWorld,
  generatedWorld,
  loadRepoModule,
  WORLD_OPTIONS,
  type WorldData,
  worldSeeds,
} from "./quality-worlds.js";
import { type FirstVisit, firstVisits, validacaoReach } from "./validacao-reach.js";

const { values } = parseArgs({
  options: {
    ...WORLD_OPTIONS,
    served: { type: "boolean", default: false },
    epochs: { type: "string", default: "8" },
    backend: { type: "string", default: "wasm" },
  },
});

const share = (n: number, of: number) => (of === 0 ? "n/a" : `${((100 * n) / of).toFixed(1)} %`);

/** Every read the world holds, treino and validacao, by time. */
function portalReads(data: WorldData): { page: string; timestamp: number }[] {
  const reads = (data.events as { page: string; timestamp: number }[]).map(({ page, timestamp }) => ({
    page,
    timestamp,
  }));
  for (const accesses of data.validation.values()) reads.push(...accesses);
  return reads.sort((a, b) => a.timestamp - b.timestamp);
}

/** The model bundle the quality bench trains on this world (training's defaults, `--epochs`), in memory. */
async function trainedBundle(world: GeneratedWorld): Promise<LoadedBundle> {
  const { initTensorflow } = await loadRepoModule("training/src/tf/backend.ts");
  const { trainAndEvaluate, DEFAULT_TRAIN_CONFIG } = await loadRepoModule("training/src/app/train.ts");
  const silent = { info: () => undefined, warn: () => undefined };
  const { tf, backend } = await initTensorflow({ prefer: values.backend, log: silent });
  let bundle: LoadedBundle | undefined;
  const { snap, data } = world;
  await trainAndEvaluate(
    {
      tf,
      backend,
      log: silent,
      onBundle: async (dir: string) => {
        const manifest = bundleManifestSchema.parse(
          JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8")),
        );
        bundle = await readBundleDirectory(dir, manifest);
      },
    },
    data,
    {
      snapshotId: snap.manifest.snapshotId,
      manifestKey: snap.manifestKey,
      digest: snap.manifest.digest,
      bucket: "mem",
    },
    { ...DEFAULT_TRAIN_CONFIG, epochs: Number(values.epochs), register: false },
  );
  if (bundle === undefined) throw new Error("training wrote no bundle");
  return bundle;
}

/** What the bench uses of training's `hourWorlds` (training/src/domain/served-window.ts). */
type HourWorlds = (
  tables: LoadedBundle,
  catalogue: ArticleCatalogue,
  readsBefore: number,
  visits: { first: readonly number[]; reads: readonly TimedRead[] },
  admits: (page: string) => boolean,
) => { world: RecommendationWorld; cases: number[] }[];

/** Readers whose first visit's list holds a target: the static list, and the served path (training's hour worlds). */
async function modelHits(
  data: WorldData,
  bundle: LoadedBundle,
  visits: readonly FirstVisit[],
  reads: readonly TimedRead[],
): Promise<{ static: number; served: number; rebuilds: number; seconds: number }> {
  const { hourWorlds } = (await loadRepoModule("training/src/domain/served-window.ts")) as {
    hourWorlds: HourWorlds;
  };
  const articles = data.articles as unknown as ReadonlyMap<string, ArticleFeatureSource>;
  const catalogue = mapCatalogue(articles);
  const worldOf = bundleWorlds(bundle);
  const scorer = scorerOf(bundle);
  const readers = data.readers as unknown as ReadonlyMap<
    string,
    { log: Parameters<typeof readerProfile>[0]; userType: Parameters<typeof readerProfile>[1] }
  >;
  const listIn = (world: RecommendationWorld) => (visit: FirstVisit) => {
    const reader = readers.get(visit.userId);
    const profile = readerProfile(reader?.log ?? [], reader?.userType, world.features);
    return recommend(world, profile, scorer, { k: 10, exclude: visit.read }).items.map((i) => i.page);
  };
  const started = performance.now();
  const still = listIn(worldOf(catalogue));
  let staticHits = 0;
  for (const visit of visits) if (still(visit).some((p) => visit.targets.has(p))) staticHits++;
  // Each visit in the world of its hour's start, with the portal's reads before it (every read of the
  // reader's log counts, as the static list's).
  const hours = hourWorlds(
    bundle,
    catalogue,
    Number.POSITIVE_INFINITY,
    { first: visits.map((v) => v.first), reads },
    (page) => articles.has(page),
  );
  let served = 0;
  for (const hour of hours) {
    const list = listIn(hour.world);
    for (const i of hour.cases) {
      const visit = visits[i] as FirstVisit;
      if (list(visit).some((p) => visit.targets.has(p))) served++;
    }
  }
  return {
    static: staticHits,
    served,
    rebuilds: hours.length,
    seconds: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  console.log(
    "world: validacao readers with a new read, their targets; targets issued after the snapshot; of those, issued before the reader's first validacao visit; HR@10 of the 10 newest unread articles at that visit, and of the 10 unread most read among the portal's 1,000 latest reads before it" +
      (values.served
        ? "; with --served, HR@10 of the trained bundle's static list (the snapshot's world) and of its served path with the portal's reads before the visit fed as /events (world rebuilt per hour)"
        : ""),
  );
  for (const seed of worldSeeds(Number(values.worlds), values.seeds)) {
    const world = await generatedWorld(seed, { users: Number(values.users), days: Number(values.days) });
    const { data } = world;
    const readBefore = (userId: string) => new Set((data.readers.get(userId)?.log ?? []).map((e) => e.page));
    const reads = portalReads(data);
    const reach = validacaoReach({
      asOf: data.asOf,
      issued: new Map([...data.articles].map(([page, a]) => [page, a.issued])),
      validation: data.validation,
      readBefore,
      reads,
    });
    const hr = (hits: number) => (hits / Math.max(1, reach.readers)).toFixed(4);
    let served = "";
    if (values.served) {
      const trainStarted = performance.now();
      const bundle = await trainedBundle(world);
      const trainSeconds = (performance.now() - trainStarted) / 1000;
      const visits = firstVisits(data.validation, readBefore);
      const m = await modelHits(data, bundle, visits, reads);
      served =
        `; model (${bundle.manifest.strategy.kind}, serving popularity ${bundle.manifest.params.serving_popularity}) static HR@10 ${hr(m.static)}, ` +
        `served path HR@10 ${hr(m.served)} (${m.rebuilds} worlds; train ${trainSeconds.toFixed(0)} s, lists ${m.seconds.toFixed(0)} s)`;
    }
    console.log(
      `${seed}: ${reach.readers} readers, ${reach.targets} targets; issued after the snapshot ${share(reach.issuedAfterSnapshot, reach.targets)}; ` +
        `before the first visit ${share(reach.issuedBeforeFirstVisit, reach.targets)}; ` +
        `newest ten HR@10 ${hr(reach.newestTenHits)}; ` +
        `online buffer HR@10 ${hr(reach.onlineBufferHits)}${served}`,
    );
  }
}

await main();
