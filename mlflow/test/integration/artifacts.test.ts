import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Cleanup, newClient, uniqueName } from "./support/mlflow.js";

const client = newClient();
const cleanup = new Cleanup(client);
let dir: string;
let experimentId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gplay-mlflow-artifacts-"));
  experimentId = cleanup.experiment(await client.createExperiment(uniqueName("artifacts")));
});
afterAll(async () => {
  await cleanup.run();
  await rm(dir, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

describe("artifacts through the server's proxy", () => {
  it("uploads a folder, lists it level by level and downloads it back identical", async () => {
    const run = await client.createRun({ experimentId });
    const src = join(dir, "model-src");
    await mkdir(join(src, "data"), { recursive: true });
    await writeFile(join(src, "MLmodel"), "flavors:\n  tfjs: {}\n");
    await writeFile(join(src, "data", "weights 1.bin"), randomBytes(4096));

    const uploaded = await client.uploadArtifacts(run.info.run_id, src, "model");
    expect(uploaded).toEqual(["model/MLmodel", "model/data/weights 1.bin"]);

    expect(await client.listArtifacts(run.info.run_id)).toEqual([{ path: "model", is_dir: true }]);
    const level = await client.listArtifacts(run.info.run_id, "model");
    expect(level).toEqual([
      { path: "model/MLmodel", is_dir: false, file_size: 20 },
      { path: "model/data", is_dir: true },
    ]);

    const out = join(dir, "model-out");
    const files = await client.downloadArtifacts(run.info.run_id, "model", out);
    expect(files).toEqual(["MLmodel", "data/weights 1.bin"]);
    expect(await readFile(join(out, "data", "weights 1.bin"))).toEqual(
      await readFile(join(src, "data", "weights 1.bin")),
    );
  });

  it("streams a 50 MB artifact up and down intact (sha256 compared)", async () => {
    const run = await client.createRun({ experimentId });
    const big = join(dir, "big.bin");
    // Written in 1 MB random chunks: the test itself never holds 50 MB either.
    const out = createWriteStream(big);
    for (let i = 0; i < 50; i++) {
      if (!out.write(randomBytes(1024 * 1024)))
        await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );

    const heapBefore = process.memoryUsage().rss;
    const path = await client.uploadArtifact(run.info.run_id, big, { artifactDir: "blobs" });
    expect(path).toBe("blobs/big.bin");
    const listed = await client.listArtifacts(run.info.run_id, "blobs");
    expect(listed).toEqual([{ path: "blobs/big.bin", is_dir: false, file_size: 50 * 1024 * 1024 }]);

    const back = join(dir, "big-back.bin");
    await client.downloadArtifact(run.info.run_id, "blobs/big.bin", back);
    const rssGrowth = process.memoryUsage().rss - heapBefore;
    expect((await stat(back)).size).toBe(50 * 1024 * 1024);
    expect(await sha256(back)).toBe(await sha256(big));
    // Streaming: the process did not grow by anything like the file's size twice over.
    expect(rssGrowth).toBeLessThan(80 * 1024 * 1024);
  }, 180_000);

  it("reports a missing artifact as NOT_FOUND and leaves no partial file", async () => {
    const run = await client.createRun({ experimentId });
    const target = join(dir, "missing.bin");
    // 404 RESOURCE_DOES_NOT_EXIST from a local destination, 500 naming S3's 404 from the stack's bucket.
    const error = await client
      .downloadArtifact(run.info.run_id, "nope/missing.bin", target)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    expect((error as { details: { attempts?: number } }).details.attempts).toBeUndefined();
    await expect(stat(target)).rejects.toThrow();
    await expect(stat(`${target}.partial`)).rejects.toThrow();
  });

  it("refuses a local path that is not a file", async () => {
    const run = await client.createRun({ experimentId });
    await expect(client.uploadArtifact(run.info.run_id, dir)).rejects.toMatchObject({
      code: "UNSUPPORTED_INPUT",
    });
  });
});
