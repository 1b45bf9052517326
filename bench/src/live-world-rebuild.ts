/**
 * What one rebuild of the api's live world costs at the catalogue's full size (docs/architecture.md,
 * "The live world"): a synthetic catalogue (`--articles`, newest first over 400 days, content vectors on
 * the fresh ones) and bundle tables (`--read` pages), then rounds of 10,000 clicks each followed by a
 * rebuild (`LivePopularity.tables()` + `bundleWorlds`), beside the snapshot's world built once (what the
 * api builds on each articles refresh). Prints one JSON line (ms, medians over the rounds).
 *
 *   node --conditions=@gplay/source --import tsx bench/src/live-world-rebuild.ts [--articles 364000] [--read 46000] [--rounds 7]
 */
import { parseArgs } from "node:util";
import {
  type ArticleFeatureSource,
  bundleLivePopularity,
  bundleWorlds,
  DEFAULT_CANDIDATES,
  type LoadedBundle,
  mapCatalogue,
  mulberry32,
} from "@gplay/common";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: {
    articles: { type: "string", default: "364000" },
    read: { type: "string", default: "46000" },
    rounds: { type: "string", default: "7" },
  },
});
const H = 3_600_000;
const AS_OF = Date.UTC(2022, 7, 15);
const N = Number(values.articles);
const READ = Number(values.read);
const random = mulberry32(7);
const page = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

const articles = new Map<string, ArticleFeatureSource>();
for (let i = 0; i < N; i++) {
  const issued = AS_OF + 2 * H - Math.floor((i / N) * 400 * 24 * H);
  const fresh = AS_OF - issued < DEFAULT_CANDIDATES.freshHours * H;
  articles.set(page(i), {
    page: page(i),
    section: `s${i % 50}`,
    region: `r${i % 27}`,
    issued,
    vector: fresh
      ? {
          dimension: 250,
          indices: Uint32Array.from(new Set(Array.from({ length: 50 }, (_, k) => (i + k * 5) % 250))).sort(),
          values: Float32Array.from({ length: 50 }, () => random()),
        }
      : undefined,
  });
}
const entries: [string, number][] = Array.from({ length: READ }, (_, i) => [page(i), READ - i]);
const bundle = {
  manifest: { asOf: AS_OF, candidates: DEFAULT_CANDIDATES, strategy: { kind: "model" }, params: {} },
  popularity: {
    asOf: AS_OF,
    halfLifeHours: 6,
    entries,
    scales: Object.fromEntries(entries.map(([p, v]) => [p, [v, v, v]])),
  },
  covisitation: { topK: 30, neighbours: {} },
} as unknown as LoadedBundle;

const worldOf = bundleWorlds(bundle);
const catalogue = mapCatalogue(articles);
const live = bundleLivePopularity(bundle, () => true);
let started = performance.now();
worldOf(catalogue);
const staticWorldMs = performance.now() - started;
const rebuildMs: number[] = [];
const tablesMs: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  for (let k = 0; k < 10_000; k++)
    live.record({ page: page(Math.floor(random() * 5_000)), timestamp: AS_OF + r * 60_000 + k });
  started = performance.now();
  const tables = live.tables();
  const tablesDone = performance.now();
  worldOf(catalogue, undefined, tables);
  tablesMs.push(tablesDone - started);
  rebuildMs.push(performance.now() - started);
}
console.log(
  JSON.stringify({
    articles: N,
    readPages: READ,
    snapshotWorldMs: Math.round(staticWorldMs),
    liveRebuildMs: Math.round(median(rebuildMs)),
    ofWhichTablesMs: Math.round(median(tablesMs)),
  }),
);
