import { RAW_HEADERS } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { RowOutcome } from "../../src/domain/clean.js";
import { formatCsvRecord, openRawFile } from "../../src/domain/index.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import { engineEnvSchema } from "../../src/env.js";
import { Rng } from "../../src/generator/rng.js";
import { generateInMemory } from "./support.js";

/**
 * Whether the zod re-check after the hand checks (GPLAY_SCHEMA_CHECK) can be turned off: only if the
 * hand checks cover every rule of common's row schemas. On the generator's malformed rows and on
 * thousands of random single-field corruptions they do — except integer counts beyond 2^53 − 1,
 * which only the re-check rejects. So the engine keeps it on by default.
 */
async function outcomes(text: string, key: string, schemaCheck: boolean): Promise<string[]> {
  const file = await cleanRawFile([text], key, { schemaCheck });
  const out: string[] = [];
  for await (const batch of file.batches)
    for (const o of batch as RowOutcome[])
      out.push(o.kind === "quarantine" ? `quarantine:${o.record.reason}` : o.kind);
  return out;
}

const CORRUPTIONS = [
  "",
  "-1",
  "-0.5",
  "1.5",
  "x",
  " ",
  "1e3",
  "999999999999999",
  "0",
  "946684799999",
  "4102444800001",
  "Logged ",
  "logged",
  "NaN",
  "12, 13",
  "not-a-uuid",
  "ftp://example.com/x",
  "http://g1.globo.com/a b",
];

/** One corrupted copy of each row: a random field replaced, or a random list element replaced. */
function corrupt(records: string[][], rng: Rng): string[][] {
  return records.map((fields) => {
    const copy = [...fields];
    const f = rng.int(copy.length);
    const value = CORRUPTIONS[rng.int(CORRUPTIONS.length)] as string;
    const field = copy[f] as string;
    if (field.includes(", ") && rng.next() < 0.6) {
      const parts = field.split(", ");
      parts[rng.int(parts.length)] = value;
      copy[f] = parts.join(", ");
    } else copy[f] = value;
    return copy;
  });
}

describe("the hand checks cover every rule of the row schemas", () => {
  const { files } = generateInMemory({
    users: 120,
    seed: "schema-check",
    days: 1,
    malformed: true,
    heavyReaders: 1,
  });

  it("quarantines the generator's malformed rows for the same reasons with and without the re-check", async () => {
    let quarantined = 0;
    for (const [path, text] of files) {
      const [on, off] = [await outcomes(text, path, true), await outcomes(text, path, false)];
      expect(off).toEqual(on);
      quarantined += off.filter((o) => o.startsWith("quarantine")).length;
    }
    expect(quarantined).toBeGreaterThan(10);
  });

  it("gives the same outcome for every randomly corrupted row of every kind", async () => {
    const rng = new Rng("corruptions");
    let quarantined = 0;
    for (const [path, text] of files) {
      const raw = await openRawFile([text], path);
      const header = (await openRawFile([text], path)).header;
      const records: string[][] = [];
      for await (const batch of raw.batches) for (const r of batch) records.push(r.fields);
      for (let round = 0; round < 3; round++) {
        const mutated = [header, ...corrupt(records, rng)].map((f) => formatCsvRecord(f)).join("");
        const [on, off] = [await outcomes(mutated, path, true), await outcomes(mutated, path, false)];
        expect(off).toEqual(on);
        quarantined += off.filter((o) => o.startsWith("quarantine")).length;
      }
    }
    expect(quarantined).toBeGreaterThan(100);
  });

  it("keeps the re-check on by default: it alone quarantines counts beyond 2^53 − 1", async () => {
    const fields = [
      "a".repeat(64),
      "Logged",
      "1",
      "7269221c-15a2-44e0-aa52-df43630b5356",
      "1656634432357",
      "99999999999999999",
      "1000",
      "10.5",
      "1",
      "1656634432357",
    ];
    const text = [RAW_HEADERS.treino, fields].map((f) => formatCsvRecord(f)).join("");
    expect(await outcomes(text, "treino.csv", true)).toEqual(["quarantine:BAD_NUMBER"]);
    expect(engineEnvSchema.parse({ GPLAY_PREFIX: "gplay-test" }).GPLAY_SCHEMA_CHECK).toBe(true);
  });
});
