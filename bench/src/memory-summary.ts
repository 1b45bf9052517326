/**
 * Reading what memory-probe.ts logged: shared by the benchmarks that pass `--memory-log DIR`
 * (ingest-bench.ts, erase-bench.ts).
 */
import { readFile } from "node:fs/promises";
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
