/**
 * A small forward-pass interpreter for TF.js layers models: reads the `model.json` topology and the
 * `weights.bin` bytes a `LayersModel.save` writes, and computes the model's outputs with plain
 * Float32Array math, batched over rows. No tfjs at runtime: a service that only scores (the API)
 * runs the exported network with its own kernels, fast on a small CPU, and gets the same numbers as
 * `model.predict` (within float32 rounding; the API's tests check |Δ| < 1e-5 against tfjs).
 *
 * Supported: exactly the standard (Keras-compatible) layers a bundle may contain — InputLayer,
 * Embedding, Dense, Concatenate, Flatten, Dot, Dropout (identity at inference),
 * BatchNormalization (inference mode: moving statistics), LayerNormalization, Activation, Reshape,
 * Add, Subtract, Multiply, Average, Maximum, Minimum, GlobalAveragePooling1D, GlobalMaxPooling1D,
 * RepeatVector, Permute — as functional (`tf.model`) or `Sequential` models. Anything else is
 * refused when the model is loaded, naming the layer, never mid-request.
 */
import { MODEL_LAYERS } from "../contracts/model-bundle.js";
import { SimdDense } from "./simd-dense.js";

/** Layer classes the interpreter runs: every layer a bundle may use. */
export const FORWARD_PASS_LAYERS: ReadonlySet<string> = MODEL_LAYERS;

/** Activations by their tfjs and Keras spellings. */
const ACTIVATIONS: Record<string, ((x: Float32Array, width: number) => void) | null> = {
  linear: null,
  relu: (x) => {
    for (let i = 0; i < x.length; i++) if ((x[i] as number) < 0) x[i] = 0;
  },
  relu6: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = Math.min(6, Math.max(0, x[i] as number));
  },
  sigmoid: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-(x[i] as number)));
  },
  tanh: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i] as number);
  },
  elu: (x) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      if (v < 0) x[i] = Math.expm1(v);
    }
  },
  selu: (x) => {
    const alpha = 1.6732632423543772;
    const scale = 1.0507009873554805;
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      x[i] = v > 0 ? scale * v : scale * alpha * Math.expm1(v);
    }
  },
  softplus: (x) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      x[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    }
  },
  softsign: (x) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      x[i] = v / (1 + Math.abs(v));
    }
  },
  hard_sigmoid: (x) => {
    for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, 0.2 * (x[i] as number) + 0.5));
  },
  swish: (x) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i] as number;
      x[i] = v / (1 + Math.exp(-v));
    }
  },
  softmax: (x, width) => {
    for (let start = 0; start < x.length; start += width) {
      let max = Number.NEGATIVE_INFINITY;
      for (let i = start; i < start + width; i++) max = Math.max(max, x[i] as number);
      let sum = 0;
      for (let i = start; i < start + width; i++) {
        const e = Math.exp((x[i] as number) - max);
        x[i] = e;
        sum += e;
      }
      for (let i = start; i < start + width; i++) x[i] = (x[i] as number) / sum;
    }
  },
};
ACTIVATIONS.hardSigmoid = ACTIVATIONS.hard_sigmoid ?? null;

/** Why a model cannot be interpreted (unknown layer, unsupported option, bad weights). */
export class ForwardPassError extends Error {
  override readonly name = "ForwardPassError";
}

/** Row data: `rows × prod(shape)` values, row-major; `shape` excludes the batch dimension. */
interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** One model input as the interpreter expects it. */
export interface ForwardPassInput {
  name: string;
  dtype: "float32" | "int32";
  /** Shape without the batch dimension. */
  shape: readonly number[];
}

export type ForwardPassFeeds = Readonly<Record<string, Float32Array | Int32Array>>;

/** How a model runs its Dense layers. */
export interface ForwardPassOptions {
  /**
   * "simd" (the default): the WebAssembly SIMD kernel where the runtime has it and the layer has an
   * even number of units, else the JavaScript one; "js": always the JavaScript kernel. Both give the
   * same bits (same products, same float64 summation order per output).
   */
  kernel?: "simd" | "js";
}

/**
 * Rows that share parts of their inputs (the candidate article's columns, the same for every reader):
 * a first Dense layer over model inputs (the fused embeddings + columns) sums the products of the keyed
 * columns once per key and reuses the partial sum, so a row costs only its other columns. The result
 * is the straightforward one up to float64 summation order (identical when the keyed columns come
 * first among the row's varying ones).
 */
export interface KeyedRows {
  /** Per row, its key (≥ 0): two rows with one key hold one value in every keyed column. */
  keys: Int32Array;
  /** The keyed columns of each input, by input name (an id input: `[0]`). */
  columns: Readonly<Record<string, readonly number[]>>;
  /** The partial sums per key, filled on first use; one per set of keyed values (e.g. per world). */
  partials: KeyedPartials;
}

/** Partial sums of keyed rows, per layer and key. */
export class KeyedPartials {
  readonly byLayer = new Map<string, Map<number, Float64Array>>();
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface LayerSpec {
  name: string;
  className: string;
  config: JsonObject;
  /** Per node: the tensors it consumes, as `layer:node:tensor` ids. */
  inboundNodes: string[][];
}

interface Step {
  layer: LayerSpec;
  run: (inputs: Tensor[], rows: number, keyed?: KeyedRows) => Tensor;
  inputs: string[];
  output: string;
}

/** One weight of the manifest. */
interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * A loaded network. `predict(feeds, rows)` returns one Float32Array per model output
 * (`rows × prod(outputShape)`), in the topology's output order.
 */
export class ForwardPassModel {
  private constructor(
    readonly inputs: readonly ForwardPassInput[],
    readonly outputShapes: readonly (readonly number[])[],
    /** Layer classes, in execution order (for logs). */
    readonly layerClasses: readonly string[],
    private readonly steps: readonly Step[],
    private readonly outputIds: readonly string[],
  ) {}

