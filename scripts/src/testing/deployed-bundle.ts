import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { stackPaths } from "../local-stack/paths.js";

/**
 * Builds and deploys a service's production bundle with scripts/ci/deploy-bundle.sh — the exact step
 * its Dockerfile runs — into `dir`, for tests that run the entrypoint the way the container does.
 * `withTfjsNode` adds the native TensorFlow addon as the training image does (`--with-tfjs-node`).
 */
export async function deployBundle(
  workspace: string,
  dir: string,
  options: { withTfjsNode?: boolean } = {},
): Promise<void> {
  const args = [join("scripts", "ci", "deploy-bundle.sh"), workspace, dir];
  if (options.withTfjsNode) args.push("--with-tfjs-node");
  await promisify(execFile)("bash", args, {
    cwd: stackPaths().repoRoot,
    maxBuffer: 16 << 20,
  });
}

export interface EntrypointRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js` in a deployed bundle with only the task's environment (plus PATH), as ECS would. */
export function runDeployedEntrypoint(bundle: string, env: Record<string, string>): Promise<EntrypointRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: bundle,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
