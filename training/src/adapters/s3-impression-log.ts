/**
 * The impression log in the processed bucket: every Parquet partition under
 * `processed/impressions/`, decoded with common's codec. S3 errors become AppErrors.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { AppError, decodeProcessedParquet, type ImpressionRecord, processedKeys } from "@gplay/common";
import type { ImpressionLogSource } from "../app/ports.js";

export class S3ImpressionLog implements ImpressionLogSource {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async *records(): AsyncIterable<ImpressionRecord> {
    let token: string | undefined;
    do {
      const page = await this.#guard("listing the impression log", () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: processedKeys.partitionPrefix("impressions"),
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        if (key === undefined || !key.endsWith(".parquet")) continue;
        const bytes = await this.#guard(`reading ${key}`, async () => {
          const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
          return out.Body?.transformToByteArray();
        });
        if (bytes !== undefined) yield* await decodeProcessedParquet("impressions", bytes);
      }
      token = page.NextContinuationToken;
    } while (token !== undefined);
  }

  async #guard<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new AppError("UPSTREAM_UNAVAILABLE", `S3 failed ${what} in s3://${this.bucket}`, {
        cause: error,
      });
    }
  }
}