  /**
   * Loads a TF.js layers model from its `model.json` (parsed) and the bytes of its weight files,
   * concatenated in manifest order (a single `weights.bin` for models saved by tfjs). Throws
   * ForwardPassError naming the first layer or option it cannot run.
   */
  static load(
    modelJson: unknown,
    weightBytes: Uint8Array | ArrayBuffer,
    options: ForwardPassOptions = {},
  ): ForwardPassModel {
    const simd = (options.kernel ?? "simd") === "simd";
    if (!isObject(modelJson)) throw new ForwardPassError("model.json is not a JSON object");
    let topology = modelJson.modelTopology as Json;
    if (isObject(topology) && isObject(topology.model_config)) topology = topology.model_config;
    if (!isObject(topology) || (!isObject(topology.config) && !Array.isArray(topology.config)))
      throw new ForwardPassError("model.json has no layers-model topology (modelTopology.config)");
    const weights = readWeights(modelJson.weightsManifest, weightBytes);
    const { layers, inputIds, outputIds } = parseTopology(topology);
    const byName = new Map(layers.map((l) => [l.name, l]));
    const inputs: ForwardPassInput[] = inputIds.map((id) => {
      const layer = byName.get(id.split(":")[0] as string) as LayerSpec;
      const shape = (layer.config.batch_input_shape as (number | null)[] | undefined)?.slice(1);
      if (shape === undefined || shape.some((d) => d === null))
        throw new ForwardPassError(
          `Input ${layer.name} needs a fully known shape (got ${JSON.stringify(shape)})`,
        );
      const dtype = layer.config.dtype === "int32" ? "int32" : "float32";
      return { name: layer.name, dtype, shape: shape as number[] };
    });

    // Execution plan: every node reachable from the outputs, dependencies first.
    const steps: Step[] = [];
    const shapes = new Map<string, number[]>();
    for (const input of inputs) shapes.set(`${input.name}:0:0`, [...input.shape]);
    const visiting = new Set<string>();
    const plan = (id: string): void => {
      if (shapes.has(id)) return;
      if (visiting.has(id)) throw new ForwardPassError(`The topology has a cycle at ${id}`);
      visiting.add(id);
      const [layerName, nodeText] = id.split(":") as [string, string];
      const layer = byName.get(layerName);
      if (layer === undefined)
        throw new ForwardPassError(`The topology refers to an unknown layer ${layerName}`);
      const inbound = layer.inboundNodes[Number(nodeText)];
      if (inbound === undefined) throw new ForwardPassError(`Layer ${layerName} has no node ${nodeText}`);
      // A Dense over embeddings concatenated with other columns runs fused (embeddingDense).
      const fusion = embeddingDenseParts(layer, inbound, byName);
      if (fusion !== undefined) for (const part of fusion) plan(part.dep);
      const fused =
        fusion === undefined
          ? undefined
          : embeddingDense(
              layer,
              fusion.map((part) => ({ ...part, shape: shapes.get(part.dep) as number[] })),
              weights,
              simd,
            );
      const deps = fused === undefined ? inbound : (fusion?.map((part) => part.dep) ?? inbound);
      for (const dep of deps) plan(dep);
      const inShapes = deps.map((dep) => shapes.get(dep) as number[]);
      const { run, shape } = fused ?? compileLayer(layer, inShapes, weights, simd);
      shapes.set(id, shape);
      steps.push({ layer, run, inputs: deps, output: id });
      visiting.delete(id);
    };
    for (const id of outputIds) plan(id);
    return new ForwardPassModel(
      inputs,
      outputIds.map((id) => shapes.get(id) as number[]),
      steps.map((s) => s.layer.className),
      steps,
      outputIds,
    );
  }

  /**
   * Runs the network on `rows` rows; `feeds` maps each input name to its row-major values. `keyed`
   * names columns whose products a fused first layer may reuse between rows and calls.
   */
  predict(feeds: ForwardPassFeeds, rows: number, keyed?: KeyedRows): Float32Array[] {
    if (keyed !== undefined && keyed.keys.length !== rows)
      throw new ForwardPassError(`keyed rows have ${keyed.keys.length} keys for ${rows} rows`);
    const values = new Map<string, Tensor>();
    for (const input of this.inputs) {
      const data = feeds[input.name];
      if (data === undefined) throw new ForwardPassError(`Missing input ${input.name}`);
      if (data.length !== rows * size(input.shape))
        throw new ForwardPassError(
          `Input ${input.name} has ${data.length} values, expected ${rows} × ${size(input.shape)}`,
        );
      values.set(`${input.name}:0:0`, { data, shape: [...input.shape] });
    }
    for (const step of this.steps) {
      values.set(
        step.output,
        step.run(
          step.inputs.map((id) => values.get(id) as Tensor),
          rows,
          keyed,
        ),
      );
    }
    // Copies: a step's buffer is reused by the next call.
    return this.outputIds.map((id) => Float32Array.from((values.get(id) as Tensor).data));
  }
}

function readWeights(manifest: Json | undefined, bytes: Uint8Array | ArrayBuffer): Map<string, Float32Array> {
  if (!Array.isArray(manifest)) throw new ForwardPassError("model.json has no weightsManifest");
  const buffer = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.weights))
      throw new ForwardPassError("Malformed weightsManifest group");
    for (const raw of group.weights as unknown as WeightEntry[]) {
      if (raw.quantization !== undefined)
        throw new ForwardPassError(`Weight ${raw.name} is quantized; only float32 weights are supported`);
      if (raw.dtype !== "float32")
        throw new ForwardPassError(
          `Weight ${raw.name} has dtype ${raw.dtype}; only float32 weights are supported`,
        );
      const count = size(raw.shape);
      const end = offset + count * 4;
      if (end > buffer.byteLength)
        throw new ForwardPassError(
          `weights.bin is too short: ${raw.name} needs bytes ${offset}–${end}, the file has ${buffer.byteLength}`,
        );
      // Copy into an aligned array (weights of odd sizes leave later ones unaligned in the file).
      const values = new Float32Array(count);
      new Uint8Array(values.buffer).set(buffer.subarray(offset, end));
      out.set(raw.name, values);
      offset = end;
    }
  }
  if (offset !== buffer.byteLength)
    throw new ForwardPassError(
      `weights.bin has ${buffer.byteLength} bytes, the manifest describes ${offset}`,
    );
  return out;
}

