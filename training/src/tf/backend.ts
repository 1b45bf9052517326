/**
 * Picks the fastest TensorFlow.js backend that actually works on this machine and returns the `tf`
 * namespace bound to it, so the same model code runs on native TensorFlow, WASM or pure JS.
 *
 * Facts this module works around (measured, see the "training" issue):
 * - `@tensorflow/tfjs-node` is an optional dependency whose install script (the libtensorflow
 *   download) may have been denied: the package then resolves but throws when loaded. So the load
 *   itself is guarded, and a real op is run before the backend is trusted.
 * - `@tensorflow/tfjs-backend-wasm` lacks the `UnsortedSegmentSum` kernel, which is the gradient of
 *   `gather` (so of every Embedding layer). We register a synchronous one (see
 *   `unsorted-segment-sum.ts`).
 * - The wasm binaries are read from the installed package through a file path (no fetch, no
 *   bundler); the multithreaded build needs browser Workers/Blobs, so threads are turned off.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { Logger } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import { registerWasmUnsortedSegmentSum } from "./unsorted-segment-sum.js";

/** The `@tensorflow/tfjs` namespace (tfjs-node re-exports the very same one). */
export type Tf = typeof TfModule;

/** Name of the active tfjs backend as `tf.getBackend()` reports it. */
export type TfBackendName = "tensorflow" | "wasm" | "cpu";

/** Which runtime to try first: native libtensorflow (`node`), `wasm` or pure JS (`cpu`). */
export type TfPreference = "node" | "wasm" | "cpu";

/** The part of the platform logger this module uses (a pino `Logger` fits). */
export type TfLogger = Pick<Logger, "info" | "warn">;

export interface InitTensorflowOptions {
  /** First runtime to try; the others follow in the order node → wasm → cpu. Default `node`. */
  prefer?: TfPreference;
  log: TfLogger;
}

export interface TensorflowRuntime {
  tf: Tf;
  backend: TfBackendName;
}

const FALLBACK_ORDER: readonly TfPreference[] = ["node", "wasm", "cpu"];

/**
 * Loads TensorFlow.js and activates the first backend of `[prefer, ...node → wasm → cpu]` that can
 * run an op. Never throws for a missing optional runtime: it logs why it moved on. Calling it again
 * is cheap and may switch backend (tfjs keeps one global engine per process).
 */
export async function initTensorflow(options: InitTensorflowOptions): Promise<TensorflowRuntime> {
  const { log } = options;
  const prefer = options.prefer ?? "node";
  const order = [prefer, ...FALLBACK_ORDER.filter((p) => p !== prefer)];
  const tf: Tf = await import("@tensorflow/tfjs");
  for (const candidate of order) {
    try {
      const backend = await activate(tf, candidate);
      log.info({ backend, prefer }, "tensorflow.js backend ready");
      return { tf, backend };
    } catch (error) {
      log.warn(
        { candidate, err: error instanceof Error ? error.message.split("\n")[0] : String(error) },
        "tensorflow.js backend unavailable, trying the next one",
      );
    }
  }
  // Unreachable in practice: the pure-JS CPU backend ships inside @tensorflow/tfjs.
  throw new Error("No TensorFlow.js backend could run an op (tried node, wasm, cpu)");
}

async function activate(tf: Tf, candidate: TfPreference): Promise<TfBackendName> {
  switch (candidate) {
    case "node":
      return activateNode(tf);
    case "wasm":
      return activateWasm(tf);
    case "cpu":
      await switchTo(tf, "cpu");
      return "cpu";
  }
}

/**
 * How libtensorflow runs the training step's ops: one intra-op thread, and TensorFlow's own (Eigen)
 * kernels rather than oneDNN's. The recommender's ops are small (a batch of ~500 rows × ≤ 64 units):
 * splitting one across threads and oneDNN's per-call set-up cost more than they save. Measured on
 * the full-scale epoch (issue #18, 2 cores): 0.87–0.93 s with TensorFlow's defaults, 0.71–0.77 s with
 * one thread, 0.62–0.64 s with both. libtensorflow reads these from the process environment when its
 * eager context starts, and tfjs-node offers no other way to pass them, so they are set there before
 * the addon loads, unless the environment already sets them.
 */
export const NATIVE_TENSORFLOW_SETTINGS = {
  TF_NUM_INTRAOP_THREADS: "1",
  TF_ENABLE_ONEDNN_OPTS: "0",
} as const;

async function activateNode(tf: Tf): Promise<TfBackendName> {
  for (const [name, value] of Object.entries(NATIVE_TENSORFLOW_SETTINGS)) process.env[name] ??= value;
  // Throws when libtensorflow / the N-API binding is missing (install script denied or failed).
  // The module registers the "tensorflow" backend in the one shared tfjs-core engine.
  await import("@tensorflow/tfjs-node");
  try {
    await switchTo(tf, "tensorflow");
  } catch (error) {
    // A registered but broken factory would otherwise be retried by tfjs' own backend selection.
    if (tf.findBackendFactory("tensorflow")) tf.removeBackend("tensorflow");
    throw error;
  }
  return "tensorflow";
}

let wasmPathsSet = false;

async function activateWasm(tf: Tf): Promise<TfBackendName> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  if (!wasmPathsSet) {
    // The wasm binaries sit next to the package's main file. createRequire only resolves the path
    // (loading through it would bypass jest's module registry and give a second tfjs-core).
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    // The threaded build spawns browser Workers from Blob URLs, which Node cannot run.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setWasmPaths(`${dir}${path.sep}`);
    wasmPathsSet = true;
  }
  registerWasmUnsortedSegmentSum(tf);
  await switchTo(tf, "wasm");
  return "wasm";
}

/** Sets the backend and proves it with a real op, so a broken runtime fails here, not mid-training. */
async function switchTo(tf: Tf, name: TfBackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend("${name}") failed`);
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  if (sum[0] !== 4 || sum[1] !== 6) throw new Error(`backend "${name}" computed a wrong sum`);
}
