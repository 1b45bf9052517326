import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAppError } from "@gplay/common";
import { afterAll, describe, expect, it } from "@jest/globals";
import {
  acquireLease,
  ensureLocalStack,
  readLocalStack,
  readStackState,
  releaseLease,
  type StackState,
  stackEnvironment,
  stackHealth,
  stopLocalStack,
} from "../../src/index.js";
import { stackPaths } from "../../src/local-stack/paths.js";
import { processGroupMembers } from "../../src/local-stack/processes.js";

// A second, private stack (own state dir, shared venv) so stopping it never disturbs the stack
// other suites and engineers are using.
const shared = stackPaths();
const stateDir = mkdtempSync(join(tmpdir(), "gplay-stack-"));
const paths = { ...shared, stateDir };

describe("local stack lifecycle", () => {
  afterAll(async () => {
    await stopLocalStack(paths);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("says clearly that no stack runs before one is started", async () => {
    const error = await readLocalStack(paths).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(error, "UPSTREAM_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("pnpm stack up");
  });

  it("starts once for concurrent callers, reuses the healthy stack, and leaves no process after down", async () => {
    // Two callers at once (two test runs starting together): one starts, the other waits and reuses.
    const [a, b] = await Promise.all([
      ensureLocalStack({ paths, startedBy: "jest" }),
      ensureLocalStack({ paths, startedBy: "jest" }),
    ]);
    expect([a.startedHere, b.startedHere].sort()).toEqual([false, true]);
    expect(a.endpoints).toEqual(b.endpoints);
    const first = a;
    const state = await readStackState(paths);
    const pids = [state?.services.moto.pid, state?.services.mlflow.pid].filter(
      (p): p is number => p !== undefined,
    );
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(processGroupMembers(pid).length).toBeGreaterThan(0);

    const second = await ensureLocalStack({ paths });
    expect(second.startedHere).toBe(false);
    expect(second.endpoints).toEqual(first.endpoints);
    expect((await readStackState(paths))?.services.moto.pid).toBe(state?.services.moto.pid);
    expect(await readLocalStack(paths)).toEqual(first.endpoints);

    // MLflow answers through its REST API, and the S3 emulator has its artifact bucket.
    const search = await fetch(`${first.endpoints.mlflowUrl}/api/2.0/mlflow/experiments/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ max_results: 5 }),
    });
    expect(search.status).toBe(200);

    // A test run's lease keeps a jest-started stack alive when another run's teardown releases.
    await acquireLease(process.pid, paths);
    expect(await releaseLease(2 ** 22 + 1, paths)).toBe(false);
    expect((await stackHealth((await readStackState(paths)) as StackState)).mlflow.running).toBe(true);

    await stopLocalStack(paths);
    for (const pid of pids) expect(processGroupMembers(pid)).toEqual([]);
    await expect(readLocalStack(paths)).rejects.toThrow(/not running/);
  }, 180_000);
});

describe("pnpm stack env", () => {
  it("prints the variables of the running stack", async () => {
    const endpoints = await readLocalStack(shared);
    const result = spawnSync(
      process.execPath,
      [
        "--conditions=@gplay/source",
        "--no-warnings",
        "--import",
        "tsx",
        "scripts/src/local-stack/cli.ts",
        "env",
      ],
      { cwd: shared.repoRoot, encoding: "utf8" },
    );
    expect(result.status).toBe(0);
    const printed = Object.fromEntries(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("=") as [string, string]),
    );
    expect(printed).toEqual(stackEnvironment(endpoints));
  }, 30_000);
});
