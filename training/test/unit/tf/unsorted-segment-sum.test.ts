import { beforeAll, describe, expect, it } from "@jest/globals";
import { initTensorflow, type Tf } from "../../../src/tf/backend.js";
import { unsortedSegmentSumValues } from "../../../src/tf/unsorted-segment-sum.js";
import { recordingLogger } from "../helpers.js";

let tf: Tf;

beforeAll(async () => {
  ({ tf } = await initTensorflow({ prefer: "wasm", log: recordingLogger() }));
});

async function onBackend<T>(name: "cpu" | "wasm", f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

describe("unsortedSegmentSumValues", () => {
  it("sums rows into their segments and drops ids outside [0, numSegments)", () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // 4 rows of 2
    const out = new Float32Array(6).fill(99);

    unsortedSegmentSumValues(x, [2, 0, 2, 5], 3, out);

    expect(Array.from(out)).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6]);
  });
});

describe("UnsortedSegmentSum on wasm", () => {
  it("matches the cpu kernel for float and int inputs with multi-dimensional rows", async () => {
    const values = Array.from({ length: 5 * 2 * 3 }, (_, i) => (i * 7) % 11) as number[];
    const ids = [3, 0, 3, 1, 0];
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor3d(values, [5, 2, 3]);
        const seg = tf.tensor1d(ids, "int32");
        return {
          float: Array.from(tf.unsortedSegmentSum(x, seg, 4).dataSync()),
          int: Array.from(tf.unsortedSegmentSum(x.toInt(), seg, 4).dataSync()),
          shape: tf.unsortedSegmentSum(x, seg, 4).shape,
        };
      });

    const cpu = await onBackend("cpu", run);
    const wasm = await onBackend("wasm", run);

    expect(wasm.shape).toEqual([4, 2, 3]);
    expect(wasm.float).toEqual(cpu.float);
    expect(wasm.int).toEqual(cpu.int);
  });

  it("gives embedding (gather) gradients equal to the cpu backend's", async () => {
    const table = Array.from({ length: 20 * 4 }, (_, i) => Math.sin(i));
    const ids = [
      [1, 3],
      [3, 19],
      [0, 1],
      [3, 3],
    ];
    const grad = () =>
      tf.tidy(() => {
        const w = tf.tensor2d(table, [20, 4]);
        const idx = tf.tensor2d(ids, [4, 2], "int32");
        const g = tf.grad((t) => tf.gather(t, idx).square().sum())(w);
        return Array.from(g.dataSync());
      });

    const cpu = await onBackend("cpu", grad);
    const wasm = await onBackend("wasm", grad);

    expect(wasm).toHaveLength(80);
    const maxDiff = Math.max(...wasm.map((v, i) => Math.abs(v - (cpu[i] as number))));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(wasm.slice(3 * 4, 4 * 4).some((v) => v !== 0)).toBe(true); // id 3 gathered 4 times
    expect(wasm.slice(2 * 4, 3 * 4)).toEqual([0, 0, 0, 0]); // id 2 never gathered
  });
});
