/**
 * Loaded into a measured child with `--import` (ingest-bench.ts --memory-log): appends the process's
 * memory as JSON lines to the file named by GPLAY_BENCH_MEMORY_LOG, once a second and after every
 * major GC. The heap used right after a major GC is the live set (what the process really holds);
 * the RSS above it is the collector's headroom, external buffers and V8's own spaces. Nothing of the
 * engine is changed: the probe only reads `process.memoryUsage()` and observes GC entries.
 */
import { appendFileSync } from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";

const file = process.env.GPLAY_BENCH_MEMORY_LOG;
if (file !== undefined && file !== "") {
  const started = performance.now();
  const mb = (bytes: number) => Math.round(bytes / 1_048_576);
  const sample = (kind: "tick" | "major-gc") => {
    const m = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({
        t: Math.round(performance.now() - started) / 1000,
        kind,
        rssMb: mb(m.rss),
        heapUsedMb: mb(m.heapUsed),
        heapTotalMb: mb(m.heapTotal),
        externalMb: mb(m.external),
        arrayBuffersMb: mb(m.arrayBuffers),
      })}\n`,
    );
  };
  setInterval(() => sample("tick"), 1000).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) sample("major-gc");
    }
  }).observe({ entryTypes: ["gc"] });
}
