/**
 * A DynamoDB stand-in for the ingest benchmark at full scale (issue #18, item 4): the emulator writes
 * ~250–350 items/s, so a full-scale ingest (≈1.7 M conditional puts) against it takes hours. The
 * keep-alive front (keep-alive-front.ts) hands this stand-in the DynamoDB *data-plane* requests it
 * sees and forwards everything else (S3, and DynamoDB's control plane: CreateTable, DescribeTable,
 * DeleteTable, TTL) to the emulator; the engine keeps its real code path (same SDK clients, same
 * requests, same signing), only the answers come from here, at once.
 *
 * What it emulates, enough for the engine on fresh tables:
 * - tables are the emulator's: a table's key schema is read once from the emulator (DescribeTable),
 *   an unknown table answers ResourceNotFoundException, and its items are dropped when the table is
 *   deleted through the front;
 * - PutItem (ConditionExpression evaluated: `attribute_exists(a)`, `attribute_not_exists(a)`,
 *   `a = b`, `a <> b`, joined by AND; a failed one answers ConditionalCheckFailedException),
 *   UpdateItem (an UpdateExpression of `SET a = :v[, b = :w …]` only, the same conditions; an absent
 *   item is created from its key, as DynamoDB does), GetItem, DeleteItem, BatchGetItem (every key
 *   answered, no UnprocessedKeys), BatchWriteItem (put and delete requests, no UnprocessedItems), Scan
 *   (1 MB pages as DynamoDB counts item sizes, `Limit`, `ExclusiveStartKey`, a FilterExpression of
 *   the condition grammar above); a ProjectionExpression of top-level names (`a, #b`) on GetItem,
 *   BatchGetItem and Scan (pages are still counted on whole items, as DynamoDB does);
 * - items are stored as sent (their DynamoDB JSON) and returned as stored, so a reader written in one
 *   group is read back and merged by the next as on AWS.
 *
 * What it does not: any other operation or parameter (Query, transactions, nested paths in a
 * projection, update actions other than SET of a value (REMOVE, ADD, DELETE, `if_not_exists`, `+`),
 * ReturnValues other than NONE, …) answers a ValidationException naming it, so a run that needs one
 * fails loudly instead of measuring something else; no throttling, no capacity limits, no item size
 * limit, no latency, no signature check (the emulator checks none either). The request and response
 * bodies are real, so the front's meter (dynamo-meter.ts) counts units from them as against the emulator.
 */
import { itemBytes } from "./dynamo-meter.js";

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

export interface StandInAnswer {
  status: number;
  body: string;
}

/** Reads a table's key attribute names from the emulator; undefined when the table does not exist. */
export type DescribeKeys = (table: string) => Promise<string[] | undefined>;

interface Table {
  keys: string[];
  /** The stored item's DynamoDB JSON, by its key. */
  items: Map<string, string>;
}

/** The data-plane operations; the front forwards every other DynamoDB request to the emulator. */
export const DATA_PLANE = new Set([
  "GetItem",
  "PutItem",
  "DeleteItem",
  "UpdateItem",
  "BatchGetItem",
  "BatchWriteItem",
  "Scan",
  "Query",
  "TransactGetItems",
  "TransactWriteItems",
  "ExecuteStatement",
  "BatchExecuteStatement",
  "ExecuteTransaction",
]);

/** Parameters each emulated operation accepts (anything else is refused, see the file comment). */
const ACCEPTED: Record<string, ReadonlySet<string>> = {
  GetItem: new Set([
    "TableName",
    "Key",
    "ConsistentRead",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ReturnConsumedCapacity",
  ]),
  PutItem: new Set([
    "TableName",
    "Item",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnConsumedCapacity",
  ]),
  UpdateItem: new Set([
    "TableName",
    "Key",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnConsumedCapacity",
  ]),
  DeleteItem: new Set([
    "TableName",
    "Key",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnConsumedCapacity",
  ]),
  BatchGetItem: new Set(["RequestItems", "ReturnConsumedCapacity"]),
  BatchWriteItem: new Set(["RequestItems", "ReturnConsumedCapacity"]),
  Scan: new Set([
    "TableName",
    "ExclusiveStartKey",
    "Limit",
    "FilterExpression",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ConsistentRead",
    "ReturnConsumedCapacity",
  ]),
};

