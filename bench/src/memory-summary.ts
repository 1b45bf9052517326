/**
 * Reading what memory-probe.ts logged: shared by the benchmarks that pass `--memory-log DIR`
 * (ingest-bench.ts, erase-bench.ts).
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./engine-run.js";

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

/** `--import` of memory-probe.ts (after tsx, which loads it), for --memory-log. */
export const PROBE = ["--import", pathToFileURL(path.join(ROOT, "bench", "src", "memory-probe.ts")).href];

/**
 * What a memory log (memory-probe.ts) says: peak RSS, peak heap used, the largest live set (heap used
 * right after a major GC) and the peak of buffers outside the heap.
 */
export async function memorySummary(file: string): Promise<string> {
  const samples = (await readFile(file, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map(
      (l) =>
        JSON.parse(l) as {
          t: number;
          kind: string;
          rssMb: number;
          heapUsedMb: number;
          externalMb: number;
          arrayBuffersMb: number;
        },
    );
  const max = (pick: (x: (typeof samples)[number]) => number, of = samples) =>
    of.reduce((m, x) => Math.max(m, pick(x)), 0);
  const majors = samples.filter((x) => x.kind === "major-gc");
  const live = majors.reduce((m, x) => (x.heapUsedMb > (m?.heapUsedMb ?? -1) ? x : m), majors[0]);
  return (
    `RSS ≤ ${fmt(max((x) => x.rssMb))} MB, heap used ≤ ${fmt(max((x) => x.heapUsedMb))} MB, ` +
    `live set (heap after a major GC) ≤ ${live === undefined ? "n/a" : `${fmt(live.heapUsedMb)} MB (at ${fmt(live.t)} s, RSS then ${fmt(live.rssMb)} MB)`}, ` +
    `external ≤ ${fmt(max((x) => x.externalMb))} MB (array buffers ≤ ${fmt(max((x) => x.arrayBuffersMb))} MB); ` +
    `${majors.length} major GCs; ${file}`
  );
}

/**
 * The `--memory-log DIR` option (relative to the repository's root: pnpm runs the scripts from
 * bench/): the directory, created, and a step's report, printed also when the step failed (an
 * out-of-memory stop is what it explains).
 */
export async function memoryLogOption(option: string | undefined): Promise<{
  dir: string | undefined;
  report(step: string, file: string | undefined): Promise<void>;
}> {
  const dir = option === undefined ? undefined : path.resolve(ROOT, option);
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  return {
    dir,
    report: async (step, file) => {
      if (file !== undefined)
        console.log(
          `${step} memory: ${await memorySummary(file).catch((e: unknown) => `no log (${String(e)})`)}`,
        );
    },
  };
}
