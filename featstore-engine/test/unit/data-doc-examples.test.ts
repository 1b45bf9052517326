/**
 * docs/data.md shows a valid and an invalid example row of each G1 file kind, each under a marker
 * `<!-- example: <kind> accepted|<REASON> -->`. This runs every one through the real cleaner, so the
 * page cannot claim a row is valid (or quarantined for a reason) that the engine disagrees with.
 */
import { readFileSync } from "node:fs";
import { QUARANTINE_REASONS } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { cleanRawFile } from "../../src/domain/raw-file.js";

const page = readFileSync(new URL("../../../docs/data.md", import.meta.url), "utf8");
const EXAMPLE = /<!-- example: (treino|itens|validacao) (accepted|[A-Z_]+) -->\s*```csv\n([\s\S]*?)```/g;
const examples = [...page.matchAll(EXAMPLE)].map((m) => ({
  kind: m[1] as string,
  expect: m[2] as string,
  text: m[3] as string,
}));

async function outcomes(text: string) {
  const file = await cleanRawFile([text], "docs/data.md");
  const rows = [];
  for await (const batch of file.batches) rows.push(...batch);
  return { kind: file.kind, rows };
}

describe("docs/data.md examples", () => {
  it("has a valid and an invalid example of every file kind", () => {
    for (const kind of ["treino", "itens", "validacao"]) {
      expect(examples.some((e) => e.kind === kind && e.expect === "accepted")).toBe(true);
      expect(examples.some((e) => e.kind === kind && e.expect !== "accepted")).toBe(true);
    }
  });

  it.each(examples.map((e) => [`${e.kind} ${e.expect}`, e] as const))(
    "the %s example is what the cleaner makes of it",
    async (_name, example) => {
      const { kind, rows } = await outcomes(example.text);
      expect(kind).toBe(example.kind);
      expect(rows).toHaveLength(1);
      const [row] = rows;
      if (example.expect === "accepted") expect(row?.kind).toBe(example.kind);
      else {
        expect(QUARANTINE_REASONS).toContain(example.expect);
        expect(row).toMatchObject({ kind: "quarantine", record: { reason: example.expect } });
      }
    },
  );
});
