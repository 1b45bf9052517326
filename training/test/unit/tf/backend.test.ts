import { describe, expect, it } from "@jest/globals";
import { initTensorflow } from "../../../src/tf/backend.js";
import { recordingLogger } from "../helpers.js";

describe("initTensorflow", () => {
  it("runs on native TensorFlow (tfjs-node's addon, built by scripts/bootstrap.sh) when node is preferred", async () => {
    const log = recordingLogger();
    const { tf, backend } = await initTensorflow({ prefer: "node", log });

    expect(backend).toBe("tensorflow");
    expect(tf.getBackend()).toBe("tensorflow");
    expect(Array.from(tf.tidy(() => tf.mul(tf.tensor1d([2, 3]), 2).dataSync()))).toEqual([4, 6]);
    expect(log.entries).toEqual([
      {
        level: "info",
        fields: { backend: "tensorflow", prefer: "node" },
        message: "tensorflow.js backend ready",
      },
    ]);
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
