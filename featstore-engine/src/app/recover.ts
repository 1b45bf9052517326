import { isAppError } from "@gplay/common";
import { type IngestDeps, type IngestResult, ingestFile } from "./ingest-file.js";
import type { IngestionList } from "./ports.js";

export interface RecoverOptions {
  /** An ingestion `started` longer ago than this belongs to a task that is gone (tasks stop at it). */
  timeLimitMs: number;
  /** Attempts of one object version; past them the ingestion is marked failed instead. */
  maxAttempts: number;
}

export interface RecoverResult {
  /** Stale ingestions found (`started` past the limit). */
  stale: number;
  /** Re-run to completion. */
  recovered: IngestResult[];
  /** Marked failed: out of attempts, or the object changed or disappeared since. */
  gaveUp: string[];
  /** Re-runs that failed again (still `started` or `failed`; the next run tries again). */
  failed: { sourceId: string; error: string }[];
}

/**
 * Finds ingestions still `started` past the time limit — their task was killed or stopped at the limit
 * — and re-runs each, in order of start, at most `maxAttempts` attempts per object version in all. A
 * re-run resumes after the readers already committed. Emits IngestionRecoveries per re-run and
 * IngestionRecoveryGaveUp per ingestion given up. Never throws for one ingestion: it goes on with the next.
 */
export async function recoverIngestions(
  deps: IngestDeps & { ingestions: IngestionList },
  options: RecoverOptions,
): Promise<RecoverResult> {
  const now = (deps.now ?? (() => new Date()))();
  const cutoff = now.getTime() - options.timeLimitMs;
  const stale = (await deps.ingestions.listIngestions("started"))
    .filter((row) => Date.parse(row.startedAt) < cutoff)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const result: RecoverResult = { stale: stale.length, recovered: [], gaveUp: [], failed: [] };
  for (const row of stale) {
    const log = deps.logger.child({ sourceId: row.sourceId, key: row.key, attempts: row.attempts });
    const giveUp = async (reason: string) => {
      await deps.features.putIngestion({
        ...row,
        status: "failed",
        error: reason,
        finishedAt: now.toISOString(),
      });
      deps.metrics.emit({ ingestRecoveryGaveUp: 1 });
      log.error({ event: "ingestion-given-up", reason }, "ingestion given up");
      result.gaveUp.push(row.sourceId);
    };
    try {
      if (row.attempts >= options.maxAttempts) {
        await giveUp(`still started after ${row.attempts} attempts (the limit is ${options.maxAttempts})`);
        continue;
      }
      const head = await deps.objects.head(row.bucket, row.key).catch((error: unknown) => {
        if (isAppError(error, "NOT_FOUND")) return undefined;
        throw error;
      });
      if (head?.etag !== row.etag) {
        await giveUp("the object was overwritten or deleted since; its new version has its own ingestion");
        continue;
      }
      deps.metrics.emit({ ingestRecoveries: 1 });
      log.warn({ event: "ingestion-recovering" }, "re-running an ingestion its task did not finish");
      result.recovered.push(await ingestFile(deps, { bucket: row.bucket, key: row.key }));
    } catch (error) {
      log.error({ err: error }, "recovering the ingestion failed; the next run tries again");
      result.failed.push({
        sourceId: row.sourceId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}
