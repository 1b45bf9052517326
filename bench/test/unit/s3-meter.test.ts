import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import { startKeepAliveFront } from "../../src/keep-alive-front.js";
import { S3Meter, s3Operation } from "../../src/s3-meter.js";

/** An upstream that answers GET with `size` bytes and everything else with an empty body. */
async function objectUpstream(size: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { connection: "close" });
      res.end(req.method === "GET" ? Buffer.alloc(size, 97) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function send(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let n = 0;
      res.on("data", (chunk: Buffer) => {
        n += chunk.byteLength;
      });
      res.on("end", () => resolve(n));
    });
    req.on("error", reject);
    req.end(body);
  });
}

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

describe("the keep-alive front with an S3 meter", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }, 10_000);

  it("records the bytes of the S3 bodies that pass through it, and leaves DynamoDB's to the other meter", async () => {
    const upstream = await objectUpstream(2_048);
    cleanups.push(
      () =>
        new Promise((resolve) => {
          upstream.server.closeAllConnections();
          upstream.server.close(() => resolve());
        }),
    );
    const s3 = new S3Meter();
    const front = await startKeepAliveFront(upstream.url, undefined, s3);
    cleanups.push(() => front.close());

    expect(await send(`${front.url}/bucket/raw/a.csv?versionId=v1`, "GET")).toBe(2_048);
    await send(`${front.url}/bucket/raw/a.csv`, "PUT", Buffer.alloc(700, 98));
    await send(`${front.url}/`, "POST", Buffer.from("{}"), { "x-amz-target": "DynamoDB_20120810.PutItem" });

    expect(s3.take()).toEqual({
      requests: { GetObject: 1, PutObject: 1 },
      bytesRead: 2_048,
      bytesWritten: 700,
    });
  }, 10_000);
});
