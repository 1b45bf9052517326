/**
 * Writes a synthetic G1 data set to disk.
 * Usage: generate --out DIR --users N --seed S --days D [--items N] [--heavy N] [--malformed]
 *        generate --world --out DIR --users N --seed S --days D [--items N] [--params JSON] [--malformed]
 * `--world` writes a world of the family (`worlds.ts`): its hidden dynamics are drawn from the seed
 * (`--params '{"affinity":0}'` fixes some) and written into expected.json as `params`.
 * Same arguments → same bytes. Also writes DIR/expected.json (the aggregates of what was written).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { type ExpectedAggregates, generateDataset, type OutputFile, type OutputSink } from "./generate.js";
import { generateWorld, type WorldParams } from "./worlds.js";

/** Buffered synchronous file writer: bounded memory, no back-pressure to manage. */
class BufferedFile implements OutputFile {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 17) this.flush(); // 128 KB per open file
  }
  private flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function diskSink(root: string): OutputSink {
  return {
    open(relativePath) {
      const path = join(root, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      return new BufferedFile(openSync(path, "w"));
    },
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      users: { type: "string", default: "1000" },
      seed: { type: "string", default: "gplay" },
      days: { type: "string", default: "3" },
      items: { type: "string" },
      malformed: { type: "boolean", default: false },
      heavy: { type: "string", default: "0" },
      world: { type: "boolean", default: false },
      params: { type: "string" },
    },
  });
  if (values.out === undefined || (values.params !== undefined && !values.world)) {
    console.error(
      "usage: generate --out DIR --users N --seed S --days D [--items N] [--heavy N] [--malformed]\n" +
        "       generate --world --out DIR --users N --seed S --days D [--items N] [--params JSON] [--malformed]",
    );
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const common = {
    users: Number(values.users),
    seed: values.seed,
    days: Number(values.days),
    malformed: values.malformed,
    ...(values.items === undefined ? {} : { items: Number(values.items) }),
  };
  const world = values.world
    ? generateWorld(
        { ...common, params: JSON.parse(values.params ?? "{}") as Partial<WorldParams> },
        diskSink(values.out),
      )
    : undefined;
  const expected: ExpectedAggregates =
    world ?? generateDataset({ ...common, heavyReaders: Number(values.heavy) }, diskSink(values.out));
  writeFileSync(join(values.out, "expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `wrote ${expected.files.length} files to ${values.out} in ${seconds.toFixed(1)} s: ${expected.totals.users} users, ${expected.totals.interactions} interactions, ${expected.totals.items} items, ${expected.totals.validationAccesses} validation accesses, ${expected.totals.rowsQuarantined} malformed rows`,
  );
  console.log(JSON.stringify(expected.stats));
  if (world !== undefined) console.log(JSON.stringify({ params: world.params, world: world.world }));
}

try {
  main();
} catch (error) {
  // Bad arguments (a RangeError naming them, bad --params JSON): a message, not a stack trace.
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
