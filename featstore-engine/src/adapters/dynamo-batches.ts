import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { AppError, retryWithBackoff, translateAwsError } from "@gplay/common";
import { forEachConcurrently } from "../app/concurrency.js";
import type { WriteReport } from "../app/ports.js";

export interface DynamoBatchOptions {
  /** Attempts for one batch when DynamoDB returns UnprocessedItems/Keys or throttles. */
  maxBatchAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Requests in flight at once (default 16). Each in-flight request holds keys no other one holds, so
   * one key is never written twice at the same time.
   */
  concurrency?: number;
}

export type Item = Record<string, unknown>;

export const BATCH_WRITE_MAX = 25;
export const BATCH_GET_MAX = 100;
/** Requests in flight by default (bench/src/ingest-bench.ts measures it on the emulator). */
export const DEFAULT_CONCURRENCY = 16;

export const emptyReport = (): WriteReport => ({ written: 0, skipped: 0, conflicts: 0, retries: 0 });

/** Throttling and server-side faults: safe to retry these writes (they are keyed and conditional). */
export function isThrottle(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "";
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return (
    name === "ProvisionedThroughputExceededException" ||
    name === "ThrottlingException" ||
    name === "RequestLimitExceeded" ||
    name === "TransactionConflictException" ||
    name === "InternalServerError"
  );
}

/**
 * Keyed batch reads and unconditional batch writes on any table (BatchGetItem of 100, BatchWriteItem
 * of 25), with UnprocessedKeys/Items and throttles retried with backoff and jitter, bounded.
 */
export class DynamoBatches {
  protected readonly maxBatchAttempts: number;
  protected readonly backoff: { baseDelayMs: number; maxDelayMs: number };
  protected readonly concurrency: number;

  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    options: DynamoBatchOptions = {},
  ) {
    this.maxBatchAttempts = options.maxBatchAttempts ?? 10;
    this.backoff = { baseDelayMs: options.baseDelayMs ?? 50, maxDelayMs: options.maxDelayMs ?? 5_000 };
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  }

  /** BatchWriteItem in chunks of 25 with one write per key, UnprocessedItems retried with backoff. */
  async batchPut(
    table: string,
    keyName: string,
    items: readonly Item[],
    onWritten?: (items: number) => void,
  ): Promise<WriteReport> {
    const report = emptyReport();
    const unique = new Map<unknown, Item>();
    for (const item of items) unique.set(item[keyName], item);
    const all = [...unique.values()];
    const batches: Item[][] = [];
    for (let i = 0; i < all.length; i += BATCH_WRITE_MAX) batches.push(all.slice(i, i + BATCH_WRITE_MAX));
    // Keys are unique across batches, so batches may run concurrently.
    await forEachConcurrently(batches, this.concurrency, async (batch) => {
      let pending = batch.map((Item) => ({ PutRequest: { Item } }));
      await retryWithBackoff(
        async () => {
          let out: BatchWriteCommandOutput;
          try {
            out = await this.documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          } catch (error) {
            if (isThrottle(error)) report.retries += 1;
            throw error;
          }
          const left = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
          report.written += pending.length - left.length;
          onWritten?.(pending.length - left.length);
          if (left.length > 0) {
            pending = left;
            report.retries += 1;
            throw new AppError(
              "RATE_LIMITED",
              `${left.length} items unprocessed by BatchWriteItem on ${table}`,
            );
          }
        },
        (error) => isThrottle(error) || (error instanceof AppError && error.code === "RATE_LIMITED"),
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      ).catch((error: unknown) => {
        throw error instanceof AppError
          ? new AppError("RATE_LIMITED", `${error.message} after ${this.maxBatchAttempts} attempts`, {
              cause: error,
              details: { table, written: report.written },
            })
          : translateAwsError(error, `batch-writing ${table}`, { table, written: report.written });
      });
    });
    return report;
  }

  /** BatchGetItem with UnprocessedKeys retried; returns the stored items by key. */
  async batchGet(table: string, keyName: string, keys: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending = keys.slice(i, i + BATCH_GET_MAX);
      await retryWithBackoff(
        async () => {
          let out: { items: Item[]; unprocessed: string[] };
          try {
            out = await this.batchGetOnce(table, keyName, pending);
          } catch (error) {
            throw isThrottle(error) ? error : translateAwsError(error, `batch-reading ${table}`, { table });
          }
          for (const item of out.items) found.set(String(item[keyName]), item);
          if (out.unprocessed.length > 0) {
            pending = out.unprocessed;
            throw new AppError(
              "RATE_LIMITED",
              `${out.unprocessed.length} keys unprocessed by BatchGetItem on ${table}`,
            );
          }
        },
        (error) => isThrottle(error) || (error instanceof AppError && error.code === "RATE_LIMITED"),
        { maxAttempts: this.maxBatchAttempts, ...this.backoff },
      );
    }
    return found;
  }

  /**
   * One strongly consistent BatchGetItem of at most 100 string keys: the items it returned and the keys
   * it left unprocessed (through the document client; a subclass may send it another way).
   */
  protected async batchGetOnce(
    table: string,
    keyName: string,
    keys: readonly string[],
  ): Promise<{ items: Item[]; unprocessed: string[] }> {
    const out: BatchGetCommandOutput = await this.documents.send(
      new BatchGetCommand({
        RequestItems: { [table]: { Keys: keys.map((k) => ({ [keyName]: k })), ConsistentRead: true } },
      }),
    );
    return {
      items: (out.Responses?.[table] ?? []) as Item[],
      unprocessed: ((out.UnprocessedKeys?.[table]?.Keys ?? []) as Item[]).map((k) => String(k[keyName])),
    };
  }
}
