import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ingestionItemSchema } from "@gplay/common";
import { stackEnvironment } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestEnvironment, generate, type TestEnvironment, tempDir } from "./support.js";

const REPO_ROOT = join(import.meta.dirname, "../../..");

function runEntrypoint(
  bundle: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    // The container's command, with only what the task definition and overrides give it.
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: bundle,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stderr, stdout }));
  });
}

describe("the deployed featstore-engine bundle, run as the container runs it", () => {
  let bundle: string;
  let t: TestEnvironment;

  beforeAll(async () => {
    bundle = join(tempDir("engine-bundle"), "app");
    await promisify(execFile)("bash", ["scripts/ci/deploy-bundle.sh", "featstore-engine", bundle], {
      cwd: REPO_ROOT,
    });
    t = await createTestEnvironment("bundle");
  }, 300_000);
  afterAll(async () => t?.destroy(), 60_000);

  it("ingests the object named by the container overrides and exits 0", async () => {
    const data = generate({ users: 40, seed: "bundle", days: 1 });
    const [path, body] = [...data.files].find(([p]) => p.startsWith("treino/")) as [string, string];
    await t.putRaw(`raw/${path}`, body);
    const result = await runEntrypoint(bundle, {
      ...stackEnvironment(t.endpoints),
      GPLAY_PREFIX: t.env.prefix,
      GPLAY_SOURCE_BUCKET: t.env.buckets.raw,
      GPLAY_SOURCE_KEY: `raw/${path}`,
      GPLAY_SNAPSHOT_AFTER_INGEST: "true",
    });
    // Exit code with stderr, so a failure shows why (Node 20 prints an AWS SDK support warning there).
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringMatching(/Error/),
    });
    const [marker] = (await t.scanTable("ingestions")).map((m) => ingestionItemSchema.parse(m));
    expect(marker?.status).toBe("succeeded");
    expect(marker?.counts?.rowsAccepted).toBe(data.expected.files.find((f) => f.path === path)?.rowsAccepted);
    // The EMF metrics of the run are on stdout, as the awslogs driver would read them.
    expect(result.stdout).toContain('"Namespace":"GPlayRecommend"');
    expect((await t.scanTable("coldstart")).length).toBeGreaterThan(0);
  }, 120_000);

  it("fails with exit 1 and one message naming every bad variable", async () => {
    const result = await runEntrypoint(bundle, { GPLAY_PREFIX: "X", GPLAY_AWS_ENDPOINT: "nope" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("Invalid configuration");
    expect(result.stdout).toContain("GPLAY_PREFIX");
    expect(result.stdout).toContain("GPLAY_AWS_ENDPOINT");
  }, 60_000);
});