/** The layers and the input/output tensor ids of a functional or Sequential topology. */
function parseTopology(topology: JsonObject): {
  layers: LayerSpec[];
  inputIds: string[];
  outputIds: string[];
} {
  const className = topology.class_name;
  const config = topology.config as Json;
  if (className === "Sequential") {
    const rawLayers = (Array.isArray(config) ? config : isObject(config) ? config.layers : undefined) as
      | JsonObject[]
      | undefined;
    if (!Array.isArray(rawLayers) || rawLayers.length === 0)
      throw new ForwardPassError("Sequential model without layers");
    const layers: LayerSpec[] = [];
    const first = rawLayers[0] as JsonObject;
    const firstConfig = first.config as JsonObject;
    let previous: string;
    if (first.class_name === "InputLayer") {
      previous = String(firstConfig.name);
      layers.push({ name: previous, className: "InputLayer", config: firstConfig, inboundNodes: [] });
    } else {
      if (!Array.isArray(firstConfig.batch_input_shape))
        throw new ForwardPassError("Sequential model whose first layer has no batch_input_shape");
      previous = `${String(firstConfig.name)}_input`;
      layers.push({
        name: previous,
        className: "InputLayer",
        config: {
          name: previous,
          batch_input_shape: firstConfig.batch_input_shape,
          dtype: firstConfig.dtype ?? "float32",
        },
        inboundNodes: [],
      });
    }
    const inputIds = [`${previous}:0:0`];
    for (const raw of rawLayers) {
      if (raw.class_name === "InputLayer") continue;
      const cfg = raw.config as JsonObject;
      const name = String(cfg.name);
      layers.push({
        name,
        className: String(raw.class_name),
        config: cfg,
        inboundNodes: [[`${previous}:0:0`]],
      });
      previous = name;
    }
    for (const l of layers) assertSupported(l);
    return { layers, inputIds, outputIds: [`${previous}:0:0`] };
  }
  if (className !== "Model" && className !== "Functional")
    throw new ForwardPassError(
      `Unsupported model class ${String(className)} (expected a functional or Sequential model)`,
    );
  if (!isObject(config) || !Array.isArray(config.layers))
    throw new ForwardPassError("Model config without layers");
  const layers = (config.layers as JsonObject[]).map((raw): LayerSpec => {
    const cfg = (raw.config ?? {}) as JsonObject;
    const name = String(raw.name ?? cfg.name);
    const inboundNodes = ((raw.inbound_nodes ?? []) as Json[]).map((node) => {
      if (!Array.isArray(node))
        throw new ForwardPassError(`Layer ${name}: inbound_nodes in an unsupported (Keras 3) format`);
      return (node as Json[][]).map((ref) => `${String(ref[0])}:${Number(ref[1])}:${Number(ref[2])}`);
    });
    return { name, className: String(raw.class_name), config: cfg, inboundNodes };
  });
  for (const l of layers) assertSupported(l);
  const ids = (refs: Json | undefined) =>
    ((refs ?? []) as Json[][]).map((r) => `${String(r[0])}:${Number(r[1])}:${Number(r[2])}`);
  const inputIds = ids(config.input_layers);
  const outputIds = ids(config.output_layers);
  for (const id of [...inputIds, ...outputIds])
    if (!id.endsWith(":0:0"))
      throw new ForwardPassError(`Shared input/output layers are not supported (${id})`);
  return { layers, inputIds, outputIds };
}

function assertSupported(layer: LayerSpec): void {
  if (!FORWARD_PASS_LAYERS.has(layer.className))
    throw new ForwardPassError(
      `Layer ${layer.name} is a ${layer.className}, which the forward pass cannot run (supported: ${[...FORWARD_PASS_LAYERS].join(", ")})`,
    );
}

function activationOf(
  layer: LayerSpec,
  name: Json | undefined,
): ((x: Float32Array, width: number) => void) | null {
  const key = name === undefined || name === null ? "linear" : String(name);
  const fn = ACTIVATIONS[key];
  if (fn === undefined)
    throw new ForwardPassError(`Layer ${layer.name}: activation "${key}" is not supported`);
  return fn;
}

/** Resolves a possibly negative axis of a tensor with batch dimension, returned without the batch. */
function innerAxis(layer: LayerSpec, axis: number, rank: number): number {
  const full = axis < 0 ? axis + rank + 1 : axis;
  if (full < 1 || full > rank)
    throw new ForwardPassError(`Layer ${layer.name}: axis ${axis} is out of range`);
  return full - 1;
}

function weight(
  layer: LayerSpec,
  weights: Map<string, Float32Array>,
  name: string,
  count: number,
): Float32Array {
  const values = weights.get(`${layer.name}/${name}`);
  if (values === undefined) throw new ForwardPassError(`weights.bin has no ${layer.name}/${name}`);
  if (values.length !== count)
    throw new ForwardPassError(`${layer.name}/${name} has ${values.length} values, expected ${count}`);
  return values;
}

