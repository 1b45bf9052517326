/**
 * A baseline source tree for side-by-side benchmarks: the sources of a git ref extracted under
 * `.local/bench-baseline/<commit>/`, with this checkout's installed dependencies linked in (each
 * workspace's `node_modules` holds relative links, so `@gplay/*` resolve inside the baseline tree and
 * third-party packages through its `node_modules` link to this checkout's). Built once per commit.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The tree of `ref` (any git revision) beside the checkout at `root`; returns its directory. */
export function baselineTree(root: string, ref: string): { dir: string; commit: string } {
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const dir = path.join(root, ".local", "bench-baseline", commit);
  if (existsSync(path.join(dir, ".complete"))) return { dir, commit };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync("git", ["archive", "--format=tar", commit], { cwd: root, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const modules = path.join(root, entry.name, "node_modules");
    if (entry.isDirectory() && existsSync(modules))
      cpSync(modules, path.join(dir, entry.name, "node_modules"), {
        recursive: true,
        verbatimSymlinks: true,
      });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  writeFileSync(path.join(dir, ".complete"), `${commit}\n`);
  return { dir, commit };
}
