import { RAW_HEADERS, type RawFileKind } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import type { RowOutcome } from "../../src/domain/clean.js";
import { formatCsvRecord } from "../../src/domain/csv.js";
import { cleanRawFile } from "../../src/domain/raw-file.js";
import { formatItensFields, formatTreinoFields, formatValidacaoFields } from "../../src/domain/raw-format.js";
import { Rng } from "../../src/generator/rng.js";

const rng = new Rng("header-mapping");
const T = 1_657_146_417_045;

/** Two valid rows of each kind, in the canonical column order. */
function rows(kind: RawFileKind): string[][] {
  return [0, 1].map((i) => {
    const pages = [rng.uuid(), rng.uuid()];
    if (kind === "treino")
      return formatTreinoFields({
        userId: rng.hex(64),
        userType: "Logged",
        history: pages,
        timestampHistory: [T, T + 1_000 * (i + 1)],
        numberOfClicksHistory: [1, 2],
        timeOnPageHistory: [1_000, 2_000],
        scrollPercentageHistory: [10.5, 20],
        pageVisitsCountHistory: [1, 1],
        timestampHistory_new: [T, T + 1_000 * (i + 1)],
      });
    if (kind === "validacao")
      return formatValidacaoFields({
        userId: rng.hex(64),
        userType: "Non-Logged",
        history: pages,
        timestampHistory: [T, T + 5],
      });
    return formatItensFields({
      page: pages[0] as string,
      url: `https://g1.globo.com/sp/noticia/2022/07/05/n-${i}.ghtml`,
      issued: T,
      modified: T + 1_000,
      title: `Title ${i}`,
      body: "Body text",
      caption: "Caption",
    });
  });
}

/** A file with the columns in `order` (indices into the canonical header). */
function file(kind: RawFileKind, order: readonly number[], data = rows(kind)): string {
  const header = RAW_HEADERS[kind];
  return [order.map((i) => header[i] as string), ...data.map((r) => order.map((i) => r[i] as string))]
    .map((fields) => formatCsvRecord(fields))
    .join("");
}

async function outcomes(text: string): Promise<RowOutcome[]> {
  const cleaned = await cleanRawFile([text], "raw/test.csv");
  const out: RowOutcome[] = [];
  for await (const batch of cleaned.batches) out.push(...batch);
  return out;
}

const KINDS: RawFileKind[] = ["treino", "itens", "validacao"];

describe("header mapping by name", () => {
  it.each(KINDS)(
    "reads a %s file whose columns come in another order exactly as the canonical one",
    async (kind) => {
      const data = rows(kind);
      const canonical = RAW_HEADERS[kind].map((_, i) => i);
      const reordered = [...canonical].reverse();
      const expected = await outcomes(file(kind, canonical, data));
      expect(expected.every((o) => o.kind === kind)).toBe(true);
      expect(await outcomes(file(kind, reordered, data))).toEqual(expected);
    },
  );

  it.each(KINDS)("refuses a %s file with a missing column, naming it", async (kind) => {
    const order = RAW_HEADERS[kind].map((_, i) => i).slice(1);
    await expect(outcomes(file(kind, order))).rejects.toMatchObject({
      code: "UNSUPPORTED_INPUT",
      message: expect.stringContaining(`missing column ${RAW_HEADERS[kind][0]}`),
    });
  });

  it.each(KINDS)("refuses a %s file with an unknown column, naming it", async (kind) => {
    const header = [...RAW_HEADERS[kind], "surprise"];
    const text = formatCsvRecord(header) + formatCsvRecord([...(rows(kind)[0] as string[]), "x"]);
    await expect(outcomes(text)).rejects.toMatchObject({
      code: "UNSUPPORTED_INPUT",
      message: expect.stringContaining("unknown column surprise"),
    });
  });

  it("refuses a header that names a column twice", async () => {
    const header = [...RAW_HEADERS.itens.slice(0, -1), "title"];
    await expect(outcomes(formatCsvRecord(header))).rejects.toMatchObject({
      code: "UNSUPPORTED_INPUT",
      message: expect.stringContaining("column title twice"),
    });
  });

  it("still quarantines a reordered row with the wrong field count instead of mis-mapping it", async () => {
    const order = [...RAW_HEADERS.itens.map((_, i) => i)].reverse();
    const text = file("itens", order) + formatCsvRecord(["only", "three", "fields"]);
    const out = await outcomes(text);
    expect(out.map((o) => (o.kind === "quarantine" ? o.record.reason : o.kind))).toEqual([
      "itens",
      "itens",
      "WRONG_FIELD_COUNT",
    ]);
  });
});
