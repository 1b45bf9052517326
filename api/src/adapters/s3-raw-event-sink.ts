import { PutObjectCommand } from "@aws-sdk/client-s3";
import { AppError, RAW_PREFIX, translateAwsError } from "@gplay/common";
import type { RawEventSink } from "../app/ports.js";

export interface ObjectSender {
  send(command: PutObjectCommand): Promise<unknown>;
}

/** Writes event files into the raw bucket, where the regular ingestion picks them up. */
export class S3RawEventSink implements RawEventSink {
  constructor(
    private readonly client: ObjectSender,
    private readonly bucket: string,
  ) {}

  async putRawObject(key: string, body: string): Promise<void> {
    if (!key.startsWith(RAW_PREFIX))
      throw new AppError("INTERNAL", `Event files must go under ${RAW_PREFIX}, got ${key}`);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: "text/csv; charset=utf-8",
        }),
      );
    } catch (error) {
      throw translateAwsError(error, "Writing an events file to the raw bucket", {
        bucket: this.bucket,
        key,
      });
    }
  }
}
