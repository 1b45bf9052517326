import { describe, expect, it } from "@jest/globals";
import { S3Meter, s3Operation } from "../../src/s3-meter.js";

describe("the S3 meter", () => {
  it("names the operation of a path-style request", () => {
    expect(s3Operation("GET", "/bucket/raw/a.csv?versionId=v1&x-id=GetObject")).toBe("GetObject");
    expect(s3Operation("GET", "/bucket?versions&prefix=raw%2F")).toBe("ListObjectVersions");
    expect(s3Operation("GET", "/bucket/?list-type=2&prefix=raw")).toBe("ListObjectsV2");
    expect(s3Operation("PUT", "/bucket/processed/p.parquet?x-id=PutObject")).toBe("PutObject");
    expect(s3Operation("PUT", "/bucket/k", { "x-amz-copy-source": "/b/o" })).toBe("CopyObject");
    expect(s3Operation("DELETE", "/bucket/k?versionId=v1")).toBe("DeleteObject");
    expect(s3Operation("POST", "/bucket?delete")).toBe("DeleteObjects");
    expect(s3Operation("HEAD", "/bucket/k")).toBe("HeadObject");
  });

  it("counts object bytes read and written, the decoded length of an aws-chunked body, and no failed read", () => {
    const meter = new S3Meter();
    meter.record("GET", "/b/k", {}, 0, 1_000, 200);
    meter.record("GET", "/b/missing", {}, 0, 300, 404);
    meter.record("PUT", "/b/k", {}, 500, 0, 200);
    meter.record("PUT", "/b/k2", { "x-amz-decoded-content-length": "400" }, 480, 0, 200);
    meter.record("GET", "/b?versions", {}, 0, 9_999, 200);

    expect(meter.take()).toEqual({
      requests: { GetObject: 2, PutObject: 2, ListObjectVersions: 1 },
      bytesRead: 1_000,
      bytesWritten: 900,
    });
    expect(meter.take()).toEqual({ requests: {}, bytesRead: 0, bytesWritten: 0 });
  });
});
