import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { AppError, translateAwsError } from "@gplay/common";
import type { ObjectStore } from "../app/ports.js";

const unquote = (etag: string | undefined) => (etag ?? "").replaceAll('"', "");

/** ObjectStore over S3 (or the local emulator through the same client). */
export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async head(bucket: string, key: string) {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        etag: unquote(out.ETag),
        size: out.ContentLength ?? 0,
        metadata: out.Metadata ?? {},
        ...(out.VersionId === undefined ? {} : { versionId: out.VersionId }),
      };
    } catch (error) {
      throw translateAwsError(error, `reading metadata of s3://${bucket}/${key}`, { bucket, key });
    }
  }

  async read(bucket: string, key: string) {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (out.Body === undefined) throw new AppError("UPSTREAM_FAILED", `s3://${bucket}/${key} has no body`);
      return {
        body: out.Body as AsyncIterable<Uint8Array>,
        etag: unquote(out.ETag),
        size: out.ContentLength ?? 0,
      };
    } catch (error) {
      throw translateAwsError(error, `reading s3://${bucket}/${key}`, { bucket, key });
    }
  }

  async put(bucket: string, key: string, body: Uint8Array | string, contentType: string) {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
      return { etag: unquote(out.ETag) };
    } catch (error) {
      throw translateAwsError(error, `writing s3://${bucket}/${key}`, { bucket, key });
    }
  }

  async *list(bucket: string, prefix: string) {
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw translateAwsError(error, `listing s3://${bucket}/${prefix}`, { bucket, prefix });
      }
      for (const object of out.Contents ?? []) {
        if (object.Key !== undefined)
          yield { key: object.Key, size: object.Size ?? 0, etag: unquote(object.ETag) };
      }
      token = out.NextContinuationToken;
    } while (token !== undefined);
  }

  async delete(bucket: string, key: string) {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw translateAwsError(error, `deleting s3://${bucket}/${key}`, { bucket, key });
    }
  }
}
