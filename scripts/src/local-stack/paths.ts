import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the local stack keeps everything: all under `<repo>/.local` (git-ignored). */
export interface StackPaths {
  repoRoot: string;
  /** `<repo>/.local/stack`: stack.json, stack.env, logs, the lock, leases, MLflow's SQLite file. */
  stateDir: string;
  /** `<repo>/.local/venv`: moto and MLflow. */
  venvDir: string;
  requirementsFile: string;
  mlflowEntrypoint: string;
  /** moto's server without its record of every model ever made (the file says why). */
  motoServer: string;
}

/** Walks up from `start` to the directory holding pnpm-workspace.yaml. */
export function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

/** The default paths, derived from this file's location (scripts/src/local-stack/). */
export function stackPaths(repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)))): StackPaths {
  return {
    repoRoot,
    stateDir: join(repoRoot, ".local", "stack"),
    venvDir: join(repoRoot, ".local", "venv"),
    requirementsFile: join(repoRoot, "scripts", "python-requirements.txt"),
    mlflowEntrypoint: join(repoRoot, "mlflow", "server", "entrypoint.sh"),
    motoServer: join(repoRoot, "scripts", "src", "local-stack", "moto_server.py"),
  };
}
