import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AppError, SNAPSHOT_READY, type SnapshotReadyDetail, translateAwsError } from "@gplay/common";
import type { EventPublisher } from "../app/ports.js";

/** Publishes the engine's events on an EventBridge bus (the default bus unless named). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly eventbridge: EventBridgeClient,
    private readonly busName = "default",
  ) {}

  async publishSnapshotReady(detail: SnapshotReadyDetail): Promise<void> {
    let failed: number;
    try {
      const out = await this.eventbridge.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: SNAPSHOT_READY.source,
              DetailType: SNAPSHOT_READY.detailType,
              Detail: JSON.stringify(detail),
              EventBusName: this.busName,
            },
          ],
        }),
      );
      failed = out.FailedEntryCount ?? 0;
    } catch (error) {
      throw translateAwsError(error, `publishing Snapshot Ready ${detail.snapshotId}`, {
        snapshotId: detail.snapshotId,
      });
    }
    if (failed > 0)
      throw new AppError(
        "UPSTREAM_FAILED",
        `EventBridge rejected the Snapshot Ready event ${detail.snapshotId}`,
      );
  }
}