/** The fields of one table's request inside a BatchGetItem the stand-in emulates. */
const BATCH_GET_FIELDS = new Set([
  "Keys",
  "ConsistentRead",
  "ProjectionExpression",
  "ExpressionAttributeNames",
]);

const PAGE_BYTES = 1024 * 1024;

class Refused extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}
const validation = (message: string) => new Refused("com.amazon.coral.validate#ValidationException", message);

/** Attribute values are equal when of the same type and value (numbers compared as numbers). */
function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const [ta, va] = Object.entries(a)[0] ?? [];
  const [tb, vb] = Object.entries(b)[0] ?? [];
  if (ta !== tb) return false;
  if (ta === "N") return Number(va) === Number(vb);
  return JSON.stringify(va) === JSON.stringify(vb);
}

/** A top-level attribute name: a `#placeholder` resolved, or a plain name. */
function attributeName(token: string, names: Record<string, string>): string {
  if (token.startsWith("#")) {
    const resolved = names[token];
    if (resolved === undefined) throw validation(`expression attribute name ${token} is not defined`);
    return resolved;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(token))
    throw validation(`the stand-in does not emulate the operand "${token}"`);
  return token;
}

/** The item cut to a ProjectionExpression's top-level names (`a, #b`); the whole item without one. */
export function project(item: Item, projection: unknown, names: Record<string, string> = {}): Item {
  if (typeof projection !== "string") return item;
  const kept: Item = {};
  for (const token of projection.split(",")) {
    const name = attributeName(token.trim(), names);
    const value = item[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/**
 * Applies an UpdateExpression of `SET a = :v[, #b = :w …]` to `item` (a copy is returned); any other
 * action or operand is refused (see the file comment).
 */
export function applyUpdate(
  item: Item,
  expression: string,
  names: Record<string, string> = {},
  values: Record<string, AttributeValue> = {},
): Item {
  const set = /^\s*SET\s+(.+)$/is.exec(expression);
  if (set === null) throw validation(`the stand-in does not emulate the update "${expression}"`);
  const updated: Item = { ...item };
  for (const action of (set[1] as string).split(",")) {
    const assignment = /^\s*(\S+)\s*=\s*(:[A-Za-z0-9_]+)\s*$/.exec(action);
    if (assignment === null) throw validation(`the stand-in does not emulate the update "${action.trim()}"`);
    const value = values[assignment[2] as string];
    if (value === undefined) throw validation(`expression attribute value ${assignment[2]} is not defined`);
    updated[attributeName(assignment[1] as string, names)] = value;
  }
  return updated;
}

/**
 * Evaluates the condition grammar above against `item` (undefined: no stored item). Names are
 * `#placeholders` or plain top-level attribute names; values `:placeholders` or names.
 */
export function evaluateCondition(
  expression: string,
  item: Item | undefined,
  names: Record<string, string> = {},
  values: Record<string, AttributeValue> = {},
): boolean {
  const name = (token: string): string => attributeName(token, names);
  const operand = (token: string): AttributeValue | undefined => {
    if (token.startsWith(":")) {
      const value = values[token];
      if (value === undefined) throw validation(`expression attribute value ${token} is not defined`);
      return value;
    }
    return item?.[name(token)];
  };
  return expression.split(/\s+AND\s+/i).every((clause) => {
    const text = clause.trim();
    const fn = /^(attribute_exists|attribute_not_exists)\s*\(\s*([^)\s]+)\s*\)$/i.exec(text);
    if (fn !== null) {
      const present = item !== undefined && item[name(fn[2] as string)] !== undefined;
      return (fn[1] as string).toLowerCase() === "attribute_exists" ? present : !present;
    }
    const cmp = /^(\S+)\s*(=|<>)\s*(\S+)$/.exec(text);
    if (cmp === null) throw validation(`the stand-in does not emulate the condition "${text}"`);
    const equal = sameValue(operand(cmp[1] as string), operand(cmp[3] as string));
    return cmp[2] === "=" ? equal : !equal;
  });
}

/** The stand-in's store and request handling (see the file comment). */
export class DynamoStandIn {
  private readonly tables = new Map<string, Table>();

  /** Items stored, by table (for the benchmark's report). */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.tables].map(([name, t]) => [name, t.items.size]));
  }

  /** Forgets a table's items (the front calls it when the table is deleted on the emulator). */
  dropTable(name: string): void {
    this.tables.delete(name);
  }

  /** Answers one data-plane request (`operation` as in X-Amz-Target, `body` its JSON). */
  async handle(operation: string, body: string, describe: DescribeKeys): Promise<StandInAnswer> {
    try {
      const input = JSON.parse(body) as Record<string, unknown>;
      const accepted = ACCEPTED[operation];
      if (accepted === undefined) throw validation(`the stand-in does not emulate ${operation}`);
      for (const key of Object.keys(input))
        if (!accepted.has(key)) throw validation(`the stand-in does not emulate ${operation}'s ${key}`);
      if (input.ReturnValues !== undefined && input.ReturnValues !== "NONE")
        throw validation(`the stand-in does not emulate ReturnValues ${String(input.ReturnValues)}`);
      return { status: 200, body: JSON.stringify(await this.run(operation, input, describe)) };
    } catch (error) {
      const refused =
        error instanceof Refused
          ? error
          : validation(`stand-in: ${error instanceof Error ? error.message : String(error)}`);
      return { status: 400, body: JSON.stringify({ __type: refused.type, message: refused.message }) };
    }
  }

  private async table(name: unknown, describe: DescribeKeys): Promise<Table> {
    if (typeof name !== "string") throw validation("TableName is required");
    const known = this.tables.get(name);
    if (known !== undefined) return known;
    const keys = await describe(name);
    if (keys === undefined)
      throw new Refused(
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        `Requested resource not found: Table: ${name} not found`,
      );
    const table = this.tables.get(name) ?? { keys, items: new Map<string, string>() };
    this.tables.set(name, table);
    return table;
  }

  private static keyOf(table: Table, item: Item): string {
    const parts = table.keys.map((k) => {
      const value = item[k];
      if (value === undefined) throw validation(`the item lacks its key attribute ${k}`);
      return JSON.stringify(value);
    });
    return parts.join("\u0000");
  }

  private static check(input: Record<string, unknown>, stored: string | undefined): void {
    if (typeof input.ConditionExpression !== "string") return;
    const holds = evaluateCondition(
      input.ConditionExpression,
      stored === undefined ? undefined : (JSON.parse(stored) as Item),
      input.ExpressionAttributeNames as Record<string, string> | undefined,
      input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
    );
    if (!holds)
      throw new Refused(
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "The conditional request failed",
      );
  }

  private async run(
    operation: string,
    input: Record<string, unknown>,
    describe: DescribeKeys,
  ): Promise<Record<string, unknown>> {
    switch (operation) {
      case "PutItem": {
        const table = await this.table(input.TableName, describe);
        const item = input.Item as Item;
        const key = DynamoStandIn.keyOf(table, item);
        DynamoStandIn.check(input, table.items.get(key));
        table.items.set(key, JSON.stringify(item));
        return {};
      }
      case "UpdateItem": {
        const table = await this.table(input.TableName, describe);
        const keyItem = input.Key as Item;
        const key = DynamoStandIn.keyOf(table, keyItem);
        const stored = table.items.get(key);
        DynamoStandIn.check(input, stored);
        if (typeof input.UpdateExpression !== "string")
          throw validation("the stand-in does not emulate an UpdateItem without an UpdateExpression");
        const updated = applyUpdate(
          stored === undefined ? keyItem : (JSON.parse(stored) as Item),
          input.UpdateExpression,
          input.ExpressionAttributeNames as Record<string, string> | undefined,
          input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
        );
        for (const k of table.keys)
          if (!sameValue(updated[k], keyItem[k]))
            throw validation(`an update cannot change the key attribute ${k}`);
        table.items.set(key, JSON.stringify(updated));
        return {};
      }
      case "DeleteItem": {
        const table = await this.table(input.TableName, describe);
        const key = DynamoStandIn.keyOf(table, input.Key as Item);
        DynamoStandIn.check(input, table.items.get(key));
        table.items.delete(key);
        return {};
      }
      case "GetItem": {
        const table = await this.table(input.TableName, describe);
        const stored = table.items.get(DynamoStandIn.keyOf(table, input.Key as Item));
        const names = input.ExpressionAttributeNames as Record<string, string> | undefined;
        // Projected even when absent, so a projection it cannot emulate is refused either way.
        const item = project(
          stored === undefined ? {} : (JSON.parse(stored) as Item),
          input.ProjectionExpression,
          names,
        );
        return stored === undefined ? {} : { Item: item };
      }
      case "BatchGetItem": {
        const responses: Record<string, Item[]> = {};
        for (const [name, request] of Object.entries(
          input.RequestItems as Record<
            string,
            { Keys: Item[]; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> }
          >,
        )) {
          for (const field of Object.keys(request))
            if (!BATCH_GET_FIELDS.has(field))
              throw validation(`the stand-in does not emulate BatchGetItem's ${field}`);
          const table = await this.table(name, describe);
          const found: Item[] = [];
          for (const key of request.Keys) {
            const stored = table.items.get(DynamoStandIn.keyOf(table, key));
            if (stored !== undefined)
              found.push(
                project(
                  JSON.parse(stored) as Item,
                  request.ProjectionExpression,
                  request.ExpressionAttributeNames,
                ),
              );
          }
          responses[name] = found;
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case "BatchWriteItem": {
        const writes = input.RequestItems as Record<
          string,
          { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]
        >;
        for (const [name, requests] of Object.entries(writes)) {
          const table = await this.table(name, describe);
          for (const request of requests) {
            if (request.PutRequest !== undefined)
              table.items.set(
                DynamoStandIn.keyOf(table, request.PutRequest.Item),
                JSON.stringify(request.PutRequest.Item),
              );
            else if (request.DeleteRequest !== undefined)
              table.items.delete(DynamoStandIn.keyOf(table, request.DeleteRequest.Key));
          }
        }
        return { UnprocessedItems: {} };
      }
      case "Scan":
        return this.scan(await this.table(input.TableName, describe), input);
      default:
        throw validation(`the stand-in does not emulate ${operation}`);
    }
  }

  /** One page in insertion order: up to `Limit` items scanned or 1 MB of them, as DynamoDB pages. */
  private scan(table: Table, input: Record<string, unknown>): Record<string, unknown> {
    const limit = typeof input.Limit === "number" ? input.Limit : Number.POSITIVE_INFINITY;
    const after =
      input.ExclusiveStartKey === undefined
        ? undefined
        : DynamoStandIn.keyOf(table, input.ExclusiveStartKey as Item);
    const items: Item[] = [];
    let scanned = 0;
    let bytes = 0;
    let started = after === undefined;
    let last: Item | undefined;
    let more = false;
    for (const [key, stored] of table.items) {
      if (!started) {
        started = key === after;
        continue;
      }
      if (scanned >= limit || bytes >= PAGE_BYTES) {
        more = true;
        break;
      }
      const item = JSON.parse(stored) as Item;
      scanned++;
      bytes += itemBytes(item);
      last = item;
      if (
        typeof input.FilterExpression !== "string" ||
        evaluateCondition(
          input.FilterExpression,
          item,
          input.ExpressionAttributeNames as Record<string, string> | undefined,
          input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
        )
      )
        items.push(
          project(item, input.ProjectionExpression, input.ExpressionAttributeNames as Record<string, string>),
        );
    }
    return {
      Items: items,
      Count: items.length,
      ScannedCount: scanned,
      ...(more && last !== undefined
        ? { LastEvaluatedKey: Object.fromEntries(table.keys.map((k) => [k, last[k]])) }
        : {}),
    };
  }
}
