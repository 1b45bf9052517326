import {
  addWriteReport,
  commitIngestion,
  emptyWriteReport,
  failIngestion,
  finishIngestion,
  type IngestDeps,
  type IngestResult,
  type LakeKeys,
  markStarted,
  type PreparedIngestion,
  prepareIngestion,
  type SourceObject,
  type SourceReader,
  startLakeWrites,
} from "./ingest-file.js";
import type { UserMerge } from "./ports.js";

/**
 * Ingests objects in the given order, overlapping the validation of the next object with the writes
 * of the current one (each object is still fully validated before any of its writes, and results
 * come in order). Stops at the first failure, after committing the objects before it.
 *
 * With `deps.groupInteractions` > 0, consecutive treino objects are committed together, up to that
 * many interactions held in memory (`commitGroup`): a reader named by several of them is read once
 * and written once instead of once per file, which is most of the engine's CPU and of DynamoDB's
 * write units in a backfill (docs/cost.md). Every object keeps its own markers, partition,
 * quarantine and report.
 */
export async function ingestFiles(
  deps: IngestDeps,
  sources: readonly SourceObject[],
  reader: SourceReader = deps.objects,
  onResult?: (result: IngestResult) => void,
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  const budget = deps.groupInteractions ?? 0;
  const emit = (result: IngestResult) => {
    results.push(result);
    onResult?.(result);
  };
  let group: PreparedIngestion[] = [];
  let held = 0;
  /** Commits the objects held so far (one alone takes the per-object path, with its resume points). */
  const flush = async () => {
    const members = group;
    group = [];
    held = 0;
    const [only] = members;
    if (members.length === 1 && only !== undefined) emit(await commitIngestion(deps, only));
    else if (members.length > 1) for (const result of await commitGroup(deps, members)) emit(result);
  };
  let next: Promise<PreparedIngestion | IngestResult> | undefined =
    sources[0] === undefined ? undefined : prepareIngestion(deps, sources[0], reader);
  for (let i = 0; next !== undefined; i++) {
    let current: PreparedIngestion | IngestResult;
    try {
      current = await next;
    } catch (error) {
      // This object is unusable (its refusal is recorded): the objects before it still commit.
      await flush();
      throw error;
    }
    const following = sources[i + 1];
    next = following === undefined ? undefined : prepareIngestion(deps, following, reader);
    // If a commit fails, the prepared next object is dropped; keep its rejection handled.
    next?.catch(() => undefined);
    try {
      if (current.status !== "prepared") {
        await flush();
        emit(current);
      } else if (budget > 0 && current.staged.kind === "treino" && current.staged.users.size > 0) {
        const size = current.staged.interactions.length;
        if (group.length > 0 && held + size > budget) await flush();
        group.push(current);
        held += size;
      } else {
        await flush();
        emit(await commitIngestion(deps, current));
      }
    } catch (error) {
      // Nothing held will be committed: close their progress (ending twice is harmless).
      for (const member of [...group, current]) if (member.status === "prepared") member.task.end();
      if (next !== undefined)
        await next.then(
          (p) => (p.status === "prepared" ? p.task.end() : undefined),
          () => undefined,
        );
      throw error;
    }
  }
  await flush();
  return results;
}

/**
 * Commits consecutive treino objects together. Each keeps its own `started` and `succeeded` rows,
 * partition, quarantine and report; the readers they name are merged once: each reader's merge is
 * the files' merges applied in key order to the stored item (the item the per-object path ends
 * with, `version` and `updatedAt` aside), then read and written with one conditional write, as
 * `mergeUsers` always does (a concurrent writer makes that reader re-read and retried).
 *
 * A crash leaves the members `started` (and their lake objects possibly written, keyed by version):
 * a re-run re-merges their readers, which is idempotent (a reader that already holds the rows is read
 * and not written), so it converges to the same state without duplicates.
 */
async function commitGroup(deps: IngestDeps, members: readonly PreparedIngestion[]): Promise<IngestResult[]> {
  const lakes: Promise<LakeKeys>[] = [];
  for (const member of members) {
    await markStarted(deps, member);
    lakes.push((await startLakeWrites(deps, member)).lake);
  }
  let finished = 0;
  try {
    const merges = new Map<string, UserMerge>();
    for (const member of members) {
      member.task.phase("users");
      for (const [userId, u] of member.staged.users) {
        const merge = deps.builders.userMerge(userId, u.userType, u.interactions, member.startedAt);
        const before = merges.get(userId);
        merges.set(
          userId,
          before === undefined
            ? merge
            : (existing) => merge({ ...before(existing), version: existing?.version ?? 0 }),
        );
      }
    }
    const last = members[members.length - 1] as PreparedIngestion;
    last.log.info(
      { objects: members.length, readers: merges.size },
      "merging the readers of consecutive objects together",
    );
    const users = emptyWriteReport();
    const readers = [...merges];
    const step = deps.usersPerCheckpoint ?? 2_000;
    for (let from = 0; from < readers.length; from += step)
      addWriteReport(
        users,
        await deps.features.mergeUsers(new Map(readers.slice(from, from + step)), (n) => last.task.wrote(n)),
      );
    const group = members.map((m) => m.sourceId);
    const results: IngestResult[] = [];
    for (const [index, member] of members.entries()) {
      const lake = lakes[index] as Promise<LakeKeys>;
      results.push(await finishIngestion(deps, member, lake, member === last ? { users } : {}, { group }));
      finished += 1;
    }
    return results;
  } catch (error) {
    for (const [index, member] of members.entries())
      if (index >= finished) await failIngestion(deps, member, error, lakes[index]);
    throw error;
  }
}
