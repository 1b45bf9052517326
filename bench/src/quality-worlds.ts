/**
 * The quality bench's worlds: their seeds, derived from the commit being measured so no one picks them,
 * and each world's training data, its G1 files run through the featstore-engine's real ingestion and
 * snapshot use cases in memory. Shared by `training-quality.ts` and `validacao-reach-cli.ts`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Imports a module of the repository by its path from the root (the bench stays out of the workspaces' graph). */
export const loadRepoModule = async (rel: string) => import(pathToFileURL(path.join(repoRoot, rel)).href);

/** The command-line options that choose the quality worlds (`parseArgs` options; `--seeds` wins over `--worlds`). */
export const WORLD_OPTIONS = {
  worlds: { type: "string", default: "6" },
  users: { type: "string", default: "20000" },
  days: { type: "string", default: "7" },
  seeds: { type: "string" },
} as const;

/** `world-<sha256(commit:i)>` for i < count, from the checked-out commit; `explicit` wins when given. */
export function worldSeeds(count: number, explicit?: string): string[] {
  if (explicit !== undefined) return explicit.split(",");
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
  return Array.from(
    { length: count },
    (_, i) => `world-${createHash("sha256").update(`${commit}:${i}`).digest("hex").slice(0, 12)}`,
  );
}

/** What the bench reads of training's data (the whole object goes to training as it is). */
export interface WorldData {
  asOf: number;
  readers: Map<string, { log: { page: string }[] }>;
  articles: Map<string, { issued: number }>;
  events: unknown[];
  validation: Map<string, { page: string; timestamp: number }[]>;
}

export interface GeneratedWorld {
  /** The snapshot the in-memory pipeline wrote (manifest, snapshots, vectors). */
  snap: {
    snapshots: unknown;
    vectors: unknown;
    manifest: { snapshotId: string; digest: string };
    manifestKey: string;
  };
  /** Training's data from that snapshot. */
  data: WorldData;
  /** The world's drawn hidden parameters. */
  params: Record<string, number>;
}

/**
 * Generates one world and runs it through the pipeline in memory; `onHidden` is told the generator's
 * hidden state (featstore-engine's `HiddenStateListener`: it draws nothing, the world is the same).
 */
export async function generatedWorld(
  seed: string,
  size: { users: number; days: number },
  fixedParams?: Record<string, number>,
  onHidden?: unknown,
): Promise<GeneratedWorld> {
  const { loadTrainingData } = await loadRepoModule("training/src/app/load-data.ts");
  const { inMemorySnapshot } = await loadRepoModule("training/test/support/in-memory-pipeline.ts");
  const { generateWorld } = await loadRepoModule("featstore-engine/src/generator/worlds.ts");
  let params: Record<string, number> = {};
  const snap = await inMemorySnapshot({ ...size, seed }, (sink: unknown) => {
    const out = generateWorld(
      {
        ...size,
        seed,
        ...(fixedParams === undefined ? {} : { params: fixedParams }),
        ...(onHidden === undefined ? {} : { onHidden }),
      },
      sink,
    );
    params = out.params;
    return out;
  });
  const data = await loadTrainingData(snap.snapshots, snap.vectors, snap.manifest);
  return { snap, data, params };
}
