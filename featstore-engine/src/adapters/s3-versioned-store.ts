import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { AppError, translateAwsError } from "@gplay/common";
import type { ObjectVersion, VersionedObjectStore } from "../app/erasure-ports.js";

const unquote = (etag: string | undefined) => (etag ?? "").replaceAll('"', "");

/**
 * Every version of every object (erasure reads and deletes old versions, so versioning keeps no copy).
 * On an unversioned bucket each object is one version, "null".
 */
export class S3VersionedStore implements VersionedObjectStore {
  constructor(private readonly s3: S3Client) {}

  async *listVersions(bucket: string, prefix: string): AsyncIterable<ObjectVersion> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      let out: ListObjectVersionsCommandOutput;
      try {
        out = await this.s3.send(
          new ListObjectVersionsCommand({
            Bucket: bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        );
      } catch (error) {
        throw translateAwsError(error, `listing versions of s3://${bucket}/${prefix}`, { bucket, prefix });
      }
      for (const v of out.Versions ?? [])
        if (v.Key !== undefined)
          yield {
            key: v.Key,
            versionId: v.VersionId ?? "null",
            etag: unquote(v.ETag),
            size: v.Size ?? 0,
            isLatest: v.IsLatest ?? true,
          };
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  async readVersion(bucket: string, key: string, versionId: string): Promise<Uint8Array> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId === "null" ? {} : { VersionId: versionId }),
        }),
      );
      if (out.Body === undefined) throw new AppError("UPSTREAM_FAILED", `s3://${bucket}/${key} has no body`);
      return await out.Body.transformToByteArray();
    } catch (error) {
      throw translateAwsError(error, `reading s3://${bucket}/${key} (version ${versionId})`, { bucket, key });
    }
  }

  async putWithMetadata(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata: Record<string, string>,
  ) {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          Metadata: metadata,
        }),
      );
      return { etag: unquote(out.ETag), versionId: out.VersionId ?? "null" };
    } catch (error) {
      throw translateAwsError(error, `writing s3://${bucket}/${key}`, { bucket, key });
    }
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
    try {
      await this.s3.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId === "null" ? {} : { VersionId: versionId }),
        }),
      );
    } catch (error) {
      throw translateAwsError(error, `deleting s3://${bucket}/${key} (version ${versionId})`, {
        bucket,
        key,
      });
    }
  }
}
