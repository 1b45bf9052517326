/**
 * Where moto's S3 → EventBridge events differ from AWS's, and how the local task runner evens that
 * out before applying common's input transformer (so the transformer stays exactly what infra
 * deploys). Observed with moto 5.2.5, moto/s3/notifications.py `_send_event_bridge_message`:
 *  - the object's ETag is `detail.object.eTag`; AWS sends `detail.object.etag`;
 *  - every S3 event carries the same placeholder `id` (moto's `_BASE_EVENT_MESSAGE`); AWS gives each
 *    event a unique id. We use the SQS message id instead, which is unique per delivery;
 *  - `time` is epoch seconds before delivery (moto converts it to ISO 8601 for SQS targets; kept
 *    here in case a number slips through).
 */
export const MOTO_PLACEHOLDER_EVENT_ID = "17793124-05d4-b198-2fde-7ededc63b103";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Returns a copy of `event` shaped as AWS would have sent it; anything else is left as is. */
export function normaliseEmulatorEvent(event: unknown, messageId: string): unknown {
  if (!isObject(event)) return event;
  const out: Json = { ...event };
  if (out.id === MOTO_PLACEHOLDER_EVENT_ID) out.id = messageId;
  if (typeof out.time === "number")
    out.time = new Date(out.time * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const detail = out.detail;
  if (isObject(detail) && isObject(detail.object)) {
    const object = detail.object;
    if (object.etag === undefined && typeof object.eTag === "string") {
      out.detail = { ...detail, object: { ...object, etag: object.eTag } };
    }
  }
  return out;
}
