import { detectRawFileKind, RAW_HEADERS, treinoRowSchema } from "@gplay/common";
import { describe, expect, it } from "@jest/globals";
import { type ClickRecord, treinoCsv } from "../../../src/domain/treino-csv.js";
import { AS_OF, pageId, userId } from "../../support/fixtures.js";

const click = (user: number, page: number, t: number, extra: Partial<ClickRecord> = {}): ClickRecord => ({
  userId: userId(user),
  userType: "Non-Logged",
  page: pageId(page),
  timestamp: AS_OF + t,
  timeOnPageMs: 30_000,
  scrollPercentage: 42.456,
  ...extra,
});

/** Splits a G1 treino line: quoted list fields keep their commas. */
function fields(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|([^,]+)/g)].map((m) => (m[1] ?? m[2] ?? "").trim());
}

describe("treinoCsv", () => {
  it("writes nothing for no clicks", () => {
    expect(treinoCsv([])).toBeUndefined();
  });

  it("writes the treino header and one row per reader, lists quoted only when several", () => {
    const csv = treinoCsv([click(1, 2, 2_000), click(2, 9, 0), click(1, 1, 1_000)]) as string;
    const [header, ...rows] = csv.trimEnd().split("\n");
    expect(detectRawFileKind((header as string).split(","))).toBe("treino");
    expect(rows).toHaveLength(2);
    const first = rows[0] as string;
    expect(first).toContain(`"${pageId(1)}, ${pageId(2)}"`);
    expect(rows[1]).toBe(
      [userId(2), "Non-Logged", "1", pageId(9), AS_OF, 1, 30000, 42.46, 1, AS_OF].join(","),
    );
  });

  it("produces rows that pass the ingestion's treino schema", () => {
    const csv = treinoCsv([click(1, 1, 0), click(1, 2, 1), click(1, 2, 1)]) as string;
    const row = fields(csv.trimEnd().split("\n")[1] as string);
    const record = Object.fromEntries(RAW_HEADERS.treino.map((name, i) => [name, row[i] as string]));
    const list = (v: string) => v.split(", ");
    const parsed = treinoRowSchema.safeParse({
      userId: record.userId,
      userType: record.userType,
      historySize: Number(record.historySize),
      history: list(record.history as string),
      timestampHistory: list(record.timestampHistory as string).map(Number),
      numberOfClicksHistory: list(record.numberOfClicksHistory as string).map(Number),
      timeOnPageHistory: list(record.timeOnPageHistory as string).map(Number),
      scrollPercentageHistory: list(record.scrollPercentageHistory as string).map(Number),
      pageVisitsCountHistory: list(record.pageVisitsCountHistory as string).map(Number),
      timestampHistory_new: list(record.timestampHistory_new as string).map(Number),
    });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.historySize).toBe(2);
  });
});
