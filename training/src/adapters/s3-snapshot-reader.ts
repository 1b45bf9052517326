/**
 * Reads snapshots from the processed bucket: the `latest` pointer, a manifest, and Parquet
 * partitions (decoded with common's codec). S3 errors become AppErrors.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  AppError,
  decodeProcessedParquet,
  latestSnapshotPointerSchema,
  type ProcessedDataset,
  type ProcessedRecords,
  processedKeys,
  snapshotManifestSchema,
} from "@gplay/common";
import type { SnapshotReader } from "../app/ports.js";

export class S3SnapshotReader implements SnapshotReader {
  constructor(private readonly s3: S3Client) {}

  private async bytes(bucket: string, key: string): Promise<Uint8Array> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (out.Body === undefined) throw new Error("empty body");
      return await out.Body.transformToByteArray();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket")
        throw new AppError(
          "NOT_FOUND",
          `s3://${bucket}/${key} does not exist: build a snapshot first (featstore-engine)`,
          { cause: error },
        );
      throw new AppError("UPSTREAM_UNAVAILABLE", `Could not read s3://${bucket}/${key}`, { cause: error });
    }
  }

  async latestManifestKey(bucket: string): Promise<string> {
    const text = Buffer.from(await this.bytes(bucket, processedKeys.latestSnapshot())).toString("utf8");
    return latestSnapshotPointerSchema.parse(JSON.parse(text)).manifestKey;
  }

  async readManifest(bucket: string, key: string) {
    const text = Buffer.from(await this.bytes(bucket, key)).toString("utf8");
    return snapshotManifestSchema.parse(JSON.parse(text));
  }

  async readPartition<D extends ProcessedDataset>(
    bucket: string,
    dataset: D,
    key: string,
  ): Promise<ProcessedRecords[D][]> {
    return decodeProcessedParquet(dataset, await this.bytes(bucket, key));
  }
}
