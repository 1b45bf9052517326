/**
 * Finds the Python interpreter that has Keras 3 (pins: scripts/python-requirements.txt) and
 * runs the helper scripts of this folder with it. Used by integration tests and the benchmark.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** This folder (the .py helpers live here). */
export const KERAS_SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (training/test/keras → ../../..). */
export const REPO_ROOT = path.resolve(KERAS_SCRIPTS_DIR, "../../..");

/** The project venv first, then the developer venv used before the project one existed. */
export const KERAS_PYTHON_CANDIDATES = [
  path.join(REPO_ROOT, ".local/venv/bin/python"),
  "/tmp/keras-venv/bin/python",
];

/**
 * The first candidate interpreter that can import Keras. Throws (tests must fail, never skip) with
 * what was found and what to install otherwise. Cached per process.
 */
export async function findKerasPython(): Promise<string> {
  cached ??= (async () => {
    const problems: string[] = [];
    for (const python of KERAS_PYTHON_CANDIDATES) {
      if (!existsSync(python)) {
        problems.push(`${python}: absent`);
        continue;
      }
      try {
        // A real import with the backend the checks use: keras 3.15's numpy backend imports jax
        // (keras/src/backend/numpy/nn.py), so "keras is installed" is not enough.
        await run(python, ["-c", "import keras"], { env: { ...process.env, KERAS_BACKEND: "numpy" } });
        return python;
      } catch (error) {
        const stderr = String((error as { stderr?: string }).stderr ?? "")
          .trim()
          .split("\n")
          .at(-1);
        problems.push(`${python}: cannot import keras (${stderr})`);
      }
    }
    throw new Error(
      `No Python with Keras 3 found (${problems.join("; ")}). Install the pins into the project venv: ` +
        "`pnpm stack up` (it installs scripts/python-requirements.txt into .local/venv).",
    );
  })();
  return cached;
}

let cached: Promise<string> | undefined;

/**
 * Runs `<script> ...args` from this folder with the Keras Python and returns its stdout. A missing
 * Keras shows up as a rejected promise whose message carries the script's stderr (`KERAS_MISSING`).
 */
export async function runKerasScript(
  script: string,
  args: string[],
  options: { kerasBackend: "numpy" | "jax" | "torch" | "tensorflow"; timeoutMs?: number },
): Promise<string> {
  const python = await findKerasPython();
  try {
    const { stdout } = await run(python, [path.join(KERAS_SCRIPTS_DIR, script), ...args], {
      env: { ...process.env, KERAS_BACKEND: options.kerasBackend, TF_CPP_MIN_LOG_LEVEL: "3" },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${python} ${script} failed: ${stderr.trim().split("\n").slice(-5).join("\n")}`, {
      cause: error,
    });
  }
}
