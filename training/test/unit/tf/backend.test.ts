import { describe, expect, it } from "@jest/globals";
import { initTensorflow } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

describe("initTensorflow", () => {
  it("falls back from tfjs-node to a backend that computes, logging why it moved on", async () => {
    const log = recordingLogger();
    const { tf, backend } = await initTensorflow({ prefer: "node", log });

    expect(["tensorflow", "wasm", "cpu"]).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
    expect(Array.from(tf.tidy(() => tf.mul(tf.tensor1d([2, 3]), 2).dataSync()))).toEqual([4, 6]);
    if (backend !== "tensorflow") {
      // Here tfjs-node is installed without libtensorflow: the load must fail inside the guard.
      expect(log.entries).toContainEqual(
        expect.objectContaining({ level: "warn", fields: expect.objectContaining({ candidate: "node" }) }),
      );
      expect(tf.findBackendFactory("tensorflow")).toBeFalsy();
    }
    expect(log.entries.at(-1)).toMatchObject({ level: "info", fields: { backend, prefer: "node" } });
  });

  it("runs on the wasm backend when asked, with the segment-sum kernel registered", async () => {
    const { tf, backend } = await initTensorflow({ prefer: "wasm", log: recordingLogger() });

    expect(backend).toBe("wasm");
    expect(tf.getKernel("UnsortedSegmentSum", "wasm")).toBeDefined();
  });

  it("switches to the pure-JS cpu backend when asked", async () => {
    const { tf, backend } = await initTensorflow({ prefer: "cpu", log: recordingLogger() });

    expect(backend).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
  });
});
