import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { AppError } from "@gplay/common";
import type { SourceReader } from "../app/ingest-file.js";

/** The pseudo-bucket name of local files in reports and source ids. */
export const LOCAL_FILE_BUCKET = "file";

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Reads raw files from the local disk for backfills (`cli ingest --file`). The "etag" is the file's
 * sha256, so the same bytes always map to the same source id and re-runs are no-ops.
 */
export class LocalFileSource implements SourceReader {
  async head(_bucket: string, key: string) {
    const path = resolve(key);
    try {
      const info = await stat(path);
      return { etag: await sha256Of(path), size: info.size };
    } catch (error) {
      throw new AppError("NOT_FOUND", `cannot read local file ${path}`, { cause: error });
    }
  }

  async read(bucket: string, key: string) {
    const { etag, size } = await this.head(bucket, key);
    return { body: createReadStream(resolve(key)) as AsyncIterable<Uint8Array>, etag, size };
  }
}
