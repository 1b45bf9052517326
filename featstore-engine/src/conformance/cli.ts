/**
 * Format conformance script: parses every row of the real G1 sample files in a folder
 * (itens-sample.csv, treino-sample.csv, validacao-sample.csv) with the engine's own parser and checks
 * each is accepted and round-trips exactly. Usage: `conformance <dir>`; exits 1 on any failure.
 * The real rows carry no licence: they are read from the given folder, never copied.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { checkFolder } from "./check.js";

async function main(): Promise<void> {
  // Default: the shared real samples beside the checkout (`../shared/data/g1-real` from the repo root).
  const dir = process.argv[2] ?? fileURLToPath(new URL("../../../../shared/data/g1-real", import.meta.url));
  if (!existsSync(dir)) {
    console.error(
      `usage: conformance <dir with itens-sample.csv, treino-sample.csv, validacao-sample.csv> (${dir} not found)`,
    );
    process.exitCode = 2;
    return;
  }
  console.log(`conformance: checking ${dir}`);
  const results = await checkFolder(dir);
  for (const r of results) {
    console.log(
      `${r.failures.length === 0 ? "PASS" : "FAIL"} ${r.file} kind=${r.kind} rows=${r.rows} accepted=${r.accepted} roundTripped=${r.roundTripped} withDroppedEditorialIds=${r.withDroppedElements} bytesIdentical=${r.bytesIdentical}`,
    );
    if (Object.keys(r.contentTypes).length > 0)
      console.log(`  url content types: ${JSON.stringify(r.contentTypes)}`);
    for (const f of r.failures) console.log(`  - ${f}`);
  }
  const failed = results.filter((r) => r.failures.length > 0).length;
  console.log(
    failed === 0 ? "conformance: all rows parsed exactly" : `conformance: ${failed} file(s) failed`,
  );
  if (failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
