import { readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import {
  type BundleManifest,
  type CovisitationTable,
  covisitationTableSchema,
  type Normalisation,
  normalisationSchema,
  type PopularityTable,
  popularityTableSchema,
  type Vocabularies,
  vocabulariesSchema,
} from "../contracts/model-bundle.js";
import { AppError } from "../errors/app-error.js";
import { ForwardPassError, ForwardPassModel } from "../features/forward-pass.js";

/** A model's network with what its inputs need. */
export interface LoadedNetwork {
  network: ForwardPassModel;
  vocabularies: Vocabularies;
  normalisation: Normalisation;
}

/** A bundle read into memory: everything needed to rank, no files (`model` only for a model's bundle). */
export interface LoadedBundle {
  manifest: BundleManifest;
  model?: LoadedNetwork | undefined;
  popularity: PopularityTable;
  covisitation: CovisitationTable;
}

/**
 * Reads a model bundle directory (the layout of common's `model-bundle.ts`) into memory — the api a
 * downloaded one, training the one it just wrote, so both rank with the same bytes: the TF.js network through common's forward-pass interpreter (no tfjs needed), the vocabularies,
 * normalisation and candidate structures validated with their schemas. Errors become AppError
 * UNSUPPORTED_INPUT naming the file and what is wrong.
 */
export async function readBundleDirectory(dir: string, manifest: BundleManifest): Promise<LoadedBundle> {
  const root = path.resolve(dir);
  const inside = (relative: string): string => {
    const file = path.resolve(root, relative);
    if (path.relative(root, file).startsWith("..") || path.isAbsolute(path.relative(root, file)))
      throw new AppError("UNSUPPORTED_INPUT", `Bundle path ${relative} escapes the bundle directory`);
    return file;
  };
  const readJson = async <T>(relative: string, schema?: z.ZodType<T>): Promise<T> => {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(inside(relative), "utf8"));
    } catch (error) {
      throw new AppError("UNSUPPORTED_INPUT", `Bundle file ${relative} is missing or not JSON`, {
        cause: error,
      });
    }
    if (schema === undefined) return value as T;
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new AppError(
        "UNSUPPORTED_INPUT",
        `Bundle file ${relative} does not match its schema: ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join(".")}: ${i.message}`)
          .join("; ")}`,
      );
    return parsed.data;
  };

  const [popularity, covisitation] = await Promise.all([
    readJson(manifest.files.popularity, popularityTableSchema),
    readJson(manifest.files.covisitation, covisitationTableSchema),
  ]);
  const { files } = manifest;
  if (
    manifest.strategy.kind === "baseline" ||
    files.tfjsModel === undefined ||
    files.vocabularies === undefined ||
    files.normalisation === undefined
  )
    return { manifest, popularity, covisitation };

  const modelJson = await readJson<{ weightsManifest?: { paths?: string[] }[] }>(files.tfjsModel);
  const modelDir = path.posix.dirname(files.tfjsModel);
  const chunks: Buffer[] = [];
  for (const group of modelJson.weightsManifest ?? [])
    for (const p of group.paths ?? []) {
      try {
        chunks.push(await readFile(inside(path.posix.join(modelDir, p))));
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError("UNSUPPORTED_INPUT", `Bundle weights file ${p} is missing`, { cause: error });
      }
    }
  let network: ForwardPassModel;
  try {
    network = ForwardPassModel.load(modelJson, Buffer.concat(chunks));
  } catch (error) {
    if (error instanceof ForwardPassError)
      throw new AppError("UNSUPPORTED_INPUT", `The bundle's network cannot be served: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
  const [vocabularies, normalisation] = await Promise.all([
    readJson(files.vocabularies, vocabulariesSchema),
    readJson(files.normalisation, normalisationSchema),
  ]);
  return { manifest, model: { network, vocabularies, normalisation }, popularity, covisitation };
}
