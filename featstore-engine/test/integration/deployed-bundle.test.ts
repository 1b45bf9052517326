import { join } from "node:path";
import { ingestionItemSchema } from "@gplay/common";
import { deployBundle, runDeployedEntrypoint, stackEnvironment } from "@gplay/scripts";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestEnvironment, generate, type TestEnvironment, tempDir } from "./support.js";

describe("the deployed featstore-engine bundle, run as the container runs it", () => {
  let bundle: string;
  let t: TestEnvironment;

  beforeAll(async () => {
    bundle = join(tempDir("engine-bundle"), "app");
    await deployBundle("featstore-engine", bundle);
    t = await createTestEnvironment("bundle");
  }, 300_000);
  afterAll(async () => t?.destroy(), 60_000);

  it("ingests the object named by the container overrides and exits 0", async () => {
    const data = generate({ users: 40, seed: "bundle", days: 1 });
    const [path, body] = [...data.files].find(([p]) => p.startsWith("treino/")) as [string, string];
    await t.putRaw(`raw/${path}`, body);
    const result = await runDeployedEntrypoint(bundle, {
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
    const result = await runDeployedEntrypoint(bundle, { GPLAY_PREFIX: "X", GPLAY_AWS_ENDPOINT: "nope" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("Invalid configuration");
    expect(result.stdout).toContain("GPLAY_PREFIX");
    expect(result.stdout).toContain("GPLAY_AWS_ENDPOINT");
  }, 60_000);
});
