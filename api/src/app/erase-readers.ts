import { randomUUID } from "node:crypto";
import { type ErasureLedgerItem, type ErasureResponse, erasureHash, type Logger } from "@gplay/common";
import type { Clock } from "./ports.js";

/** The erasure ledger and the reader-keyed tables, as the api writes them. */
export interface ErasureStores {
  /** Adds ledger entries for hashes not in it yet (an existing entry keeps its time). */
  addLedgerEntries(entries: readonly ErasureLedgerItem[]): Promise<void>;
  /** Which of these readers have an item in the users table. */
  existingUsers(userIds: readonly string[]): Promise<Set<string>>;
  deleteUsers(userIds: readonly string[]): Promise<number>;
  /** Deletes the readers' client event ids (keys `<userId>#…`); returns how many. */
  deleteEventIds(userIds: readonly string[]): Promise<number>;
}

/** This task's click buffer (or its impression log's: rows naming readers wait there too). */
export interface ClickBuffer {
  /** Whether clicks of the reader wait in the buffer. */
  holds(userId: string): boolean;
  /** Drops the readers' buffered clicks; returns how many. */
  dropReaders(userIds: ReadonlySet<string>): number;
}

/**
 * The api's part of an erasure (`POST /admin/erasures`): enters the known readers in the ledger, then
 * removes them from the users table, the event-ids table and this task's click buffer. Other tasks
 * drop their buffered clicks at their next flush (they look the buffer's readers up in the ledger),
 * and the engine's `erase` task rewrites the lake for every `requested` entry (docs/privacy.md).
 * Readers no store knows are reported and nothing is written for them.
 */
export class ReaderEraser {
  constructor(
    private readonly deps: {
      stores: ErasureStores;
      buffer: ClickBuffer;
      /** This task's impression log, whose rows name readers too. */
      impressions?: ClickBuffer;
      clock: Clock;
      logger?: Logger;
    },
  ) {}

  async erase(userIds: readonly string[]): Promise<ErasureResponse> {
    const ids = [...new Set(userIds)];
    const users = await this.deps.stores.existingUsers(ids);
    const known = ids.filter(
      (id) => users.has(id) || this.deps.buffer.holds(id) || (this.deps.impressions?.holds(id) ?? false),
    );
    const unknown = ids.filter((id) => !known.includes(id));
    const requestId = `api-${randomUUID()}`;
    const at = new Date(this.deps.clock.now()).toISOString();
    // The ledger first: a failure after it leaves a `requested` entry the engine finishes.
    await this.deps.stores.addLedgerEntries(
      known.map((id) => ({
        userHash: erasureHash(id),
        erasedAt: at,
        status: "requested",
        requestId,
        updatedAt: at,
      })),
    );
    const bufferedClicks = this.deps.buffer.dropReaders(new Set(known));
    const bufferedImpressionRows = this.deps.impressions?.dropReaders(new Set(known)) ?? 0;
    const removedUsers = await this.deps.stores.deleteUsers(known.filter((id) => users.has(id)));
    const eventIds = await this.deps.stores.deleteEventIds(known);
    this.deps.logger?.info(
      { event: "erasure-requested", requestId, readers: known.length, unknown: unknown.length },
      "readers entered in the erasure ledger",
    );
    return {
      requestId,
      requested: known.length,
      unknown,
      removed: { users: removedUsers, eventIds, bufferedClicks, bufferedImpressionRows },
    };
  }
}
