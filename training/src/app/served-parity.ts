/**
 * Does the api serve what training evaluated? Loads the champion bundle and the snapshot it was
 * trained on, computes each reader's top-k offline through common's recommendation path over the
 * bundle's world (as training's evaluation does), asks the running api for the same readers, and
 * reports list agreement and NDCG@10 on the validacao accesses side by side.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AppError,
  BUNDLE_FILES,
  bundleManifestSchema,
  bundleWorlds,
  mapCatalogue,
  readBundleDirectory,
  recommend,
  scorerOf,
} from "@gplay/common";
import { evaluateLists, K } from "../domain/metrics.js";
import { sample, validationCases } from "../domain/split.js";
import { profileIn } from "../domain/world.js";
import { loadTrainingData } from "./load-data.js";
import type { ArticleVectorSource, ModelRegistry, SnapshotReader } from "./ports.js";

/** One reader's list as the api returned it. */
export interface ServedList {
  modelVersion: string | null;
  items: { page: string; score: number }[];
}

/** The running api's `/predict`. */
export interface ServedRecommendations {
  predict(userId: string, k: number): Promise<ServedList>;
}

export interface ParityDeps {
  snapshots: SnapshotReader;
  vectors: ArticleVectorSource;
  registry: ModelRegistry;
  api: ServedRecommendations;
}

export interface ParityOptions {
  bucket: string;
  modelName: string;
  alias: string;
  /** Readers with history compared list by list (besides every sampled validacao reader). */
  readers: number;
  /** At most this many validacao readers (NDCG side by side). */
  validationReaders: number;
  seed: number;
}

export interface ParityReport {
  version: string;
  snapshotId: string;
  compared: number;
  identical: number;
  /** The first few readers whose lists differ, offline against served. */
  mismatches: { userId: string; offline: string[]; served: string[]; servedVersion: string | null }[];
  validacao: { readers: number; offlineNdcg10: number; servedNdcg10: number };
}

/** Scores this close count as a tie: the order among tied pages may differ. */
export const SCORE_TIE = 1e-6;

/**
 * Whether two ranked lists agree: same length, scores equal within `SCORE_TIE` position by position,
 * and the same pages within each run of tied scores (the same pages in the same order when no ties).
 */
export function sameRanking(
  a: readonly { page: string; score: number }[],
  b: readonly { page: string; score: number }[],
): boolean {
  if (a.length !== b.length) return false;
  let start = 0;
  for (let i = 0; i <= a.length; i++) {
    const runEnds =
      i === a.length ||
      Math.abs((a[i] as { score: number }).score - (a[start] as { score: number }).score) > SCORE_TIE;
    if (
      i < a.length &&
      Math.abs((a[i] as { score: number }).score - (b[i] as { score: number }).score) > SCORE_TIE
    )
      return false;
    if (!runEnds) continue;
    const left = a
      .slice(start, i)
      .map((e) => e.page)
      .sort();
    const right = b
      .slice(start, i)
      .map((e) => e.page)
      .sort();
    if (left.join() !== right.join()) return false;
    start = i;
  }
  return true;
}

export async function compareServedWithOffline(
  deps: ParityDeps,
  options: ParityOptions,
): Promise<ParityReport> {
  const version = await deps.registry.aliasVersion(options.modelName, options.alias);
  if (version === undefined)
    throw new AppError(
      "NOT_FOUND",
      `models:/${options.modelName}@${options.alias} is not set: nothing is served`,
    );
  const dir = await mkdtemp(path.join(tmpdir(), "gplay-parity-"));
  try {
    await deps.registry.downloadVersion(options.modelName, version, dir);
    const manifest = bundleManifestSchema.parse(
      JSON.parse(await readFile(path.join(dir, BUNDLE_FILES.manifest), "utf8")),
    );
    const bundle = await readBundleDirectory(dir, manifest);
    const snapshot = await deps.snapshots.readManifest(options.bucket, manifest.snapshot.manifestKey);
    const data = await loadTrainingData(deps.snapshots, deps.vectors, snapshot);
    // The world the bundle serves, over the snapshot's articles, every read of the snapshot included.
    const world = bundleWorlds(bundle)(mapCatalogue(data.articles), data.asOf + 1);
    const scorer = scorerOf(bundle);
    const profileOf = profileIn(data, world);
    const offline = (userId: string) => recommend(world, profileOf(userId), scorer, { k: K }).items;

    const withHistory = [...data.readers.values()]
      .filter((r) => r.log.length > 0)
      .map((r) => r.userId)
      .sort();
    const vCases = validationCases(data, options.validationReaders, options.seed);
    const userIds = [
      ...new Set([...sample(withHistory, options.readers, options.seed), ...vCases.map((c) => c.userId)]),
    ];
    const offlineLists = new Map<string, { page: string; score: number }[]>();
    const servedLists = new Map<string, ServedList>();
    let identical = 0;
    const mismatches: ParityReport["mismatches"] = [];
    for (const userId of userIds) {
      const mine = offline(userId);
      const theirs = await deps.api.predict(userId, K);
      offlineLists.set(userId, mine);
      servedLists.set(userId, theirs);
      const known = data.readers.has(userId);
      // A reader unknown to the feature store gets the cold-start tables when no model answers; with
      // the model the version's popularity order, which `recommend` computes for a reader without history.
      if (theirs.modelVersion === (known ? version : null) && sameRanking(mine, theirs.items)) identical++;
      else if (mismatches.length < 5)
        mismatches.push({
          userId,
          offline: mine.map((e) => e.page),
          served: theirs.items.map((e) => e.page),
          servedVersion: theirs.modelVersion,
        });
    }
    const pages = (list: readonly { page: string }[] | undefined) => (list ?? []).map((e) => e.page);
    const basis = { readCounts: new Map<string, number>(), totalReads: 0, catalogueSize: data.articles.size };
    const offlineNdcg = evaluateLists(
      vCases,
      vCases.map((c) => pages(offlineLists.get(c.userId))),
      basis,
    );
    const servedNdcg = evaluateLists(
      vCases,
      vCases.map((c) => pages(servedLists.get(c.userId)?.items)),
      basis,
    );
    return {
      version,
      snapshotId: snapshot.snapshotId,
      compared: userIds.length,
      identical,
      mismatches,
      validacao: {
        readers: vCases.length,
        offlineNdcg10: offlineNdcg.all.ndcg10,
        servedNdcg10: servedNdcg.all.ndcg10,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report as a few lines of text: agreement, then NDCG@10 offline and served side by side. */
export function formatParityReport(report: ParityReport): string {
  const lines = [
    `model version ${report.version}, snapshot ${report.snapshotId}`,
    `readers compared: ${report.compared}; identical top-${K} (ties within ${SCORE_TIE}): ${report.identical}`,
    `validacao NDCG@${K} over ${report.validacao.readers} readers: offline ${report.validacao.offlineNdcg10.toFixed(4)}  served ${report.validacao.servedNdcg10.toFixed(4)}  difference ${(report.validacao.servedNdcg10 - report.validacao.offlineNdcg10).toFixed(4)}`,
    ...report.mismatches.map(
      (m) =>
        `differs for ${m.userId} (served by ${m.servedVersion ?? "cold start"}): offline ${m.offline.join(",")} served ${m.served.join(",")}`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}
