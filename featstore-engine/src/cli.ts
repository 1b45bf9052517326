/**
 * Local runs and backfills of the featstore-engine:
 *   cli ingest --key raw/treino/day1.csv [--bucket B]   one object
 *   cli ingest --prefix raw/ [--bucket B]               every object under a prefix, in key order
 *   cli ingest --file ./treino.csv                       a local file, without S3
 *   cli snapshot                                          rebuild the snapshot tables and manifest
 *   cli erase --ids ID[,ID…] | --ids-file F [--pending]   erase readers from every store (docs/privacy.md)
 *   cli erase --pending                                   finish the ledger's requested erasures
 * Configuration comes from the same environment as the task (GPLAY_PREFIX, AWS_REGION, GPLAY_AWS_ENDPOINT…).
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AppError, parseEnv, RAW_PREFIX } from "@gplay/common";
import { LOCAL_FILE_BUCKET, LocalFileSource } from "./adapters/local-file-source.js";
import { buildSnapshot } from "./app/build-snapshot.js";
import { eraseReaders } from "./app/erase.js";
import { type IngestResult, ingestFile } from "./app/ingest-file.js";
import { ingestFiles } from "./app/ingest-files.js";
import { engineEnvSchema } from "./env.js";
import { createEngine } from "./wiring.js";

const USAGE =
  "usage: cli ingest (--key K | --prefix P | --file PATH) [--bucket B] [--no-snapshot] | cli snapshot | cli erase (--ids A,B | --ids-file F | --pending)";

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: "string" },
      prefix: { type: "string" },
      file: { type: "string" },
      bucket: { type: "string" },
      "no-snapshot": { type: "boolean", default: false },
      ids: { type: "string" },
      "ids-file": { type: "string" },
      pending: { type: "boolean", default: false },
    },
  });
  const command = positionals[0];
  const env = parseEnv(engineEnvSchema, process.env);
  const engine = createEngine(env);
  try {
    if (command === "snapshot") {
      const result = await buildSnapshot(engine.snapshot);
      console.log(
        JSON.stringify({
          snapshot: result.status,
          ...(result.status === "built" ? { snapshotId: result.manifest.snapshotId } : {}),
        }),
      );
      return;
    }
    if (command === "erase") {
      const ids = [
        ...(values.ids?.split(",") ?? []),
        ...(values["ids-file"] === undefined
          ? []
          : (await readFile(values["ids-file"], "utf8")).split(/\s+/)),
      ]
        .map((id) => id.trim())
        .filter((id) => id.length > 0);
      const result = await eraseReaders(engine.erase, { userIds: ids, pending: values.pending });
      // Counts only: the audit record never holds an id; unknown ids are the caller's own input.
      console.log(JSON.stringify(result));
      return;
    }
    if (command !== "ingest") throw new AppError("VALIDATION_FAILED", USAGE);
    const bucket = values.bucket ?? engine.ingest.buckets.raw;
    const results: IngestResult[] = [];
    // Each result is printed as its object is committed (long backfills show what is done).
    const done = (r: IngestResult) => {
      results.push(r);
      console.log(JSON.stringify(r));
    };
    if (values.file !== undefined) {
      done(
        await ingestFile(
          engine.ingest,
          { bucket: LOCAL_FILE_BUCKET, key: values.file },
          new LocalFileSource(),
        ),
      );
    } else if (values.key !== undefined) {
      done(await ingestFile(engine.ingest, { bucket, key: values.key }));
    } else if (values.prefix !== undefined) {
      const keys: string[] = [];
      for await (const object of engine.ingest.objects.list(bucket, values.prefix ?? RAW_PREFIX))
        keys.push(object.key);
      // Validation of the next object overlaps the writes of the current one; commits stay in key order.
      await ingestFiles(
        engine.ingest,
        keys.sort().map((key) => ({ bucket, key })),
        undefined,
        done,
      );
    } else throw new AppError("VALIDATION_FAILED", USAGE);
    if (!values["no-snapshot"] && results.some((r) => r.status === "ingested")) {
      const snapshot = await buildSnapshot(engine.snapshot);
      console.log(JSON.stringify({ snapshot: snapshot.status }));
    }
  } finally {
    engine.close();
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exitCode = 1;
});
