import {
  decodeInteractionLog,
  encodeInteractionLog,
  type Interaction,
  MAX_LOG_INTERACTIONS,
  type UserItem,
} from "@gplay/common";
import { ownCopy } from "../domain/own-copy.js";
import {
  addWriteReport,
  commitIngestion,
  emptyWriteReport,
  failIngestion,
  finishIngestion,
  type IngestBuilders,
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
  let group: Group = { members: [], readers: new Map() };
  let held = 0;
  /** Commits the objects held so far. */
  const flush = async () => {
    const pending = group;
    group = { members: [], readers: new Map() };
    held = 0;
    if (pending.members.length > 0) for (const result of await commitGroup(deps, pending)) emit(result);
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
        if (group.members.length > 0 && held + size > budget) await flush();
        await join(deps, group, current);
        held += size;
      } else {
        await flush();
        emit(await commitIngestion(deps, current));
      }
    } catch (error) {
      // Nothing held will be committed: close their progress (ending twice is harmless).
      for (const member of [...group.members.map((m) => m.prepared), current])
        if (member.status === "prepared") member.task.end();
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
async function commitGroup(deps: IngestDeps, held: Group): Promise<IngestResult[]> {
  const group = held.members;
  const members = group.map((m) => m.prepared);
  let finished = 0;
  try {
    for (const member of members) member.task.phase("users");
    const last = members[members.length - 1] as PreparedIngestion;
    last.log.info(
      { objects: members.length, readers: held.readers.size },
      "merging the readers of consecutive objects together",
    );
    const users = emptyWriteReport();
    const readers = [...held.readers];
    const step = deps.usersPerCheckpoint ?? 2_000;
    for (let from = 0; from < readers.length; from += step) {
      // Unpacked a batch at a time, so memory holds the packed rows and one batch of merges.
      const merges = new Map<string, UserMerge>();
      for (const [userId, packed] of readers.slice(from, from + step))
        merges.set(
          userId,
          groupMerge(
            deps.builders,
            userId,
            packed.map((p) => ({
              userType: p.userType,
              interactions: decodeInteractionLog(p.log),
              now: p.now,
            })),
          ),
        );
      addWriteReport(users, await deps.features.mergeUsers(merges, (n) => last.task.wrote(n)));
    }
    const sourceIds = members.map((m) => m.sourceId);
    const results: IngestResult[] = [];
    for (const { prepared, lake } of group) {
      results.push(
        await finishIngestion(deps, prepared, lake, prepared === last ? { users } : {}, {
          group: sourceIds,
        }),
      );
      finished += 1;
    }
    return results;
  } catch (error) {
    for (const [index, { prepared, lake }] of group.entries())
      if (index >= finished) await failIngestion(deps, prepared, error, lake);
    throw error;
  }
}

/** One reader's rows in one object of a group. */
export interface ReaderPart {
  userType: "Logged" | "Non-Logged";
  interactions: readonly Interaction[];
  /** When that object's ingestion started (its merge's `updatedAt`). */
  now: Date;
}

/**
 * One reader's merge over the objects of a group: the objects' merges applied in turn (key order),
 * the item the per-object path ends with. While the stored log plus every new row stays under the
 * log's cap nothing is evicted, and the merge is a set union (common's `mergeInteractions`), so one
 * merge of all the rows, with the last object's time and the strongest reader type, gives that same
 * item with one decode and one encode of the log instead of one per object.
 */
export function groupMerge(
  builders: Pick<IngestBuilders, "userMerge">,
  userId: string,
  parts: readonly ReaderPart[],
  cap = MAX_LOG_INTERACTIONS,
): UserMerge {
  const merges = parts.map((p) => builders.userMerge(userId, p.userType, p.interactions, p.now));
  const inTurn: UserMerge = (existing) => {
    let item = existing;
    for (const merge of merges) item = { ...merge(item), version: existing?.version ?? 0 };
    const { version: _version, ...draft } = item as UserItem;
    return draft;
  };
  const last = parts[parts.length - 1];
  if (parts.length < 2 || last === undefined) return inTurn;
  const rows = parts.reduce((n, p) => n + p.interactions.length, 0);
  const once = builders.userMerge(
    userId,
    parts.some((p) => p.userType === "Logged") ? "Logged" : "Non-Logged",
    parts.flatMap((p) => p.interactions),
    last.now,
  );
  return (existing) => ((existing?.interactionCount ?? 0) + rows < cap ? once(existing) : inTurn(existing));
}

/** A treino object held in a group: started, its lake objects on their way. */
interface Member {
  prepared: PreparedIngestion;
  lake: Promise<LakeKeys>;
}

/** The objects held, and each reader's rows from each of them, packed (common's interaction log). */
interface Group {
  members: Member[];
  readers: Map<string, { userType: ReaderPart["userType"]; log: Uint8Array; now: Date }[]>;
}

/**
 * Adds an object to the group being held: its `started` row and its lake objects are written now;
 * its readers' rows are kept packed (40 bytes an interaction, the stored log's layout, which keeps
 * every value the merge reads) and, once the lake objects are written, nothing else of the file
 * stays in memory.
 */
async function join(deps: IngestDeps, group: Group, prepared: PreparedIngestion): Promise<void> {
  await markStarted(deps, prepared);
  const { lake } = await startLakeWrites(deps, prepared);
  const { staged } = prepared;
  for (const [userId, u] of staged.users) {
    const part = { userType: u.userType, log: encodeInteractionLog(u.interactions), now: prepared.startedAt };
    const parts = group.readers.get(userId);
    // A new key is copied: the parser's id is a slice of the file's text, which it would keep alive
    // (the whole file, for as long as the group is held: bench/README.md "## Ingest", peak RSS).
    if (parts === undefined) group.readers.set(ownCopy(userId), [part]);
    else parts.push(part);
  }
  staged.users = new Map();
  group.members.push({ prepared, lake });
  void lake.then(
    () => {
      staged.interactions = [];
      staged.validation = [];
      staged.impressions = [];
      staged.quarantine = [];
      // Written into the reader index entry by now; its strings are slices of the file's text too.
      prepared.readerTokens = new Set();
    },
    () => undefined,
  );
}
