import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";

const ENGINE = join(import.meta.dirname, "../..");

/** Runs the task entry point (src/main.ts) as ECS would, with the given environment. */
function runTask(env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@gplay/source", "--import", "tsx", "src/main.ts"], {
      cwd: ENGINE,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout }));
  });
}

/** EMF documents among the JSON lines of stdout. */
function metricDocuments(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((d) => d._aws !== undefined);
}

describe("the task entry point", () => {
  it("emits IngestionFailures and exits 1 when the task fails", async () => {
    // No source object in the environment: the task fails before touching AWS.
    const { code, stdout } = await runTask({
      GPLAY_PREFIX: "gplay-test",
      GPLAY_ENVIRONMENT: "unit",
      AWS_REGION: "us-east-1",
      GPLAY_AWS_ENDPOINT: "http://127.0.0.1:9",
      LOG_LEVEL: "error",
    });
    expect(code).toBe(1);
    const failures = metricDocuments(stdout).filter((d) => d.IngestionFailures !== undefined);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      IngestionFailures: 1,
      Service: "featstore-engine",
      Environment: "unit",
    });
    expect(stdout).toContain('"code":"CONFIG_INVALID"');
  }, 60_000);

  it("still counts the failure when the configuration itself is invalid", async () => {
    const { code, stdout } = await runTask({ GPLAY_PREFIX: "Not A Prefix", LOG_LEVEL: "error" });
    expect(code).toBe(1);
    expect(metricDocuments(stdout).map((d) => d.IngestionFailures)).toEqual([1]);
  }, 60_000);
});
