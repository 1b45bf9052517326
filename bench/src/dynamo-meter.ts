/**
 * Counts the DynamoDB requests that pass through the keep-alive front (keep-alive-front.ts) and the
 * capacity units DynamoDB on-demand would bill for them, from the real request and response bodies:
 * a write of an item costs one write unit per started KB of the item (conditional writes that fail
 * cost the same), a strongly consistent read one read unit per started 4 KB of each item returned
 * and one per key found missing. What the engine really sends, so a change in how many items it
 * writes or how large they are shows in the units.
 */

/** A DynamoDB JSON attribute value ({"S": …}, {"B": base64}, {"M": {…}}, …). */
type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** DynamoDB's size of an attribute value (numbers ~1 byte per 2 significant digits + 1). */
function valueBytes(value: AttributeValue): number {
  const [type, v] = Object.entries(value)[0] ?? ["NULL", true];
  switch (type) {
    case "S":
      return Buffer.byteLength(String(v));
    case "N":
      return Math.ceil(String(v).replace(/^-/, "").replace(".", "").replace(/^0+/, "").length / 2) + 1;
    case "B":
      return Buffer.from(String(v), "base64").byteLength;
    case "BOOL":
    case "NULL":
      return 1;
    case "SS":
      return (v as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
    case "NS":
      return (v as string[]).reduce((n, s) => n + valueBytes({ N: s }), 0);
    case "BS":
      return (v as string[]).reduce((n, s) => n + Buffer.from(s, "base64").byteLength, 0);
    case "L":
      return 3 + (v as AttributeValue[]).reduce((n, x) => n + 1 + valueBytes(x), 0);
    case "M":
      return (
        3 + Object.entries(v as Item).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + valueBytes(x), 0)
      );
    default:
      return 0;
  }
}

/** An item's size as DynamoDB bills it: every attribute's name and value. */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce(
    (n, [name, value]) => n + Buffer.byteLength(name) + valueBytes(value),
    0,
  );
}

const writeUnits = (item: Item) => Math.max(1, Math.ceil(itemBytes(item) / 1024));
const readUnits = (item: Item) => Math.max(1, Math.ceil(itemBytes(item) / 4096));

export interface MeterReading {
  /** Requests by operation (PutItem, BatchGetItem, …). */
  requests: Record<string, number>;
  wcu: number;
  rcu: number;
}

export class DynamoMeter {
  private reading: MeterReading = { requests: {}, wcu: 0, rcu: 0 };

  /** Starts a new reading and returns the one so far. */
  take(): MeterReading {
    const reading = this.reading;
    this.reading = { requests: {}, wcu: 0, rcu: 0 };
    return reading;
  }

  /** Records one request: `target` is its X-Amz-Target header (`DynamoDB_20120810.PutItem`). */
  record(target: string, request: string, response: string): void {
    const operation = target.split(".").at(-1) ?? target;
    const r = this.reading;
    r.requests[operation] = (r.requests[operation] ?? 0) + 1;
    let input: Record<string, unknown>;
    let output: Record<string, unknown>;
    try {
      input = JSON.parse(request) as Record<string, unknown>;
      output = response === "" ? {} : (JSON.parse(response) as Record<string, unknown>);
    } catch {
      return;
    }
    switch (operation) {
      case "PutItem":
        r.wcu += writeUnits(input.Item as Item);
        break;
      case "UpdateItem":
      case "DeleteItem":
        r.wcu += 1;
        break;
      case "BatchWriteItem":
        for (const writes of Object.values(
          input.RequestItems as Record<string, { PutRequest?: { Item: Item } }[]>,
        ))
          for (const w of writes) r.wcu += w.PutRequest === undefined ? 1 : writeUnits(w.PutRequest.Item);
        break;
      case "GetItem":
        r.rcu += output.Item === undefined ? 1 : readUnits(output.Item as Item);
        break;
      case "BatchGetItem": {
        const asked = Object.values(input.RequestItems as Record<string, { Keys: unknown[] }>).reduce(
          (n, t) => n + t.Keys.length,
          0,
        );
        const found = Object.values((output.Responses ?? {}) as Record<string, Item[]>).flat();
        const left = Object.values(
          (output.UnprocessedKeys ?? {}) as Record<string, { Keys: unknown[] }>,
        ).reduce((n, t) => n + t.Keys.length, 0);
        r.rcu += found.reduce((n, item) => n + readUnits(item), 0) + Math.max(0, asked - found.length - left);
        break;
      }
      default:
        break;
    }
  }
}
