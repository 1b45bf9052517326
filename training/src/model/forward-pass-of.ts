/**
 * A trained tfjs model as common's forward pass runs it: the same model.json topology and weight
 * bytes a bundle holds, captured in memory. Offline evaluation scores with it, so what training
 * measures is what the api computes.
 */
import { ForwardPassModel } from "@gplay/common";
import type * as TfModule from "@tensorflow/tfjs";
import type { Tf } from "../tf/backend.js";

export async function forwardPassOf(tf: Tf, model: TfModule.LayersModel): Promise<ForwardPassModel> {
  let artifacts: TfModule.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (artifacts?.weightData === undefined || artifacts.weightSpecs === undefined)
    throw new Error("the model saved no weights");
  const data = artifacts.weightData;
  const bytes = Array.isArray(data)
    ? Buffer.concat(data.map((b) => new Uint8Array(b)))
    : new Uint8Array(data as ArrayBuffer);
  return ForwardPassModel.load(
    {
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
    },
    bytes,
  );
}
