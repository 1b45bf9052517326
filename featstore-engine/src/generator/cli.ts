/**
 * Writes a synthetic G1 data set to disk.
 * Usage: generate --out DIR --users N --seed S --days D [--items N] [--heavy N] [--malformed]
 * Same arguments → same bytes. Also writes DIR/expected.json (the aggregates of what was written).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { generateDataset, type OutputFile, type OutputSink } from "./generate.js";

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
    },
  });
  if (values.out === undefined) {
    console.error(
      "usage: generate --out DIR --users N --seed S --days D [--items N] [--heavy N] [--malformed]",
    );
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const expected = generateDataset(
    {
      users: Number(values.users),
      seed: values.seed,
      days: Number(values.days),
      malformed: values.malformed,
      heavyReaders: Number(values.heavy),
      ...(values.items === undefined ? {} : { items: Number(values.items) }),
    },
    diskSink(values.out),
  );
  writeFileSync(join(values.out, "expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `wrote ${expected.files.length} files to ${values.out} in ${seconds.toFixed(1)} s: ${expected.totals.users} users, ${expected.totals.interactions} interactions, ${expected.totals.items} items, ${expected.totals.validationAccesses} validation accesses, ${expected.totals.rowsQuarantined} malformed rows`,
  );
  console.log(JSON.stringify(expected.stats));
}

main();
