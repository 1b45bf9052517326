import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { EVENT_ID_TTL_SECONDS, isAppError, type SeenEventItem, translateAwsError } from "@gplay/common";
import type { Clock, SeenEventStore } from "../app/ports.js";

export interface SeenEventsSender {
  send(command: PutCommand | DeleteCommand): Promise<unknown>;
}

/** Claims in flight at once per request (a batch holds at most 500 events). */
const CONCURRENCY = 25;

/**
 * The event-ids table: one conditional put per key claims it (`attribute_not_exists`), so two tasks
 * receiving the same retry claim it once; the TTL forgets ids after `EVENT_ID_TTL_SECONDS`.
 */
export class DynamoSeenEvents implements SeenEventStore {
  constructor(
    private readonly client: SeenEventsSender,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async claim(keys: readonly string[]): Promise<Set<string>> {
    const claimed = new Set<string>();
    const now = this.clock.now();
    await inBatches(keys, async (key) => {
      const item: SeenEventItem = {
        eventKey: key,
        seenAt: new Date(now).toISOString(),
        expiresAt: Math.floor(now / 1000) + EVENT_ID_TTL_SECONDS,
      };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: "attribute_not_exists(eventKey)",
          }),
        );
        claimed.add(key);
      } catch (error) {
        const translated = translateAwsError(error, "Recording a client event id", { table: this.table });
        if (isAppError(translated, "CONFLICT")) return; // seen before
        throw translated;
      }
    });
    return claimed;
  }

  async release(keys: readonly string[]): Promise<void> {
    await inBatches(keys, async (key) => {
      try {
        await this.client.send(new DeleteCommand({ TableName: this.table, Key: { eventKey: key } }));
      } catch (error) {
        throw translateAwsError(error, "Releasing a client event id", { table: this.table });
      }
    });
  }
}

async function inBatches(keys: readonly string[], run: (key: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < keys.length; i += CONCURRENCY)
    await Promise.all(keys.slice(i, i + CONCURRENCY).map(run));
}
