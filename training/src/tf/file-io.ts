/**
 * Local-directory save/load handlers for tfjs layers models. Pure `@tensorflow/tfjs` has no
 * `file://` IO (only tfjs-node registers it), so these implement `tf.io.IOHandler` directly.
 *
 * Layout (same as tfjs-node's `file://` handler and `tensorflowjs_converter`'s layers format):
 *   <dir>/model.json   { modelTopology, format, generatedBy, convertedBy, weightsManifest, ... }
 *   <dir>/weights.bin  all weights, concatenated in manifest order
 * so a directory written here loads with `tf.loadLayersModel("file://<dir>/model.json")` under
 * tfjs-node too, and the other way round.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as TfModule from "@tensorflow/tfjs";
import { io as tfIo } from "@tensorflow/tfjs";

type ModelArtifacts = TfModule.io.ModelArtifacts;
type ModelJSON = TfModule.io.ModelJSON;
type SaveResult = TfModule.io.SaveResult;
type WeightsManifestConfig = TfModule.io.WeightsManifestConfig;
type WeightsManifestEntry = TfModule.io.WeightsManifestEntry;
type IOHandler = TfModule.io.IOHandler;

export const MODEL_JSON_FILE = "model.json";
export const WEIGHTS_BIN_FILE = "weights.bin";

/**
 * An IOHandler whose `save` writes `model.json` + `weights.bin` into `dir` (created if missing).
 * `model.json` is written last, through a rename, so a crashed save never leaves a loadable but
 * inconsistent model behind. Usage: `await model.save(fileSystemSaveHandler(dir))`.
 */
export function fileSystemSaveHandler(dir: string): IOHandler {
  return {
    async save(artifacts: ModelArtifacts): Promise<SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error("fileSystemSaveHandler saves layers models only (got a binary graph topology)");
      }
      await mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData
        ? new Uint8Array(tfIo.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array(0);
      const manifest: WeightsManifestConfig = [
        { paths: [`./${WEIGHTS_BIN_FILE}`], weights: artifacts.weightSpecs ?? [] },
      ];
      const modelJson: ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? "",
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: manifest,
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer) modelJson.modelInitializer = artifacts.modelInitializer;
      if (artifacts.initializerSignature) modelJson.initializerSignature = artifacts.initializerSignature;

      await writeFile(path.join(dir, WEIGHTS_BIN_FILE), weightData);
      const jsonPath = path.join(dir, MODEL_JSON_FILE);
      await writeFile(`${jsonPath}.tmp`, JSON.stringify(modelJson));
      await rename(`${jsonPath}.tmp`, jsonPath);
      return { modelArtifactsInfo: tfIo.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * An IOHandler whose `load` reads `<dir>/model.json` and every weights file its manifest lists
 * (paths relative to `dir`, which they may not escape). `dir` may also be the path of the
 * `model.json` itself. Usage: `await tf.loadLayersModel(fileSystemLoadHandler(dir))`.
 */
export function fileSystemLoadHandler(dir: string): IOHandler {
  const jsonPath = dir.endsWith(".json") ? dir : path.join(dir, MODEL_JSON_FILE);
  const root = path.dirname(jsonPath);
  return {
    async load(): Promise<ModelArtifacts> {
      let modelJson: ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(jsonPath, "utf8")) as ModelJSON;
      } catch (error) {
        throw new Error(`Cannot read a tfjs model at ${jsonPath}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (modelJson.modelTopology == null) {
        throw new Error(`${jsonPath} has no modelTopology; is it a tfjs layers model.json?`);
      }
      return tfIo.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(root, manifest));
    },
  };
}

async function readWeights(
  root: string,
  manifest: WeightsManifestConfig,
): Promise<[WeightsManifestEntry[], ArrayBuffer]> {
  const specs: WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const relative of group.paths) {
      const file = path.resolve(root, relative);
      if (path.relative(root, file).startsWith("..")) {
        throw new Error(`Weights path ${relative} escapes the model directory ${root}`);
      }
      chunks.push(await readFile(file));
    }
  }
  // Copy into one buffer created in this realm (tfjs type-checks ArrayBuffers; under jest, Node's
  // fs buffers belong to another realm).
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return [specs, joined.buffer];
}
