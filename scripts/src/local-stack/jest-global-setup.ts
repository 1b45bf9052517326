/**
 * Jest global setup for integration projects: reuses the running local stack or starts it (venv on
 * first use, moto, MLflow) and waits for health, then takes a lease so a parallel run's teardown
 * never stops it under us.
 *
 * Jest loads global setup files outside its ESM module system (as CommonJS, without the
 * `@gplay/source` condition), so this file imports node builtins only and drives the stack through
 * its CLI in a child process.
 *
 * Usage, in a workspace's jest.config.js (integration project):
 *   globalSetup: "<rootDir>/../scripts/src/local-stack/jest-global-setup.ts",
 *   globalTeardown: "<rootDir>/../scripts/src/local-stack/jest-global-teardown.ts",
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

interface ProjectConfigLike {
  rootDir?: string;
}

/** What setup tells teardown (same process: jest runs both in its parent). */
export interface LocalStackJestState {
  startedHere: boolean;
  lease: number;
  repoRoot: string;
}
export const JEST_STATE_KEY = "__gplayLocalStack";

function repoRootFrom(start: string): string {
  let dir = resolve(start);
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`local stack: no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
  return dir;
}

/** Runs the stack CLI (`node --conditions=@gplay/source --import tsx cli.ts …`); resolves with its stdout. */
export function runStackCli(repoRoot: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=@gplay/source",
        "--no-warnings",
        "--import",
        "tsx",
        join(repoRoot, "scripts/src/local-stack/cli.ts"),
        ...args,
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(out);
      else
        reject(
          new Error(
            `local stack: \`pnpm stack ${args.join(" ")}\` exited with ${code} (logs in .local/stack/)`,
          ),
        );
    });
  });
}

export default async function globalSetup(
  _globalConfig: unknown,
  projectConfig?: ProjectConfigLike,
): Promise<void> {
  const repoRoot = repoRootFrom(projectConfig?.rootDir ?? process.cwd());
  const lease = process.pid;
  const out = await runStackCli(repoRoot, ["up", "--started-by", "jest", "--lease", String(lease), "--json"]);
  const { startedHere } = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { startedHere?: boolean };
  const state: LocalStackJestState = { startedHere: startedHere === true, lease, repoRoot };
  (globalThis as Record<string, unknown>)[JEST_STATE_KEY] = state;
}
