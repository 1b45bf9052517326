/**
 * Counts the S3 requests that pass through the keep-alive front (keep-alive-front.ts), by operation, and
 * the object bytes they move: the bodies GetObject returns (read) and the bodies PutObject sends
 * (written). What an erasure costs in I/O, beside its wall time on the emulator: a figure in lake bytes
 * holds on S3 too, where the emulator's pace does not. Path-style requests (the local clients use them).
 */

export interface S3Reading {
  /** Requests by operation (GetObject, PutObject, ListObjectVersions, DeleteObject, …). */
  requests: Record<string, number>;
  /** Object bytes returned by GetObject. */
  bytesRead: number;
  /** Object bytes sent by PutObject (the payload, without aws-chunked framing). */
  bytesWritten: number;
}

/** The S3 operation of a path-style request (method, `/bucket[/key][?query]`, and its headers). */
export function s3Operation(method: string, url: string, headers: Record<string, unknown> = {}): string {
  const parsed = new URL(url, "http://s3.local");
  const [, , ...key] = parsed.pathname.split("/");
  const onObject = key.join("/").length > 0;
  const query = parsed.searchParams;
  switch (method.toUpperCase()) {
    case "GET":
      if (onObject) return query.has("tagging") ? "GetObjectTagging" : "GetObject";
      if (query.has("versions")) return "ListObjectVersions";
      if (query.get("list-type") === "2") return "ListObjectsV2";
      if (query.has("versioning")) return "GetBucketVersioning";
      return query.size === 0 ? "ListObjects" : `GetBucket?${[...query.keys()].join("&")}`;
    case "HEAD":
      return onObject ? "HeadObject" : "HeadBucket";
    case "PUT":
      if (!onObject) return "PutBucket";
      if (query.has("partNumber")) return "UploadPart";
      return headers["x-amz-copy-source"] === undefined ? "PutObject" : "CopyObject";
    case "DELETE":
      return onObject ? "DeleteObject" : "DeleteBucket";
    case "POST":
      if (query.has("delete")) return "DeleteObjects";
      if (query.has("uploads")) return "CreateMultipartUpload";
      if (query.has("uploadId")) return "CompleteMultipartUpload";
      return "PostObject";
    default:
      return method.toUpperCase();
  }
}

export class S3Meter {
  private reading: S3Reading = { requests: {}, bytesRead: 0, bytesWritten: 0 };

  /** Starts a new reading and returns the one so far. */
  take(): S3Reading {
    const reading = this.reading;
    this.reading = { requests: {}, bytesRead: 0, bytesWritten: 0 };
    return reading;
  }

  /**
   * Records one request: its method, URL and headers, the bytes of its body as sent, and the bytes of
   * the answer's body. An aws-chunked body counts its decoded length (`x-amz-decoded-content-length`).
   */
  record(
    method: string,
    url: string,
    headers: Record<string, unknown>,
    sentBytes: number,
    receivedBytes: number,
    status: number,
  ): void {
    const operation = s3Operation(method, url, headers);
    const r = this.reading;
    r.requests[operation] = (r.requests[operation] ?? 0) + 1;
    if (status >= 300) return;
    if (operation === "GetObject") r.bytesRead += receivedBytes;
    if (operation === "PutObject" || operation === "UploadPart") {
      const decoded = Number(headers["x-amz-decoded-content-length"]);
      r.bytesWritten += Number.isFinite(decoded) && decoded >= 0 ? decoded : sentBytes;
    }
  }
}
