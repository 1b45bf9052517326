/**
 * Jest global teardown: drops this run's lease. The stack stops only if a jest setup started it
 * and no other live run holds a lease; a stack started with `pnpm stack up` is never stopped here.
 * Node builtins only, and no relative imports: jest loads this file outside its module mapper
 * (see jest-global-setup.ts).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

interface LocalStackJestState {
  startedHere: boolean;
  lease: number;
  repoRoot: string;
}

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__gplayLocalStack as LocalStackJestState | undefined;
  if (state === undefined) return;
  const result = spawnSync(
    process.execPath,
    [
      "--conditions=@gplay/source",
      "--no-warnings",
      "--import",
      "tsx",
      join(state.repoRoot, "scripts/src/local-stack/cli.ts"),
      "release",
      "--lease",
      String(state.lease),
    ],
    { cwd: state.repoRoot, stdio: ["ignore", "ignore", "inherit"] },
  );
  if (result.status !== 0) throw new Error(`local stack: releasing the lease failed (exit ${result.status})`);
}
