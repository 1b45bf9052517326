import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { sleep } from "../../src/local-stack/processes.js";

// Jest reads `testTimeout` from the root config only: a value inside `projects` is silently ignored and
// every test falls back to 5 s, which a loaded 2-core machine exceeds. Each project therefore sets its
// timeout through a setup file (`setupFilesAfterEnv`), which jest does apply per project.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");

interface ProjectConfig {
  displayName?: string;
  setupFilesAfterEnv?: string[];
  globals?: Record<string, unknown>;
}

async function projectsOf(workspace: string): Promise<ProjectConfig[]> {
  const url = pathToFileURL(join(repoRoot, workspace, "jest.config.js")).href;
  const config = ((await import(url)) as { default: ProjectConfig & { projects?: ProjectConfig[] } }).default;
  return config.projects ?? [config];
}

const workspaces = readdirSync(repoRoot, { withFileTypes: true })
  .filter(
    (entry) => entry.isDirectory() && readdirSync(join(repoRoot, entry.name)).includes("jest.config.js"),
  )
  .map((entry) => entry.name);

describe("test timeouts", () => {
  it("finds every workspace's jest config", () => {
    expect(workspaces).toEqual(
      expect.arrayContaining(["api", "common", "featstore-engine", "infra", "mlflow", "scripts", "training"]),
    );
  });

  it.each(workspaces)(
    "every jest project of %s sets its timeout through a setup file that applies",
    async (ws) => {
      for (const project of await projectsOf(ws)) {
        const setup = project.setupFilesAfterEnv ?? [];
        expect(setup.some((file) => file.endsWith("jest-timeout.cjs"))).toBe(true);
        const ms = project.globals?.GPLAY_TEST_TIMEOUT_MS;
        expect(typeof ms).toBe("number");
        // Sized for a loaded 2-core machine: 30 s for in-process tests, a minute or more on the stack.
        const floor = /integration/.test(project.displayName ?? "") ? 60_000 : 30_000;
        expect(ms as number).toBeGreaterThanOrEqual(floor);
      }
    },
  );

  it("lets a test of this project (run inside jest `projects`) outlive jest's 5 s default", async () => {
    await sleep(5_500);
    expect(true).toBe(true);
  });
});
