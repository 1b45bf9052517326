/**
 * `UnsortedSegmentSum` for the tfjs WASM backend, which does not ship one (tfjs 4.22). It is the
 * gradient of `gather`, hence of every Embedding layer; without it, training on wasm fails (or, if
 * one falls back to the pure-JS CPU backend, takes about a minute per batch).
 *
 * The kernel runs synchronously on the JS side, directly on the wasm heap: it allocates the output
 * tensor there, zeroes it and accumulates the input rows into it through typed-array views (no
 * copies). Cost: O(size(x)) plus zeroing the output (numSegments × row width).
 */
import type * as TfModule from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Tf = typeof TfModule;
type TensorInfo = TfModule.TensorInfo;

const KERNEL_NAME = "UnsortedSegmentSum";

interface SegmentSumArgs {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: BackendWasm;
  attrs: { numSegments: number };
}

/**
 * Pure computation shared by the kernel and its tests: sums the rows of `x` (viewed as
 * `[size(segmentIds), inner]`) into `numSegments` rows. Ids outside `[0, numSegments)` are dropped,
 * as TensorFlow does.
 */
export function unsortedSegmentSumValues(
  x: Float32Array | Int32Array,
  segmentIds: ArrayLike<number>,
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  const rows = segmentIds.length;
  const inner = rows === 0 ? 0 : x.length / rows;
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const segment = segmentIds[i] as number;
    if (segment < 0 || segment >= numSegments) continue;
    const src = i * inner;
    const dst = segment * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = (out[dst + j] as number) + (x[src + j] as number);
  }
}

function unsortedSegmentSumWasm({ inputs, backend, attrs }: SegmentSumArgs): TensorInfo {
  const { x, segmentIds } = inputs;
  const { numSegments } = attrs;
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`UnsortedSegmentSum (wasm): unsupported dtype ${x.dtype}`);
  }
  const idsRank = segmentIds.shape.length;
  const outShape = [numSegments, ...x.shape.slice(idsRank)];
  // Allocate the output on the wasm heap first: malloc may grow (and so detach) the heap buffer,
  // so every heap view is taken after it.
  const out = backend.makeOutput(outShape, x.dtype);
  const outValues = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xValues = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const idValues = backend.typedArrayFromHeap(segmentIds);
  unsortedSegmentSumValues(xValues, idValues, numSegments, outValues);
  return out;
}

/** Registers the kernel for the `wasm` backend once per process (a no-op if tfjs gains its own). */
export function registerWasmUnsortedSegmentSum(tf: Tf): void {
  if (tf.getKernel(KERNEL_NAME, "wasm")) return;
  tf.registerKernel({
    kernelName: KERNEL_NAME,
    backendName: "wasm",
    kernelFunc: unsortedSegmentSumWasm as unknown as TfModule.KernelFunc,
  });
}