function asFloat(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** Scratch of one Dense kernel, reused by every call (no allocation per request). */
interface DenseScratch {
  /** Bias plus the products of the columns constant over the call's rows. */
  b: Float64Array;
  constant: Uint8Array;
  /** The varying columns, ascending, and their count in `varying[0 … m)`. */
  varying: Int32Array;
  /** The kernel restricted to the varying columns ([units, m]), rebuilt when they change. */
  compact: Float64Array;
  compactOf: Int32Array;
  compactLength: number;
  /** Bumped whenever `compact` is rebuilt. */
  compactVersion: number;
  /** The rows' varying columns in float64 ([vectors, m]). */
  rows: Float64Array;
  /** The SIMD kernel (undefined: the JavaScript one runs) and the `compactVersion` it holds. */
  simd: SimdDense | undefined;
  simdVersion: number;
}

/** Rows per call of the SIMD kernel: bounds its memory whatever the batch (training's evaluation). */
const SIMD_CHUNK = 1024;

/**
 * out[v, u] = b[u] + Σ_i input[v, i] · kT[u, i]. A top-level function over plain typed-array
 * parameters, so V8 compiles one monomorphic loop nest (closure-captured arrays ran ~3× slower).
 * An input column with one value in every row (a reader's own features when one reader's candidates
 * are scored, a ReLU unit dead for every candidate) is multiplied once into the bias instead of once
 * per row. The other columns are copied once into a dense float64 block and multiplied two rows by
 * four units at a time (each loaded weight serves two rows, each loaded input four units, no
 * data-dependent branch in the loop). Each output's products are accumulated in float64 in ascending
 * column order, starting from `rowBias`: a zero input adds an exact ±0, so the result equals the sum
 * over the row's non-zero inputs bit for bit (what the sparse kernel before this one computed).
 */
function denseForward(
  input: Float32Array,
  vectors: number,
  inDim: number,
  units: number,
  kT: Float64Array,
  bias: Float64Array,
  scratch: DenseScratch,
  out: Float32Array,
  rowBias?: Float64Array,
): void {
  const { b, constant, varying } = scratch;
  b.set(bias);
  constant.fill(0);
  if (vectors > 1)
    for (let i = 0; i < inDim; i++) {
      const x = input[i] as number;
      let same = true;
      for (let v = 1; v < vectors && same; v++) same = input[v * inDim + i] === x;
      if (!same) continue;
      constant[i] = 1;
      if (x !== 0)
        for (let u = 0; u < units; u++) b[u] = (b[u] as number) + x * (kT[u * inDim + i] as number);
    }
  let m = 0;
  for (let i = 0; i < inDim; i++) if (constant[i] === 0) varying[m++] = i;
  const w = compactKernel(kT, inDim, units, scratch, m);
  if (scratch.simd !== undefined) {
    simdForward(input, vectors, inDim, units, scratch, scratch.simd, m, out, rowBias);
    return;
  }
  if (scratch.rows.length < vectors * m) scratch.rows = new Float64Array(vectors * m);
  const x = scratch.rows;
  for (let v = 0; v < vectors; v++) {
    const from = v * inDim;
    const to = v * m;
    for (let j = 0; j < m; j++) x[to + j] = input[from + (varying[j] as number)] as number;
  }
  const withRowBias = rowBias !== undefined;
  const rb = rowBias ?? b;
  let v = 0;
  for (; v + 1 < vectors; v += 2) {
    const x0 = v * m;
    const x1 = x0 + m;
    const o0 = v * units;
    const o1 = o0 + units;
    let u = 0;
    for (; u + 3 < units; u += 4) {
      const k0 = u * m;
      const k1 = k0 + m;
      const k2 = k1 + m;
      const k3 = k2 + m;
      let a0 = withRowBias ? (rb[o0 + u] as number) : 0;
      let a1 = withRowBias ? (rb[o0 + u + 1] as number) : 0;
      let a2 = withRowBias ? (rb[o0 + u + 2] as number) : 0;
      let a3 = withRowBias ? (rb[o0 + u + 3] as number) : 0;
      let c0 = withRowBias ? (rb[o1 + u] as number) : 0;
      let c1 = withRowBias ? (rb[o1 + u + 1] as number) : 0;
      let c2 = withRowBias ? (rb[o1 + u + 2] as number) : 0;
      let c3 = withRowBias ? (rb[o1 + u + 3] as number) : 0;
      for (let j = 0; j < m; j++) {
        const p = x[x0 + j] as number;
        const q = x[x1 + j] as number;
        const w0 = w[k0 + j] as number;
        const w1 = w[k1 + j] as number;
        const w2 = w[k2 + j] as number;
        const w3 = w[k3 + j] as number;
        a0 += p * w0;
        a1 += p * w1;
        a2 += p * w2;
        a3 += p * w3;
        c0 += q * w0;
        c1 += q * w1;
        c2 += q * w2;
        c3 += q * w3;
      }
      out[o0 + u] = (b[u] as number) + a0;
      out[o0 + u + 1] = (b[u + 1] as number) + a1;
      out[o0 + u + 2] = (b[u + 2] as number) + a2;
      out[o0 + u + 3] = (b[u + 3] as number) + a3;
      out[o1 + u] = (b[u] as number) + c0;
      out[o1 + u + 1] = (b[u + 1] as number) + c1;
      out[o1 + u + 2] = (b[u + 2] as number) + c2;
      out[o1 + u + 3] = (b[u + 3] as number) + c3;
    }
    for (; u < units; u++) {
      const k = u * m;
      let a = withRowBias ? (rb[o0 + u] as number) : 0;
      let c = withRowBias ? (rb[o1 + u] as number) : 0;
      for (let j = 0; j < m; j++) {
        const wj = w[k + j] as number;
        a += (x[x0 + j] as number) * wj;
        c += (x[x1 + j] as number) * wj;
      }
      out[o0 + u] = (b[u] as number) + a;
      out[o1 + u] = (b[u] as number) + c;
    }
  }
  for (; v < vectors; v++) {
    const x0 = v * m;
    const o0 = v * units;
    for (let u = 0; u < units; u++) {
      const k = u * m;
      let a = withRowBias ? (rb[o0 + u] as number) : 0;
      for (let j = 0; j < m; j++) a += (x[x0 + j] as number) * (w[k + j] as number);
      out[o0 + u] = (b[u] as number) + a;
    }
  }
}

/**
 * `denseForward`'s products in the WebAssembly SIMD kernel (same sums, same bits), over chunks of at
 * most SIMD_CHUNK rows: the varying columns are copied straight into the kernel's memory.
 */
function simdForward(
  input: Float32Array,
  vectors: number,
  inDim: number,
  units: number,
  scratch: DenseScratch,
  simd: SimdDense,
  m: number,
  out: Float32Array,
  rowBias: Float64Array | undefined,
): void {
  const { varying } = scratch;
  if (scratch.simdVersion !== scratch.compactVersion) {
    simd.setWeights(scratch.compact, m);
    scratch.simdVersion = scratch.compactVersion;
  }
  for (let v0 = 0; v0 < vectors; v0 += SIMD_CHUNK) {
    const n = Math.min(SIMD_CHUNK, vectors - v0);
    const x = simd.rows(n, m);
    for (let v = 0; v < n; v++) {
      const from = (v0 + v) * inDim;
      const to = v * m;
      for (let j = 0; j < m; j++) x[to + j] = input[from + (varying[j] as number)] as number;
    }
    const at = v0 * units;
    simd.run(n, scratch.b, out.subarray(at, at + n * units), rowBias?.subarray(at, at + n * units));
  }
}

/**
 * The kernel's rows restricted to the varying columns `scratch.varying[0 … m)`, as [units, m]: kept
 * while the same columns vary (one reader's constant columns and the dead units repeat from call to
 * call), rebuilt otherwise.
 */
function compactKernel(
  kT: Float64Array,
  inDim: number,
  units: number,
  scratch: DenseScratch,
  m: number,
): Float64Array {
  const { varying, compactOf } = scratch;
  let same = scratch.compactLength === m;
  for (let j = 0; same && j < m; j++) same = compactOf[j] === varying[j];
  if (same) return scratch.compact;
  const compact = scratch.compact;
  for (let u = 0; u < units; u++)
    for (let j = 0; j < m; j++) compact[u * m + j] = kT[u * inDim + (varying[j] as number)] as number;
  compactOf.set(varying.subarray(0, m));
  scratch.compactLength = m;
  scratch.compactVersion++;
  return compact;
}

/** One input of a fused Dense: an embedding's ids (with its table) or plain columns. */
interface FusedPart {
  dep: string;
  embedding?: LayerSpec;
}

/**
 * The parts of `Dense(Concatenate([Flatten(Embedding(ids)) | columns, …]))` when `layer` is such a
 * Dense (concatenated along the last axis), else undefined.
 */
function embeddingDenseParts(
  layer: LayerSpec,
  inbound: readonly string[],
  byName: ReadonlyMap<string, LayerSpec>,
): FusedPart[] | undefined {
  const node = (id: string) => {
    const [name, index] = id.split(":") as [string, string];
    const spec = byName.get(name);
    return spec === undefined ? undefined : { spec, inbound: spec.inboundNodes[Number(index)] };
  };
  if (layer.className !== "Dense" || inbound.length !== 1) return undefined;
  const concat = node(inbound[0] as string);
  if (concat?.spec.className !== "Concatenate" || concat.inbound === undefined) return undefined;
  const axis = Number(concat.spec.config.axis ?? -1);
  if (axis !== -1 && axis !== 1) return undefined;
  const parts = concat.inbound.map((dep): FusedPart => {
    const flatten = node(dep);
    if (flatten?.spec.className !== "Flatten" || flatten.inbound?.length !== 1) return { dep };
    const embedding = node(flatten.inbound[0] as string);
    if (embedding?.spec.className !== "Embedding" || embedding.inbound?.length !== 1) return { dep };
    return { dep: embedding.inbound[0] as string, embedding: embedding.spec };
  });
  return parts.some((p) => p.embedding !== undefined) ? parts : undefined;
}

/**
 * A Dense layer over concatenated embeddings and columns, computed without materialising the
 * concatenation: each embedding row's product with its block of the kernel is tabulated once per id
 * at load (a vocabulary of a few dozen ids), so a row costs one table lookup per embedding instead of
 * `outputDim × units` products. Undefined (run unfused) when an embedding's ids are not one per row
 * or the columns are not flat.
 */
function embeddingDense(
  layer: LayerSpec,
  parts: readonly (FusedPart & { shape: number[] })[],
  weights: Map<string, Float32Array>,
  simd: boolean,
): Compiled | undefined {
  const widths: number[] = [];
  for (const part of parts) {
    if (part.shape.length !== 1) return undefined;
    if (part.embedding === undefined) widths.push(part.shape[0] as number);
    else if (part.shape[0] !== 1) return undefined;
    else widths.push(Number(part.embedding.config.output_dim));
  }
  const c = layer.config;
  const inDim = widths.reduce((n, w) => n + w, 0);
  const units = Number(c.units);
  const kernel = weight(layer, weights, "kernel", inDim * units);
  const bias = c.use_bias === false ? undefined : weight(layer, weights, "bias", units);
  const relu = c.activation === "relu";
  const tables: { table: Float64Array; vocab: number; name: string }[] = [];
  const columns: number[] = [];
  let offset = 0;
  parts.forEach((part, j) => {
    const width = widths[j] as number;
    if (part.embedding === undefined) for (let k = 0; k < width; k++) columns.push(offset + k);
    else {
      const vocab = Number(part.embedding.config.input_dim);
      const e = weight(part.embedding, weights, "embeddings", vocab * width);
      const table = new Float64Array(vocab * units);
      for (let id = 0; id < vocab; id++)
        for (let u = 0; u < units; u++) {
          let s = 0;
          for (let k = 0; k < width; k++)
            s += (e[id * width + k] as number) * (kernel[(offset + k) * units + u] as number);
          table[id * units + u] = s;
        }
      tables.push({ table, vocab, name: part.embedding.name });
    }
    offset += width;
  });
  const cols = columns.length;
  const dense = denseKernel(kernel, bias, units, columns, simd, relu);
  // Every kernel of this layer has the same units, so all of them apply the ReLU or none does.
  const fn = dense.reluApplied ? null : activationOf(layer, c.activation);
  const shape = [units];
  const inputName = (part: FusedPart) => part.dep.split(":")[0] as string;
  /** Per keyed-columns spec: which parts are keyed whole, which columns are keyed, the rest's kernel. */
  const plans = new Map<string, KeyedPlan | undefined>();
  const planOf = (spec: KeyedRows["columns"]): KeyedPlan | undefined => {
    const id = JSON.stringify(parts.map((part) => spec[inputName(part)] ?? []));
    if (plans.has(id)) return plans.get(id);
    const keyedParts: boolean[] = [];
    const keyedCols: number[] = [];
    const restCols: number[] = [];
    const restAt: number[] = [];
    let at = 0;
    let c = 0;
    parts.forEach((part, j) => {
      const width = widths[j] as number;
      const own = new Set(spec[inputName(part)] ?? []);
      keyedParts.push(part.embedding !== undefined && own.has(0));
      if (part.embedding === undefined)
        for (let k = 0; k < width; k++) {
          if (own.has(k)) keyedCols.push(columns[c] as number);
          else {
            restCols.push(columns[c] as number);
            restAt.push(at + k);
          }
          c++;
        }
      if (part.embedding === undefined) at += width;
    });
    const plan =
      keyedCols.length === 0 && !keyedParts.some(Boolean)
        ? undefined
        : {
            keyedParts,
            allEmbeddingsKeyed: parts.every((part, j) => part.embedding === undefined || keyedParts[j]),
            keyedCols,
            restAt: Int32Array.from(restAt),
            rest: denseKernel(kernel, bias, units, restCols, simd, relu).run,
          };
    plans.set(id, plan);
    return plan;
  };
  let rowBias = new Float64Array(0);
  let columnsIn = new Float32Array(0);
  const output = reusedBuffer();
  const restBuffer = reusedBuffer();
  return {
    shape,
    run: (xs, rows, keyed) => {
      if (rowBias.length < rows * units) rowBias = new Float64Array(rows * units);
      if (columnsIn.length < rows * cols) columnsIn = new Float32Array(rows * cols);
      const plan = keyed === undefined ? undefined : planOf(keyed.columns);
      // Every row's starting sums are set whole below when all embeddings are keyed.
      if (plan?.allEmbeddingsKeyed !== true) rowBias.fill(0, 0, rows * units);
      let t = 0;
      let at = 0;
      parts.forEach((part, j) => {
        const data = (xs[j] as Tensor).data;
        if (part.embedding === undefined) {
          const width = widths[j] as number;
          copyColumns(data, rows, width, columnsIn, cols, at);
          at += width;
          return;
        }
        const { table, vocab, name } = tables[t++] as (typeof tables)[number];
        if (plan?.keyedParts[j] !== true) addEmbeddingRows(data, rows, table, vocab, units, rowBias, name);
      });
      const out = output(rows * units);
      if (plan === undefined || keyed === undefined) dense.run(columnsIn, rows, out, rowBias);
      else {
        let partials = keyed.partials.byLayer.get(layer.name);
        if (partials === undefined) {
          partials = new Map();
          keyed.partials.byLayer.set(layer.name, partials);
        }
        for (let r = 0; r < rows; r++) {
          const key = keyed.keys[r] as number;
          let partial = partials.get(key);
          if (partial === undefined) {
            partial = keyedPartial(plan, r, xs, columnsIn, cols);
            partials.set(key, partial);
          }
          // 0 + partial is partial, bit for bit: a partial is summed onto +0, so it never holds -0.
          if (plan.allEmbeddingsKeyed) rowBias.set(partial, r * units);
          else addRow(rowBias, r * units, partial, units);
        }
        const rest = plan.restAt.length;
        const restIn = restBuffer(rows * rest);
        for (let r = 0; r < rows; r++)
          for (let k = 0; k < rest; k++)
            restIn[r * rest + k] = columnsIn[r * cols + (plan.restAt[k] as number)] as number;
        plan.rest(restIn, rows, out, rowBias);
      }
      fn?.(out, units);
      return { data: out, shape };
    },
  };

  /** Row `r`'s keyed part: its keyed embeddings' products (in part order), then its keyed columns'. */
  function keyedPartial(
    plan: KeyedPlan,
    r: number,
    xs: Tensor[],
    columnsIn: Float32Array,
    cols: number,
  ): Float64Array {
    const partial = new Float64Array(units);
    let t = 0;
    parts.forEach((part, j) => {
      if (part.embedding === undefined) return;
      const { table, vocab, name } = tables[t++] as (typeof tables)[number];
      if (plan.keyedParts[j] !== true) return;
      const id = Math.trunc((xs[j] as Tensor).data[r] as number);
      if (!(id >= 0 && id < vocab))
        throw new ForwardPassError(`Layer ${name}: id ${id} is outside the vocabulary (0–${vocab - 1})`);
      addRow(partial, 0, table.subarray(id * units, (id + 1) * units), units);
    });
    for (const col of plan.keyedCols) {
      const x = columnsIn[r * cols + columns.indexOf(col)] as number;
      if (x !== 0)
        for (let u = 0; u < units; u++)
          partial[u] = (partial[u] as number) + x * (kernel[col * units + u] as number);
    }
    return partial;
  }
}

interface KeyedPlan {
  /** Per fused part: an embedding whose ids are keyed. */
  keyedParts: boolean[];
  /** No embedding adds to a row's starting sums besides its keyed partial. */
  allEmbeddingsKeyed: boolean;
  /** Keyed columns (kernel rows), in input order. */
  keyedCols: number[];
  /** Where each other column sits in the concatenated columns. */
  restAt: Int32Array;
  rest: (input: Float32Array, vectors: number, out: Float32Array, rowBias?: Float64Array) => void;
}

/**
 * A step's own buffer, reused by every call of `predict` (young-generation garbage was a sixth of the
 * serving path's CPU): its contents live until the step runs again, and `predict` returns copies.
 */
function reusedBuffer(): (length: number) => Float32Array {
  let buffer = new Float32Array(0);
  return (length) => {
    if (buffer.length < length) buffer = new Float32Array(length);
    return buffer.subarray(0, length);
  };
}

/** to[at + u] += from[u] for u < units. */
function addRow(to: Float64Array, at: number, from: Float64Array, units: number): void {
  for (let u = 0; u < units; u++) to[at + u] = (to[at + u] as number) + (from[u] as number);
}

/** Columns of one fused part into the concatenated columns' rows (at column `at` of `cols`). */
function copyColumns(
  data: Float32Array | Int32Array,
  rows: number,
  width: number,
  into: Float32Array,
  cols: number,
  at: number,
): void {
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < width; k++) into[r * cols + at + k] = data[r * width + k] as number;
}

