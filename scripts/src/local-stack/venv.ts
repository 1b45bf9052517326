import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "@gplay/common";

/** Written inside the venv once pip succeeded; a different hash means "rebuild". */
export const REQUIREMENTS_HASH_FILE = ".gplay-requirements.sha256";

export interface VenvOptions {
  venvDir: string;
  requirementsFile: string;
  /** The interpreter that creates the venv. */
  python?: string;
  /** pip's output goes here (appended). */
  logFile: string;
  log?: (msg: string) => void;
}

export const venvBin = (venvDir: string, tool: string) => join(venvDir, "bin", tool);

/**
 * The installer: pip alone needs ~95 s on an idle machine and over 4 min on the shared, loaded one
 * (mostly byte-compiling); uv installs the same pins in ~1 min under that load. pip is the fallback.
 */
export const UV_REQUIREMENT = "uv==0.13.8";

export async function requirementsHash(requirementsFile: string): Promise<string> {
  const text = await readFile(requirementsFile, "utf8");
  return createHash("sha256").update(text).digest("hex");
}

function run(command: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: "a" });
    out.write(`\n$ ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on("error", (error) => {
      out.end();
      reject(error);
    });
    child.on("close", (code) => {
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code}; see ${logFile}`));
    });
  });
}

/**
 * Makes sure `<venvDir>` holds the pinned Python tools: reused when its stored requirements hash
 * matches, otherwise (re)created with `python3 -m venv` and `uv pip install -r` (pip as fallback). Returns whether it
 * installed. The caller holds the stack lock, so two runs never install at once.
 */
export async function ensureVenv(options: VenvOptions): Promise<{ installed: boolean; seconds: number }> {
  const started = Date.now();
  const hash = await requirementsHash(options.requirementsFile);
  const hashFile = join(options.venvDir, REQUIREMENTS_HASH_FILE);
  const stored = await readFile(hashFile, "utf8").catch(() => "");
  const toolsPresent = await Promise.all(
    ["moto_server", "mlflow"].map((tool) =>
      access(venvBin(options.venvDir, tool)).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (stored.trim() === hash && toolsPresent.every(Boolean)) return { installed: false, seconds: 0 };

  options.log?.(
    `Creating the Python venv at ${options.venvDir} (moto and MLflow from PyPI; the longest step of a first run)…`,
  );
  // A line every 15 s: the install is silent otherwise, and a first run spends minutes here.
  let phase = "creating the venv";
  const progress = setInterval(
    () =>
      options.log?.(
        `… Python tools: ${phase} (${Math.round((Date.now() - started) / 1000)} s so far; log: ${options.logFile})`,
      ),
    15_000,
  );
  try {
    await rm(options.venvDir, { recursive: true, force: true });
    await run(options.python ?? "python3", ["-m", "venv", options.venvDir], options.logFile);
    const pip = venvBin(options.venvDir, "pip");
    const pipArgs = ["install", "--disable-pip-version-check", "--no-input"];
    try {
      phase = "installing uv";
      await run(pip, [...pipArgs, UV_REQUIREMENT], options.logFile);
      phase = "installing moto, MLflow and their dependencies (uv)";
      await run(
        venvBin(options.venvDir, "uv"),
        [
          "pip",
          "install",
          "--python",
          venvBin(options.venvDir, "python"),
          "--compile-bytecode",
          "-r",
          options.requirementsFile,
        ],
        options.logFile,
      );
    } catch (error) {
      options.log?.(
        `uv failed (${error instanceof Error ? error.message : String(error)}); falling back to pip.`,
      );
      phase = "installing moto, MLflow and their dependencies (pip)";
      await run(pip, [...pipArgs, "-r", options.requirementsFile], options.logFile);
    }
  } catch (error) {
    throw new AppError(
      "UPSTREAM_FAILED",
      `Could not build the Python venv (python3 -m venv + pip install): see ${options.logFile}. ` +
        "Check that python3 (with the venv module) is installed and PyPI is reachable.",
      { cause: error, details: { venvDir: options.venvDir } },
    );
  } finally {
    clearInterval(progress);
  }
  await writeFile(hashFile, `${hash}\n`);
  const seconds = (Date.now() - started) / 1000;
  options.log?.(`Python venv ready in ${seconds.toFixed(1)} s.`);
  return { installed: true, seconds };
}
