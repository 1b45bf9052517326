/**
 * Writes a tfjs `LayersModel` as a Keras HDF5 file (`model.h5`) that Keras 3 opens with
 * `keras.models.load_model("model.h5")` (its legacy-h5 loader, `legacy_h5_format.py`).
 *
 * File layout (the one Keras 2 wrote and Keras 3 still reads):
 *   /                      attrs: model_config (JSON), keras_version, backend
 *   /model_weights         attrs: layer_names (every layer, model order), keras_version, backend
 *   /model_weights/<layer> attrs: weight_names ("<layer>/<weight>:0", empty for weightless layers)
 *   /model_weights/<layer>/<layer>/<weight>:0   float32 dataset
 * Keras matches weights to layers by order (the layers that have weights, in `model.layers` order),
 * not by name; tfjs-layers orders layers with the same algorithm as Keras, which the integration
 * test (`test/integration/keras-h5.test.ts`) checks end to end by comparing predictions.
 *
 * Only standard Keras layers are supported (InputLayer, Embedding, Dense, Concatenate, Flatten,
 * Dot, Dropout, BatchNormalization, Activation, Reshape, Add, Multiply, …): tfjs-only layers have no
 * Keras class to load into, and are rejected up front.
 */
import { MODEL_LAYERS } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";

type LayersModel = TfModule.LayersModel;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Layer classes with the same name and compatible config in tfjs-layers and Keras 3 (the bundle contract). */
export const KERAS_COMPATIBLE_LAYERS: ReadonlySet<string> = MODEL_LAYERS;

/** tfjs spells a few Keras activation names differently. */
const ACTIVATION_NAMES: Record<string, string> = { hardSigmoid: "hard_sigmoid", softplus: "softplus" };

/** Version string written in the file: the config dialect (tf.keras 2.x), which Keras 3 converts. */
export const KERAS_H5_DIALECT_VERSION = "2.15.0";

/**
 * The Keras JSON config (`{class_name: "Functional", config: {...}}`) of a tfjs functional model,
 * rewritten where Keras 3's legacy loader disagrees with what tfjs emits:
 * - the model class is `Functional` (tfjs says `Model`);
 * - non-input layers lose the `batch_input_shape` tfjs adds to some of them (Keras 3 would turn it
 *   into an extra `input_shape` argument);
 * - `Embedding` loses `input_length` (removed in Keras 3) and gets a boolean `mask_zero`;
 * - activations use Keras spellings.
 * Throws for Sequential models and for layers Keras has no class for.
 */
export function kerasModelConfig(model: LayersModel): JsonObject {
  const raw = model.toJSON(null, false) as unknown as JsonObject;
  const className = raw.class_name;
  if (className !== "Model" && className !== "Functional") {
    throw new Error(`Only functional models (tf.model) export to Keras h5, got ${String(className)}`);
  }
  const config = raw.config as JsonObject;
  const layers = (config.layers as JsonObject[]).map(convertLayer);
  return { class_name: "Functional", config: { ...config, layers } };
}

function convertLayer(layer: JsonObject): JsonObject {
  const className = String(layer.class_name);
  if (!KERAS_COMPATIBLE_LAYERS.has(className)) {
    throw new Error(`Layer ${String(layer.name)} (${className}) has no Keras-compatible export`);
  }
  const config: JsonObject = { ...(layer.config as JsonObject) };
  if (className !== "InputLayer") delete config.batch_input_shape;
  if (className === "Embedding") {
    delete config.input_length;
    config.mask_zero = config.mask_zero === true;
  }
  if (typeof config.activation === "string") {
    config.activation = ACTIVATION_NAMES[config.activation] ?? config.activation;
  }
  return { ...layer, config };
}

/** One weight array as written to the file. */
export interface KerasWeight {
  /** Keras weight name, `<layer>/<weight>:0`. */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A layer's weights in Keras order (which for the supported layers is tfjs' order too). */
export interface KerasLayerWeights {
  layer: string;
  weights: KerasWeight[];
}

