import { describe, expect, it } from "@jest/globals";
import { detectRawFileKind, RAW_HEADERS, treinoRowSchema } from "../../src/index.js";

describe("raw file contract", () => {
  it("detects each kind from its header, including a BOM, and nothing else", () => {
    expect(detectRawFileKind([...RAW_HEADERS.treino])).toBe("treino");
    expect(detectRawFileKind(["\uFEFFpage", ...RAW_HEADERS.itens.slice(1)])).toBe("itens");
    expect(detectRawFileKind([...RAW_HEADERS.validacao])).toBe("validacao");
    expect(detectRawFileKind(["a", "b"])).toBeUndefined();
  });

  it("rejects a treino row whose history and timestamps differ in length", () => {
    const result = treinoRowSchema.safeParse({
      userId: "a".repeat(64),
      userType: "Logged",
      historySize: 2,
      history: ["p1", "p2"],
      timestampHistory: [1_657_146_417_045],
      numberOfClicksHistory: [1, 1],
      timeOnPageHistory: [5000, 5000],
      scrollPercentageHistory: [1, 2],
      pageVisitsCountHistory: [1, 1],
      timestampHistory_new: [1_657_146_417_045, 1_657_146_417_046],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/^LIST_LENGTH_MISMATCH/);
  });
});
