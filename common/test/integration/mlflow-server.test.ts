// The local stack's test support lives in @gplay/scripts, which depends on common: imported by path
// so common does not depend on it back (no workspace cycle).

import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  LOCAL_STACK_PREFIX,
  type LocalStackEndpoints,
  localAwsClients,
  readLocalStack,
  uniquePrefix,
} from "../../../scripts/src/index.js";
import { type AwsClients, lakeBucketNames, MLFLOW_ARTIFACTS_PREFIX } from "../../src/index.js";

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, {
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${response.status} ${text}`);
  return (text.length > 0 ? JSON.parse(text) : {}) as T;
}

describe("the local MLflow server", () => {
  let endpoints: LocalStackEndpoints;
  let clients: AwsClients;
  const experimentIds: string[] = [];

  beforeAll(async () => {
    endpoints = await readLocalStack();
    clients = localAwsClients(endpoints);
  });

  afterAll(async () => {
    for (const id of experimentIds) {
      await call(`${endpoints.mlflowUrl}/api/2.0/mlflow/experiments/delete`, {
        method: "POST",
        body: JSON.stringify({ experiment_id: id }),
      });
    }
    clients.destroy();
  });

  it("creates an experiment through the REST API and reads it back by id and by name", async () => {
    const name = uniquePrefix("common-exp");
    const created = await call<{ experiment_id: string }>(
      `${endpoints.mlflowUrl}/api/2.0/mlflow/experiments/create`,
      {
        method: "POST",
        body: JSON.stringify({ name, tags: [{ key: "team", value: "gplay" }] }),
      },
    );
    experimentIds.push(created.experiment_id);

    const byId = await call<{
      experiment: { name: string; lifecycle_stage: string; artifact_location: string };
    }>(`${endpoints.mlflowUrl}/api/2.0/mlflow/experiments/get?experiment_id=${created.experiment_id}`);
    expect(byId.experiment.name).toBe(name);
    expect(byId.experiment.lifecycle_stage).toBe("active");
    // Proxied artifacts: clients see mlflow-artifacts:/, the server writes to the models bucket.
    expect(byId.experiment.artifact_location).toMatch(/^mlflow-artifacts:\//);

    const byName = await call<{ experiment: { experiment_id: string } }>(
      `${endpoints.mlflowUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
    );
    expect(byName.experiment.experiment_id).toBe(created.experiment_id);
  });

  it("stores a proxied artifact in the emulator's models bucket under mlflow/", async () => {
    const path = `${uniquePrefix("common-art")}/model/MLmodel`;
    const upload = await fetch(`${endpoints.mlflowUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: "PUT",
      body: "artifact_path: model\n",
    });
    expect(upload.status).toBe(200);

    const stored = await clients.s3.send(
      new GetObjectCommand({
        Bucket: lakeBucketNames(LOCAL_STACK_PREFIX).models,
        Key: `${MLFLOW_ARTIFACTS_PREFIX}${path}`,
      }),
    );
    expect(await stored.Body?.transformToString()).toBe("artifact_path: model\n");

    const download = await fetch(`${endpoints.mlflowUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`);
    expect(await download.text()).toBe("artifact_path: model\n");
  });
});