/** rowBias[r] += the embedding table's row of each row's id (checked against the vocabulary). */
function addEmbeddingRows(
  ids: Float32Array | Int32Array,
  rows: number,
  table: Float64Array,
  vocab: number,
  units: number,
  rowBias: Float64Array,
  name: string,
): void {
  for (let r = 0; r < rows; r++) {
    const id = Math.trunc(ids[r] as number);
    if (!(id >= 0 && id < vocab))
      throw new ForwardPassError(`Layer ${name}: id ${id} is outside the vocabulary (0–${vocab - 1})`);
    const from = id * units;
    const to = r * units;
    for (let u = 0; u < units; u++)
      rowBias[to + u] = (rowBias[to + u] as number) + (table[from + u] as number);
  }
}

/** A Dense kernel ready to run, and whether it applies the layer's ReLU itself (the SIMD kernel does). */
interface DenseRun {
  run: (input: Float32Array, vectors: number, out: Float32Array, rowBias?: Float64Array) => void;
  reluApplied: boolean;
}

/**
 * A Dense kernel over some of its input columns (`columns`, in input order), ready for
 * `denseForward`: transposed to [units, columns] in float64, so each output is one contiguous dot
 * product accumulated in a register (several times faster in V8 than updating a row of sums).
 */
function denseKernel(
  kernel: Float32Array,
  bias: Float32Array | undefined,
  units: number,
  columns: readonly number[],
  simd: boolean,
  relu: boolean,
): DenseRun {
  const cols = columns.length;
  const kT = new Float64Array(units * cols);
  columns.forEach((col, i) => {
    for (let u = 0; u < units; u++) kT[u * cols + i] = kernel[col * units + u] as number;
  });
  const b0 = new Float64Array(units);
  if (bias !== undefined) b0.set(bias);
  const scratch: DenseScratch = {
    b: new Float64Array(units),
    constant: new Uint8Array(cols),
    varying: new Int32Array(cols),
    compact: new Float64Array(units * cols),
    compactOf: new Int32Array(cols),
    compactLength: -1,
    compactVersion: 0,
    rows: new Float64Array(0),
    simd: simd ? SimdDense.create(units, cols, relu) : undefined,
    simdVersion: -1,
  };
  return {
    run: (input, vectors, out, rowBias) =>
      denseForward(input, vectors, cols, units, kT, b0, scratch, out, rowBias),
    reluApplied: relu && scratch.simd !== undefined,
  };
}

