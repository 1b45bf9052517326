/**
 * The live heap of one backfill group as `join` (featstore-engine/src/app/ingest-files.ts) holds it:
 * six consecutive full-scale treino files (≈1,000,000 interactions, the default budget), each
 * reader's rows packed, and, as before the fix, each file's reader-index tokens and the parser's
 * reader ids as keys ("before") or the ids copied with `ownCopy` and the tokens dropped ("after").
 * Run with --expose-gc (it forces collections to read the live set):
 *
 *   node --expose-gc --conditions=@gplay/source --import tsx bench/src/group-memory.ts before|after
 *
 * Needs the scale-1 data set (`bench:ingest --scale 1` generates it into .local/bench/data-1).
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { encodeInteractionLog } from "@gplay/common";
import { ensureData, ROOT } from "./engine-run.js";

interface Row {
  kind: string;
  user?: { userId: string };
  interactions?: Parameters<typeof encodeInteractionLog>[0];
}
const load = <T>(relative: string): Promise<T> =>
  import(pathToFileURL(path.join(ROOT, relative)).href) as Promise<T>;

async function main(): Promise<void> {
  const mode = process.argv[2];
  const gc = (globalThis as { gc?: () => void }).gc;
  if ((mode !== "before" && mode !== "after") || gc === undefined)
    throw new Error("usage: node --expose-gc … bench/src/group-memory.ts before|after");
  const { ReaderTokenCollector } = await load<{
    ReaderTokenCollector: new () => { push(chunk: Uint8Array): void; end(): Set<string> };
  }>("featstore-engine/src/domain/reader-index.ts");
  const { cleanRawFile } = await load<{
    cleanRawFile(
      body: AsyncIterable<Uint8Array>,
      key: string,
      options: { schemaCheck: boolean },
    ): Promise<{ batches: AsyncIterable<Row[]> }>;
  }>("featstore-engine/src/domain/index.ts");
  const { ownCopy } = await load<{ ownCopy(text: string): string }>(
    "featstore-engine/src/domain/own-copy.ts",
  );
  const dir = await ensureData(1);
  const heapMb = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1_048_576;
  };
  const base = heapMb();
  const readers = new Map<string, Uint8Array[]>();
  const tokensHeld: Set<string>[] = [];
  let interactions = 0;
  for (const day of ["02", "03", "04", "05", "06", "07"]) {
    const key = `treino/treino-2022-07-${day}.csv`;
    const tokens = new ReaderTokenCollector();
    async function* collect(): AsyncGenerator<Uint8Array> {
      for await (const chunk of createReadStream(path.join(dir, key))) {
        tokens.push(chunk as Uint8Array);
        yield chunk as Uint8Array;
      }
    }
    const cleaned = await cleanRawFile(collect(), key, { schemaCheck: true });
    const users = new Map<string, NonNullable<Row["interactions"]>[number][]>();
    for await (const batch of cleaned.batches)
      for (const row of batch) {
        if (row.kind !== "treino" || row.user === undefined || row.interactions === undefined) continue;
        const list = users.get(row.user.userId) ?? [];
        users.set(row.user.userId, list);
        list.push(...row.interactions);
        interactions += row.interactions.length;
      }
    const all = tokens.end();
    if (mode === "before") tokensHeld.push(all);
    for (const [userId, list] of users) {
      const parts = readers.get(userId);
      if (parts === undefined)
        readers.set(mode === "after" ? ownCopy(userId) : userId, [encodeInteractionLog(list)]);
      else parts.push(encodeInteractionLog(list));
    }
  }
  const live = heapMb() - base;
  console.log(
    `${mode}: ${interactions.toLocaleString("en-US")} interactions, ${readers.size.toLocaleString("en-US")} readers, ` +
      `group live heap ${live.toFixed(0)} MB (${tokensHeld.length} token sets held)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