/** Reads every layer's weights (in `model.layers` order, weightless layers included). */
export function kerasLayerWeights(model: LayersModel): KerasLayerWeights[] {
  return model.layers.map((layer) => ({
    layer: layer.name,
    weights: layer.weights.map((w) => {
      const tensor = w.read();
      if (tensor.dtype !== "float32") {
        throw new Error(`Weight ${w.name} is ${tensor.dtype}; Keras h5 export writes float32 only`);
      }
      const short = w.originalName.split("/").pop() ?? w.originalName;
      return {
        name: `${layer.name}/${short}:0`,
        shape: [...tensor.shape],
        values: tensor.dataSync() as Float32Array,
      };
    }),
  }));
}

export interface WriteKerasH5Options {
  /** Written as the `backend` attribute; Keras only logs it. */
  backend?: string;
}

/** HDF5 object headers hold at most 64 KiB; Keras splits long name lists the same way. */
const HDF5_OBJECT_HEADER_LIMIT = 64_512;

/**
 * Writes `model` to `file` (overwritten) in the Keras legacy h5 format. Loads `h5wasm` lazily (its
 * wasm module is only needed here). Resolves once the file is closed.
 */
export async function writeKerasH5(
  model: LayersModel,
  file: string,
  options: WriteKerasH5Options = {},
): Promise<void> {
  const modelConfig = kerasModelConfig(model);
  const layerWeights = kerasLayerWeights(model);
  const h5wasm = await import("h5wasm/node");
  await h5wasm.ready;
  // Bounds [v108, v110]: dense attribute storage for a large model_config, readable by every h5py.
  const h5 = new h5wasm.File(file, "w", { libver: ["v108", "v110"] });
  try {
    const backend = options.backend ?? "tensorflow";
    h5.create_attribute("model_config", JSON.stringify(modelConfig));
    h5.create_attribute("keras_version", KERAS_H5_DIALECT_VERSION);
    h5.create_attribute("backend", backend);
    const root = h5.create_group("model_weights");
    root.create_attribute("keras_version", KERAS_H5_DIALECT_VERSION);
    root.create_attribute("backend", backend);
    writeNameList(
      root,
      "layer_names",
      layerWeights.map((l) => l.layer),
    );
    for (const { layer, weights } of layerWeights) {
      const group = h5.create_group(`model_weights/${layer}`);
      writeNameList(
        group,
        "weight_names",
        weights.map((w) => w.name),
      );
      for (const weight of weights) {
        const [scope = layer, leaf = weight.name] = splitLast(weight.name);
        const parent = ensureGroup(h5, `model_weights/${layer}/${scope}`);
        parent.create_dataset({ name: leaf, data: weight.values, shape: weight.shape, dtype: "<f" });
      }
    }
  } finally {
    h5.close();
  }
}

type H5Group = import("h5wasm").Group;

/**
 * Writes a list of names as a string-array attribute, split into `name0`, `name1`, … when it would
 * not fit in an object header (what Keras' `save_attributes_to_hdf5_group` does). An empty list is
 * not written: Keras reads a missing attribute as an empty list.
 */
function writeNameList(group: H5Group, name: string, values: string[]): void {
  if (values.length === 0) return;
  const bytes = values.reduce((n, v) => n + Buffer.byteLength(v) + 16, 0);
  if (bytes < HDF5_OBJECT_HEADER_LIMIT) {
    group.create_attribute(name, values);
    return;
  }
  const chunks = Math.ceil(bytes / HDF5_OBJECT_HEADER_LIMIT) + 1;
  const size = Math.ceil(values.length / chunks);
  for (let i = 0; i * size < values.length; i++) {
    group.create_attribute(`${name}${i}`, values.slice(i * size, (i + 1) * size));
  }
}

function ensureGroup(h5: H5Group, groupPath: string): H5Group {
  const existing = h5.get(groupPath);
  if (existing instanceof Object && "keys" in existing) return existing as H5Group;
  return h5.create_group(groupPath);
}

function splitLast(name: string): [string, string] {
  const i = name.lastIndexOf("/");
  return [name.slice(0, i), name.slice(i + 1)];
}
