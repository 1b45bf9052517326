/**
 * A model bundle on the local disk (layout: common's BUNDLE_FILES): written after training, read
 * back for the champion's re-evaluation and by anything that serves it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  BUNDLE_FILES,
  type BundleManifest,
  bundleManifestSchema,
  type CovisitationTable,
  covisitationTableSchema,
  type Normalisation,
  normalisationSchema,
  type PopularityTable,
  popularityTableSchema,
  type Vocabularies,
  vocabulariesSchema,
} from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import { writeKerasH5 } from "../model/keras-h5.js";
import type { Tf } from "../tf/backend.js";
import { fileSystemLoadHandler, fileSystemSaveHandler } from "../tf/file-io.js";

export interface BundleContents {
  manifest: BundleManifest;
  vocabularies: Vocabularies;
  normalisation: Normalisation;
  popularity: PopularityTable;
  covisitation: CovisitationTable;
}

async function writeJson(dir: string, file: string, value: unknown): Promise<void> {
  const target = path.join(dir, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, JSON.stringify(value));
}

export async function writeBundle(
  dir: string,
  model: TfModule.LayersModel,
  contents: BundleContents,
): Promise<void> {
  await model.save(fileSystemSaveHandler(path.join(dir, BUNDLE_FILES.tfjsDir)));
  await mkdir(path.join(dir, path.dirname(BUNDLE_FILES.kerasH5)), { recursive: true });
  await writeKerasH5(model, path.join(dir, BUNDLE_FILES.kerasH5));
  await writeJson(dir, BUNDLE_FILES.vocabularies, contents.vocabularies);
  await writeJson(dir, BUNDLE_FILES.normalisation, contents.normalisation);
  await writeJson(dir, BUNDLE_FILES.popularity, contents.popularity);
  await writeJson(dir, BUNDLE_FILES.covisitation, contents.covisitation);
  await writeJson(dir, BUNDLE_FILES.manifest, bundleManifestSchema.parse(contents.manifest));
}

/**
 * A bundle's manifest and candidate structures: a baseline's whole bundle, or a model's tables written
 * over a copy of its network files (a refreshed champion).
 */
export async function writeBundleTables(
  dir: string,
  contents: Pick<BundleContents, "manifest" | "popularity" | "covisitation">,
): Promise<void> {
  await writeJson(dir, BUNDLE_FILES.popularity, contents.popularity);
  await writeJson(dir, BUNDLE_FILES.covisitation, contents.covisitation);
  await writeJson(dir, BUNDLE_FILES.manifest, bundleManifestSchema.parse(contents.manifest));
}

export async function readBundle(
  tf: Tf,
  dir: string,
): Promise<BundleContents & { model: TfModule.LayersModel }> {
  const json = async (file: string) => JSON.parse(await readFile(path.join(dir, file), "utf8")) as unknown;
  const manifest = bundleManifestSchema.parse(await json(BUNDLE_FILES.manifest));
  const model = await tf.loadLayersModel(
    fileSystemLoadHandler(path.join(dir, path.dirname(manifest.files.tfjsModel ?? BUNDLE_FILES.tfjsModel))),
  );
  return {
    manifest,
    model,
    vocabularies: vocabulariesSchema.parse(
      await json(manifest.files.vocabularies ?? BUNDLE_FILES.vocabularies),
    ),
    normalisation: normalisationSchema.parse(
      await json(manifest.files.normalisation ?? BUNDLE_FILES.normalisation),
    ),
    popularity: popularityTableSchema.parse(await json(manifest.files.popularity)),
    covisitation: covisitationTableSchema.parse(await json(manifest.files.covisitation)),
  };
}