type Compiled = { run: (inputs: Tensor[], rows: number, keyed?: KeyedRows) => Tensor; shape: number[] };

function compileLayer(
  layer: LayerSpec,
  inShapes: number[][],
  weights: Map<string, Float32Array>,
  simd: boolean,
): Compiled {
  const c = layer.config;
  const one = () => {
    if (inShapes.length !== 1)
      throw new ForwardPassError(`Layer ${layer.name} expects one input, got ${inShapes.length}`);
    return inShapes[0] as number[];
  };
  switch (layer.className) {
    case "InputLayer":
      throw new ForwardPassError(`Input layer ${layer.name} is not a model input`);
    case "Dropout":
      return { shape: one(), run: ([x]) => x as Tensor };
    case "Flatten": {
      const shape = [size(one())];
      return { shape, run: ([x]) => ({ data: (x as Tensor).data, shape }) };
    }
    case "Reshape": {
      const inSize = size(one());
      const target = (c.target_shape as number[]).slice();
      const unknown = target.indexOf(-1);
      if (unknown >= 0) target[unknown] = inSize / size(target.filter((d) => d !== -1));
      if (size(target) !== inSize)
        throw new ForwardPassError(
          `Layer ${layer.name}: cannot reshape ${one().join("×")} to ${target.join("×")}`,
        );
      return { shape: target, run: ([x]) => ({ data: (x as Tensor).data, shape: target }) };
    }
    case "Activation": {
      const shape = one();
      const fn = activationOf(layer, c.activation);
      const width = shape[shape.length - 1] ?? 1;
      return {
        shape,
        run: ([x]) => {
          const data = Float32Array.from((x as Tensor).data);
          fn?.(data, width);
          return { data, shape };
        },
      };
    }
    case "Embedding": {
      const inputDim = Number(c.input_dim);
      const outputDim = Number(c.output_dim);
      const table = weight(layer, weights, "embeddings", inputDim * outputDim);
      const inShape = one();
      const shape = [...inShape, outputDim];
      const positions = size(inShape);
      return {
        shape,
        run: ([x], rows) => {
          const ids = (x as Tensor).data;
          const out = new Float32Array(rows * positions * outputDim);
          for (let p = 0; p < rows * positions; p++) {
            const id = Math.trunc(ids[p] as number);
            if (!(id >= 0 && id < inputDim))
              throw new ForwardPassError(
                `Layer ${layer.name}: id ${id} is outside the vocabulary (0–${inputDim - 1})`,
              );
            const from = id * outputDim;
            const to = p * outputDim;
            for (let k = 0; k < outputDim; k++) out[to + k] = table[from + k] as number;
          }
          return { data: out, shape };
        },
      };
    }
    case "Dense": {
      const inShape = one();
      const inDim = inShape[inShape.length - 1] as number;
      const units = Number(c.units);
      const kernel = weight(layer, weights, "kernel", inDim * units);
      const bias = c.use_bias === false ? undefined : weight(layer, weights, "bias", units);
      const shape = [...inShape.slice(0, -1), units];
      const dense = denseKernel(
        kernel,
        bias,
        units,
        Array.from({ length: inDim }, (_, i) => i),
        simd,
        c.activation === "relu",
      );
      const fn = dense.reluApplied ? null : activationOf(layer, c.activation);
      const output = reusedBuffer();
      return {
        shape,
        run: ([x], rows) => {
          const input = asFloat(x as Tensor);
          const vectors = rows * (size(inShape) / inDim);
          const out = output(vectors * units);
          dense.run(input, vectors, out);
          fn?.(out, units);
          return { data: out, shape };
        },
      };
    }
    case "BatchNormalization":
    case "LayerNormalization": {
      const shape = one();
      const axisCfg = c.axis as Json;
      const axes = Array.isArray(axisCfg) ? (axisCfg as number[]) : [Number(axisCfg ?? -1)];
      if (axes.length !== 1 || innerAxis(layer, axes[0] as number, shape.length) !== shape.length - 1)
        throw new ForwardPassError(`Layer ${layer.name}: only normalisation over the last axis is supported`);
      const width = shape[shape.length - 1] as number;
      const epsilon = Number(c.epsilon ?? 1e-3);
      const gamma = c.scale === false ? undefined : weight(layer, weights, "gamma", width);
      const beta = c.center === false ? undefined : weight(layer, weights, "beta", width);
      if (layer.className === "BatchNormalization") {
        const mean = weight(layer, weights, "moving_mean", width);
        const variance = weight(layer, weights, "moving_variance", width);
        const scale = new Float32Array(width);
        for (let k = 0; k < width; k++)
          scale[k] = (gamma?.[k] ?? 1) / Math.sqrt((variance[k] as number) + epsilon);
        return {
          shape,
          run: ([x]) => {
            const input = asFloat(x as Tensor);
            const out = new Float32Array(input.length);
            for (let i = 0; i < input.length; i++) {
              const k = i % width;
              out[i] = ((input[i] as number) - (mean[k] as number)) * (scale[k] as number) + (beta?.[k] ?? 0);
            }
            return { data: out, shape };
          },
        };
      }
      return {
        shape,
        run: ([x]) => {
          const input = asFloat(x as Tensor);
          const out = new Float32Array(input.length);
          for (let start = 0; start < input.length; start += width) {
            let m = 0;
            for (let k = 0; k < width; k++) m += input[start + k] as number;
            m /= width;
            let v = 0;
            for (let k = 0; k < width; k++) v += ((input[start + k] as number) - m) ** 2;
            v /= width;
            const inv = 1 / Math.sqrt(v + epsilon);
            for (let k = 0; k < width; k++)
              out[start + k] =
                ((input[start + k] as number) - m) * inv * (gamma?.[k] ?? 1) + (beta?.[k] ?? 0);
          }
          return { data: out, shape };
        },
      };
    }
    case "Concatenate": {
      if (inShapes.length < 2) throw new ForwardPassError(`Layer ${layer.name} needs at least two inputs`);
      const rank = (inShapes[0] as number[]).length;
      const axis = innerAxis(layer, Number(c.axis ?? -1), rank);
      for (const s of inShapes)
        if (s.length !== rank || s.some((d, k) => k !== axis && d !== (inShapes[0] as number[])[k]))
          throw new ForwardPassError(
            `Layer ${layer.name}: inputs ${inShapes.map((s) => s.join("×")).join(", ")} do not concatenate`,
          );
      const shape = (inShapes[0] as number[]).slice();
      shape[axis] = inShapes.reduce((n, s) => n + (s[axis] as number), 0);
      const inner = size(shape.slice(axis + 1));
      const chunks = inShapes.map((s) => (s[axis] as number) * inner);
      const outer = size(shape.slice(0, axis));
      return {
        shape,
        run: (xs, rows) => {
          const out = new Float32Array(rows * size(shape));
          const datas = xs.map(asFloat);
          let at = 0;
          for (let o = 0; o < rows * outer; o++) {
            for (let j = 0; j < datas.length; j++) {
              const n = chunks[j] as number;
              const d = datas[j] as Float32Array;
              const from = o * n;
              for (let k = 0; k < n; k++) out[at + k] = d[from + k] as number;
              at += n;
            }
          }
          return { data: out, shape };
        },
      };
    }
    case "Add":
    case "Subtract":
    case "Multiply":
    case "Average":
    case "Maximum":
    case "Minimum": {
      const shape = inShapes[0] as number[];
      if (inShapes.length < 2 || inShapes.some((s) => s.join() !== shape.join()))
        throw new ForwardPassError(
          `Layer ${layer.name}: ${layer.className} needs ≥ 2 inputs of one shape (no broadcasting)`,
        );
      if (layer.className === "Subtract" && inShapes.length !== 2)
        throw new ForwardPassError(`Layer ${layer.name}: Subtract takes exactly two inputs`);
      const kind = layer.className;
      return {
        shape,
        run: (xs) => {
          const datas = xs.map(asFloat);
          const out = Float32Array.from(datas[0] as Float32Array);
          for (let j = 1; j < datas.length; j++) {
            const d = datas[j] as Float32Array;
            for (let i = 0; i < out.length; i++) {
              const a = out[i] as number;
              const b = d[i] as number;
              out[i] =
                kind === "Add" || kind === "Average"
                  ? a + b
                  : kind === "Subtract"
                    ? a - b
                    : kind === "Multiply"
                      ? a * b
                      : kind === "Maximum"
                        ? Math.max(a, b)
                        : Math.min(a, b);
            }
          }
          if (kind === "Average")
            for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / datas.length;
          return { data: out, shape };
        },
      };
    }
    case "Dot": {
      if (
        inShapes.length !== 2 ||
        inShapes.some((s) => s.length !== 1) ||
        inShapes[0]?.[0] !== inShapes[1]?.[0]
      )
        throw new ForwardPassError(
          `Layer ${layer.name}: Dot is supported for two [batch, d] inputs of one width`,
        );
      const axes = Array.isArray(c.axes) ? (c.axes as number[]) : [Number(c.axes), Number(c.axes)];
      if (axes.some((a) => a !== 1 && a !== -1))
        throw new ForwardPassError(`Layer ${layer.name}: Dot over axes ${axes.join(",")} is not supported`);
      const width = inShapes[0]?.[0] as number;
      const normalize = c.normalize === true;
      const shape = [1];
      return {
        shape,
        run: (xs, rows) => {
          const [a, b] = xs.map(asFloat) as [Float32Array, Float32Array];
          const out = new Float32Array(rows);
          for (let r = 0; r < rows; r++) {
            let dot = 0;
            let na = 0;
            let nb = 0;
            for (let k = r * width; k < (r + 1) * width; k++) {
              const x = a[k] as number;
              const y = b[k] as number;
              dot += x * y;
              na += x * x;
              nb += y * y;
            }
            // tfjs l2Normalize: x / sqrt(max(sum x², 1e-12)).
            out[r] = normalize
              ? dot / (Math.sqrt(Math.max(na, 1e-12)) * Math.sqrt(Math.max(nb, 1e-12)))
              : dot;
          }
          return { data: out, shape };
        },
      };
    }
    case "GlobalAveragePooling1D":
    case "GlobalMaxPooling1D": {
      const inShape = one();
      if (inShape.length !== 2 || (c.data_format !== undefined && c.data_format !== "channels_last"))
        throw new ForwardPassError(`Layer ${layer.name}: expects [batch, steps, channels] (channels_last)`);
      const [steps, channels] = inShape as [number, number];
      const max = layer.className === "GlobalMaxPooling1D";
      const shape = [channels];
      return {
        shape,
        run: ([x], rows) => {
          const input = asFloat(x as Tensor);
          const out = new Float32Array(rows * channels);
          for (let r = 0; r < rows; r++)
            for (let ch = 0; ch < channels; ch++) {
              let acc = max ? Number.NEGATIVE_INFINITY : 0;
              for (let s = 0; s < steps; s++) {
                const v = input[(r * steps + s) * channels + ch] as number;
                acc = max ? Math.max(acc, v) : acc + v;
              }
              out[r * channels + ch] = max ? acc : acc / steps;
            }
          return { data: out, shape };
        },
      };
    }
    case "RepeatVector": {
      const inShape = one();
      if (inShape.length !== 1)
        throw new ForwardPassError(`Layer ${layer.name}: RepeatVector expects [batch, d]`);
      const n = Number(c.n);
      const width = inShape[0] as number;
      const shape = [n, width];
      return {
        shape,
        run: ([x], rows) => {
          const input = asFloat(x as Tensor);
          const out = new Float32Array(rows * n * width);
          for (let r = 0; r < rows; r++) {
            const row = input.subarray(r * width, (r + 1) * width);
            for (let j = 0; j < n; j++) out.set(row, (r * n + j) * width);
          }
          return { data: out, shape };
        },
      };
    }
    case "Permute": {
      const inShape = one();
      const dims = (c.dims as number[]).map((d) => d - 1);
      if (dims.length !== inShape.length || [...dims].sort().some((d, k) => d !== k))
        throw new ForwardPassError(`Layer ${layer.name}: invalid dims ${JSON.stringify(c.dims)}`);
      const shape = dims.map((d) => inShape[d] as number);
      const inStrides = inShape.map((_, k) => size(inShape.slice(k + 1)));
      const n = size(inShape);
      // For each output position, the input position it reads.
      const gather = new Int32Array(n);
      for (let o = 0; o < n; o++) {
        let rest = o;
        let src = 0;
        for (let k = 0; k < shape.length; k++) {
          const stride = size(shape.slice(k + 1));
          const idx = Math.floor(rest / stride);
          rest -= idx * stride;
          src += idx * (inStrides[dims[k] as number] as number);
        }
        gather[o] = src;
      }
      return {
        shape,
        run: ([x], rows) => {
          const input = asFloat(x as Tensor);
          const out = new Float32Array(rows * n);
          for (let r = 0; r < rows; r++)
            for (let o = 0; o < n; o++) out[r * n + o] = input[r * n + (gather[o] as number)] as number;
          return { data: out, shape };
        },
      };
    }
    default:
      throw new ForwardPassError(
        `Layer ${layer.name} is a ${layer.className}, which the forward pass cannot run`,
      );
  }
}
